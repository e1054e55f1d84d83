"""Never leak: a reader without access receives no byte of the text after the teaser cut,
from any response the site can give."""

import re
from urllib.parse import urljoin, urlparse

import pytest
from django.test import Client

from access import services
from tests.access.helpers import REDEEM
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

MARKERS = [
    "ZEBRA-QUASAR-PRIVATE-ONE",
    "ZEBRA-QUASAR-PRIVATE-TWO",
    "ZEBRA-QUASAR-PRIVATE-THREE",
    "ZEBRA-QUASAR-PRIVATE-FOUR",
]
HREF = re.compile(r'(?:href|action|src)="([^"#]+)')


@pytest.fixture
def site(series):
    """A series with premium lessons whose private parts carry marker sentences."""
    filler = "Public opening words for the teaser. " * 12
    make_lesson(series, number=1, slug="free", access="free", body="Free lesson text.")
    make_lesson(
        series,
        number=2,
        slug="marked",
        access="premium",
        summary="A public summary.",
        body=(
            f"{filler}\n\n<!-- more -->\n\n## {MARKERS[0]}\n\nText with a note.[^1]\n\n"
            f"[^1]: Footnote.\n\n```mermaid\nflowchart LR\n A[x] --> B[y]\n```\n"
        ),
    )
    make_lesson(
        series,
        number=3,
        slug="unmarked",
        access="premium",
        body=f"{filler}\n\n{filler}\n\n{filler}\n\nHere is {MARKERS[1]} in the fourth block.\n\n"
        f"- a list with {MARKERS[2]}\n",
    )
    make_lesson(
        series,
        number=4,
        slug="short",
        access="premium",
        body=f"One short intro.\n\nThe rest: {MARKERS[3]}.",
    )
    other = make_series(title="Another series")
    make_lesson(other, number=1, access="premium", body="Intro.\n\n<!-- more -->\n\nOther.")
    return series


def crawl(client: Client, start: list[str]) -> dict[str, str]:
    """Follow every same-site link from `start` (admin and log-out excluded)."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue:
        url = queue.pop()
        path = urlparse(url).path
        if url in seen or path.startswith(("/admin/", "/static/", "/accounts/logout")):
            continue
        response = client.get(url)
        body = response.content.decode(errors="replace")
        seen[url] = body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())
        for link in HREF.findall(body):
            absolute = urljoin(url, link.replace("&amp;", "&"))
            if urlparse(absolute).netloc in ("", "testserver"):
                queue.append(urlparse(absolute)._replace(scheme="", netloc="").geturl())
    return seen


def extra_responses(client: Client, series) -> dict[str, str]:
    marked = series.lessons.get(slug="marked")
    lesson = marked.get_absolute_url()
    out = {}
    for label, response in {
        "bad pin": client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ", "next": lesson}),
        "empty pin": client.post(REDEEM, {"pin": "", "next": lesson}),
        "404 lesson": client.get(lesson + "missing/"),
        "query string": client.get(lesson, {"full": "1", "preview": "1"}),
        "admin preview": client.get(f"/admin/lessons/lesson/{marked.pk}/preview/", follow=True),
        "json": client.get(lesson, HTTP_ACCEPT="application/json"),
        "sitemap": client.get("/sitemap.xml"),
        **{
            f"sitemap {section}": client.get(f"/sitemap-{section}.xml")
            for section in ("home", "series", "lessons")
        },
        "robots": client.get("/robots.txt"),
        **{
            f"search {marker}": client.get("/search/", {"q": f"{marker} OR public"})
            for marker in MARKERS
        },
    }.items():
        out[label] = response.content.decode(errors="replace") + str(dict(response.items()))
    return out


def assert_no_marker(responses: dict[str, str]):
    for url, text in responses.items():
        if url.startswith("search "):  # the page says what was searched for; nothing else
            marker = url.removeprefix("search ")
            text = text.replace(f"{marker} OR public", "").replace(f"{marker}+OR+public", "")
        for marker in MARKERS:
            assert marker not in text, f"{marker} leaked at {url}"
            assert marker.lower() not in text.lower(), f"{marker} leaked at {url}"


@pytest.mark.parametrize("who", ["anonymous", "reader without access", "reader of another series"])
def test_no_private_text_in_any_response(site, who):
    client = Client()
    if who != "anonymous":
        user = make_user()
        client.force_login(user)
        if who == "reader of another series":
            services.grant(user=user, series=make_series(title="Unrelated"))
            services.renew_feed_token(user=user)  # a private feed: of the other series only
    responses = crawl(client, ["/"])
    assert any("/series/" in url and url.endswith("/marked/") for url in responses)
    assert any(url.endswith("/unmarked/") for url in responses)
    # Feeds are announced on every page, so the crawl reads them too.
    assert {"/feed/", "/feed/atom/", "/series/ai/feed/", "/series/ai/feed/atom/"} <= set(responses)
    if who == "reader of another series":
        assert any(url.startswith("/access/feed/") for url in responses)
    responses |= extra_responses(client, site)
    assert_no_marker(responses)


def test_an_error_page_leaks_nothing(site, monkeypatch):
    import caching.kept

    def boom(request, template, context):
        raise RuntimeError(context["body_html"])  # the exception message holds the HTML

    monkeypatch.setattr(caching.kept, "render", boom)  # how an anonymous page is rendered
    client = Client(raise_request_exception=False)
    response = client.get(site.lessons.get(slug="marked").get_absolute_url())
    assert response.status_code == 500
    assert_no_marker({"500": response.content.decode()})


def test_the_markers_do_reach_a_reader_with_access(site):
    """The crawl would find the markers if the gate let them through."""
    client = Client()
    user = make_user()
    services.grant(user=user, series=site)
    services.renew_feed_token(user=user)
    client.force_login(user)
    responses = crawl(client, ["/"])
    text = "".join(responses.values())
    assert all(marker in text for marker in MARKERS)
    # ...and in their private feed, which My access links to.
    (feed,) = [url for url in responses if re.fullmatch(r"/access/feed/[\w-]+/", url)]
    assert all(marker in responses[feed] for marker in MARKERS)


def test_search_finds_the_markers_for_a_reader_with_access(site):
    """The searches above would show the markers if the gate let them through."""
    client = Client()
    user = make_user()
    services.grant(user=user, series=site)
    client.force_login(user)
    for marker in MARKERS:
        found = re.sub(r"</?mark>", "", client.get("/search/", {"q": marker}).text)
        assert marker in found.upper(), marker


@pytest.mark.parametrize("who", ["anonymous", "reader without access"])
def test_no_private_text_after_a_reader_with_access_read_everything(site, who):
    """Every store warmed by a reader who may read it all (the positive control above finds
    the markers in what they were sent): a reader without access still gets none of it."""
    buyer = Client()
    user = make_user(email="buyer@example.com")
    services.grant(user=user, series=site)
    buyer.force_login(user)
    seen = crawl(buyer, ["/"])
    assert all(marker in "".join(seen.values()) for marker in MARKERS)
    client = Client()
    if who != "anonymous":
        client.force_login(make_user(email="without@example.com"))
    responses = crawl(client, ["/"])
    assert any(url.endswith("/marked/") for url in responses)
    assert_no_marker(responses | extra_responses(client, site))
