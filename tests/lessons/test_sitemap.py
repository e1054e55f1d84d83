"""/sitemap.xml and /robots.txt: only what readers can see, with last-modified dates; pages
nobody should find in a search engine say noindex."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.robotparser import RobotFileParser

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from tests.factories import make_lesson, make_series, make_staff

pytestmark = pytest.mark.django_db
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def xml(client, url) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return ET.fromstring(response.content)  # noqa: S314 (our own output)


def files(client) -> list[str]:
    """The addresses of the files /sitemap.xml, an index, lists."""
    index = xml(client, "/sitemap.xml")
    assert index.tag == f"{NS}sitemapindex"
    return [entry.findtext(f"{NS}loc") for entry in index]


def entries(client) -> list[ET.Element]:
    return [url for file in files(client) for url in xml(client, file)]


def sitemap(client) -> dict[str, str]:
    return {url.findtext(f"{NS}loc"): url.findtext(f"{NS}lastmod") for url in entries(client)}


@pytest.fixture
def site(series, local_cache):
    make_lesson(series, number=1, slug="free")
    make_lesson(series, number=2, slug="premium", access="premium")
    make_lesson(series, number=3, slug="draft", status="draft")
    make_lesson(series, number=4, slug="later", published_at=timezone.now() + timedelta(days=1))
    hidden = make_series(slug="hidden", is_published=False)
    make_lesson(hidden, slug="in-hidden")
    return series


def test_the_sitemap_lists_home_series_and_published_lessons_in_both_languages(client, site):
    urls = sitemap(client)
    base = "http://testserver"
    pages = ["/", "/series/ai/", "/series/ai/free/", "/series/ai/premium/"]
    assert set(urls) == {f"{base}{prefix}{page}" for page in pages for prefix in ("", "/id")}
    today = timezone.now().date().isoformat()
    assert set(urls.values()) == {today}


def test_each_entry_names_the_page_in_every_language(client, site):
    alternates = {
        url.findtext(f"{NS}loc"): {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
        }
        for url in entries(client)
    }
    lesson = {
        "en": "http://testserver/series/ai/free/",
        "id": "http://testserver/id/series/ai/free/",
        "x-default": "http://testserver/series/ai/free/",
    }
    assert alternates[lesson["en"]] == alternates[lesson["id"]] == lesson


def test_it_is_kept_no_longer_than_until_the_next_scheduled_lesson_is_due(
    client, site, local_cache, monkeypatch
):
    """A lesson coming due is not a write: the cached sitemap expires by then instead."""
    backend = caches["default"]
    kept = []
    real_set = backend.set

    def spy(key, value, timeout=None):
        kept.append(timeout)
        real_set(key, value, timeout)

    monkeypatch.setattr(backend, "set", spy)
    sitemap(client)
    due = site.lessons.get(slug="later").published_at - timezone.now()
    assert kept and 0 < max(kept) <= due.total_seconds()


def test_the_index_lists_one_file_per_section(client, site):
    assert files(client) == [
        f"http://testserver/sitemap-{section}.xml" for section in ("home", "series", "lessons")
    ]


def test_a_section_longer_than_a_file_holds_is_split_into_pages(
    client, site, monkeypatch, django_assert_max_num_queries
):
    """A file holds at most SITEMAP_URLS addresses (each page in each language counts)."""
    from lessons import sitemaps

    monkeypatch.setattr(sitemaps.LessonSitemap, "limit", 3)
    assert files(client)[2:] == [
        "http://testserver/sitemap-lessons.xml",
        "http://testserver/sitemap-lessons.xml?p=2",
    ]
    pages = [xml(client, url) for url in files(client)[2:]]
    assert [len(page) for page in pages] == [3, 1]
    assert client.get("/sitemap-lessons.xml?p=3").status_code == 404
    assert client.get("/sitemap-lessons.xml?p=x").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-lessons.xml", "/sitemap-series.xml"])
def test_the_sitemap_is_cached_and_answers_304(site, django_assert_num_queries, url):
    client = Client()
    first = client.get(url)
    with django_assert_num_queries(0):
        again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://testserver/sitemap.xml" in response.text
    assert re.search(r"^User-agent: \*$", response.text, re.MULTILINE)
    # The admin's address is not given away (ADMIN_PATH may be a secret path).
    assert "admin" not in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=retrieval",
        "/id/search/?q=retrieval",
        "/accounts/login/",
        "/id/access/redeem/",
        "/access/mine/",
        "/access/feed/a-private-feeds-token/",
        "/admin/",
    ],
)
def test_robots_txt_lets_crawlers_read_the_noindex_of_pages_not_to_be_indexed(client, url):
    """A page robots.txt disallows is never fetched, so its noindex is never read and its
    address can still be listed from links elsewhere: every noindex page may be fetched."""
    robots = RobotFileParser()
    robots.parse(client.get("/robots.txt").text.splitlines())
    assert robots.can_fetch("Googlebot", f"http://testserver{url}")
    assert client.get(url)["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/signup/", "/access/redeem/", "/access/mine/", "/admin/"],
)
def test_account_access_and_admin_pages_carry_noindex(client, url):
    response = client.get(url)
    assert response["X-Robots-Tag"] == "noindex"
    if response.status_code == 200:
        assert '<meta name="robots" content="noindex">' in response.text


def test_a_staff_preview_of_a_draft_carries_noindex(client, series):
    client.force_login(make_staff(is_superuser=True))
    staff_client = client
    draft = make_lesson(series, status="draft")
    response = staff_client.get(draft.get_absolute_url())
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in response.text
    preview = staff_client.get(f"/admin/lessons/lesson/{draft.pk}/preview/")
    assert preview["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in preview.text


def test_published_pages_do_not(client, site):
    for url in ["/", "/series/ai/", "/series/ai/free/", "/series/ai/premium/"]:
        response = client.get(url)
        assert "X-Robots-Tag" not in response, url
        assert "noindex" not in response.text, url
