"""Public feeds: RSS 2.0 and Atom, for the site and per series. Free lessons in full, premium
ones as summary + teaser + link, only published lessons; cached, and answering 304."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from access import services
from caching import responses
from lessons import feeds
from lessons.models import Lesson
from lessons.services import delete_many, save_lesson, save_series, update_lessons
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "FEED-SECRET-AFTER-THE-CUT"


@pytest.fixture
def site(series, local_cache):
    make_lesson(series, number=1, slug="free", title="Free one", body="FREE-FULL-TEXT here.")
    make_lesson(
        series,
        number=2,
        slug="premium",
        title="Premium two",
        access="premium",
        summary="A public summary.",
        body=f"The public teaser.\n\n<!-- more -->\n\n{SECRET}",
    )
    make_lesson(series, number=3, slug="draft", title="DRAFT-TITLE", status="draft")
    make_lesson(
        series,
        number=4,
        slug="later",
        title="SCHEDULED-TITLE",
        published_at=timezone.now() + timedelta(days=3),
    )
    hidden = make_series(title="HIDDEN-SERIES", is_published=False)
    make_lesson(hidden, title="HIDDEN-LESSON")
    other = make_series(title="Other series", slug="other")
    make_lesson(other, title="Other lesson", slug="other-lesson")
    return series


def rss_items(response) -> dict[str, str]:
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return {item.findtext("title"): item.findtext("description") for item in root.iter("item")}


def atom_entries(response) -> dict[str, tuple[str, str]]:
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id") is not None and root.find(f"{ATOM}updated") is not None
    return {
        entry.findtext(f"{ATOM}title"): (
            entry.findtext(f"{ATOM}summary") or "",
            entry.findtext(f"{ATOM}content") or "",
        )
        for entry in root.iter(f"{ATOM}entry")
    }


class TestContents:
    def test_the_site_feed_lists_published_lessons_of_published_series(self, client, site):
        response = client.get("/feed/")
        assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
        items = rss_items(response)
        assert set(items) == {"1. Free one", "2. Premium two", "1. Other lesson"}
        assert "DRAFT" not in response.text and "SCHEDULED" not in response.text
        assert "HIDDEN" not in response.text

    def test_free_lessons_in_full_premium_ones_as_summary_teaser_and_link(self, client, site):
        items = rss_items(client.get("/feed/"))
        assert "FREE-FULL-TEXT" in items["1. Free one"]
        premium = items["2. Premium two"]
        assert "A public summary." in premium and "The public teaser." in premium
        assert 'href="http://testserver/series/ai/premium/"' in premium
        assert "read the rest" in premium
        assert SECRET not in client.get("/feed/").text

    def test_images_links_and_anchors_in_items_are_absolute(self, client, series, local_cache):
        make_lesson(
            series,
            number=1,
            access="free",
            title="With an image",
            body="## Start\n\n![A chart](/media/lessons/images/ab12-10x20.png)\n\n"
            "[Lesson two](/series/ai/two/), [elsewhere](https://example.com/x) "
            "and [up](#start).",
        )
        html = rss_items(client.get("/feed/"))["1. With an image"]
        assert 'src="http://testserver/media/lessons/images/ab12-10x20.png"' in html
        assert 'href="http://testserver/series/ai/two/"' in html
        assert 'href="https://example.com/x"' in html
        lesson_url = series.lessons.get().get_absolute_url()
        assert f'href="http://testserver{lesson_url}#start"' in html
        assert 'src="/' not in html and 'href="/' not in html and 'href="#' not in html

    def test_atom_has_the_summary_and_the_same_html_as_content(self, client, site):
        entries = atom_entries(client.get("/feed/atom/"))
        assert entries["2. Premium two"][0] == "A public summary."
        assert "The public teaser." in entries["2. Premium two"][1]
        assert "FREE-FULL-TEXT" in entries["1. Free one"][1]
        assert SECRET not in client.get("/feed/atom/").text

    @pytest.mark.parametrize("url", ["/series/ai/feed/", "/series/ai/feed/atom/"])
    def test_a_series_feed_has_only_its_lessons_in_its_language(self, client, site, url):
        response = client.get(url)
        assert response.status_code == 200
        assert "Other lesson" not in response.text
        assert "Free one" in response.text and SECRET not in response.text
        assert "<language>en</language>" in response.text or 'xml:lang="en"' in response.text

    @pytest.mark.parametrize("slug", ["nope", "hidden"])
    def test_unknown_or_unpublished_series_have_no_feed(self, client, site, slug):
        make_series(slug="hidden", is_published=False)
        assert client.get(f"/series/{slug}/feed/").status_code == 404

    def test_the_public_feed_is_the_same_for_a_reader_who_has_the_series(
        self, client, site, reader
    ):
        services.grant(user=reader, series=site)
        client.force_login(reader)
        assert SECRET not in client.get("/feed/").text

    def test_a_control_character_in_a_title_does_not_break_the_feed(self, client, site):
        make_lesson(site, number=9, title="Bad\x0btitle", body="Text\x08.")
        response = client.get("/feed/")
        assert response.status_code == 200
        assert "9. Badtitle" in rss_items(response)

    @pytest.mark.parametrize("path", ["/feed/", "/feed/atom/"], ids=["rss", "atom"])
    def test_titles_with_markup_characters_read_as_written(self, client, site, path):
        """A title is text: an XML parser gives back exactly what the author wrote (escaped
        once for XML, not twice into "&amp;lt;")."""
        make_lesson(site, number=9, slug="cost", title="Cost Control <&>")
        response = client.get(path)
        titles = rss_items(response) if path == "/feed/" else atom_entries(response)
        assert "9. Cost Control <&>" in titles
        assert b"&amp;lt;" not in response.content

    def test_pages_announce_their_feeds(self, client, site):
        lesson = site.lessons.get(slug="free")
        for url in ["/", site.get_absolute_url(), lesson.get_absolute_url()]:
            page = client.get(url).text
            assert 'type="application/rss+xml" title="Lessons" href="/feed/"' in page
            assert 'type="application/atom+xml" title="Lessons" href="/feed/atom/"' in page
        page = client.get(lesson.get_absolute_url()).text
        assert 'type="application/rss+xml" title="Became an AI Engineer"' in page
        assert 'href="/series/ai/feed/"' in page

    def test_feed_is_a_reserved_lesson_slug(self, series):
        lesson = Lesson(series=series, number=5, title="Feed", slug="feed")
        with pytest.raises(ValidationError, match="feed"):
            lesson.full_clean()


class TestCaching:
    def test_a_second_request_is_served_from_the_cache_without_a_query(
        self, site, django_assert_num_queries
    ):
        client = Client()
        first = client.get("/series/ai/feed/")
        with django_assert_num_queries(0):
            second = client.get("/series/ai/feed/")
        assert second.content == first.content

    def test_the_first_request_costs_a_constant_number_of_queries(
        self, site, django_assert_num_queries
    ):
        for number in range(10, 30):
            make_lesson(site, number=number, access="premium")
        # series, lessons, the next scheduled publication (how long to keep it)
        with django_assert_num_queries(3):
            Client().get("/series/ai/feed/")

    def test_saving_a_lesson_refreshes_it(self, client, site):
        assert "Renamed" not in client.get("/feed/").text
        lesson = site.lessons.get(slug="free")
        lesson.title = "Renamed"
        save_lesson(lesson)
        assert "1. Renamed" in rss_items(client.get("/feed/"))

    def test_bulk_changes_refresh_it(self, client, site):
        client.get("/feed/")
        update_lessons(Lesson.objects.filter(slug="premium"), status="draft")
        assert "Premium two" not in client.get("/feed/").text
        delete_many(site.lessons.filter(slug="free"))
        assert "Free one" not in client.get("/feed/").text

    def test_a_change_made_while_the_cache_was_away_is_not_undone_when_it_is_back(
        self, client, site, cache_outage
    ):
        """The cache comes back holding the version and the feed from before the change."""
        assert "FREE-FULL-TEXT" in client.get("/feed/").text  # kept with lesson 1 free
        cache_outage.start()
        lesson = site.lessons.get(slug="free")
        lesson.body = "Public now.\n\n<!-- more -->\n\nFREE-FULL-TEXT is premium now."
        lesson.access = "premium"
        save_lesson(lesson)
        cache_outage.end()
        assert "FREE-FULL-TEXT" not in client.get("/feed/").text

    def test_unpublishing_the_series_takes_its_feed_down(self, client, site):
        assert client.get("/series/ai/feed/").status_code == 200
        site.is_published = False
        save_series(site)
        assert client.get("/series/ai/feed/").status_code == 404
        assert "Free one" not in client.get("/feed/").text

    def test_it_is_kept_no_longer_than_until_the_next_scheduled_lesson(self, site):
        # The scheduled lesson 4 is due in three days; one due sooner shortens the wait.
        assert feeds.seconds_to_keep() == responses.MAX_SECONDS
        make_lesson(site, number=8, published_at=timezone.now() + timedelta(minutes=2))
        assert 60 < feeds.seconds_to_keep() <= 120

    def test_etag_and_last_modified_answer_304(self, client, site):
        response = client.get("/feed/")
        assert response["ETag"].startswith('"')
        assert response["Last-Modified"].endswith("GMT")
        assert "max-age=600" in response["Cache-Control"]
        same = client.get("/feed/", headers={"if-none-match": response["ETag"]})
        assert same.status_code == 304 and same.content == b""
        since = client.get("/feed/", headers={"if-modified-since": response["Last-Modified"]})
        assert since.status_code == 304
        stale = client.get("/feed/", headers={"if-none-match": '"other"'})
        assert stale.status_code == 200


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class TestFeedLanguage:
    """A feed's language is its items', never the visitor's browser's nor the address's."""

    @pytest.fixture
    def indonesian(self, local_cache):
        series = make_series(title="Seri", slug="seri", language="id")
        make_lesson(series, number=1, slug="satu", title="Satu")
        return series

    @pytest.mark.parametrize("path", ["/feed/", "/id/feed/"])
    @pytest.mark.parametrize("browser", ["en-US,en", "id"])
    def test_the_site_feed_of_indonesian_lessons_says_id(self, indonesian, path, browser):
        response = Client(headers={"accept-language": browser}).get(path)
        root = ET.fromstring(response.content)  # noqa: S314 (our own output)
        assert root.findtext("channel/language") == "id"
        atom = Client(headers={"accept-language": browser}).get(f"{path}atom/")
        assert ET.fromstring(atom.content).get(XML_LANG) == "id"  # noqa: S314

    def test_lessons_in_two_languages_name_none_for_the_feed_and_each_its_own(
        self, indonesian, site
    ):
        root = ET.fromstring(Client().get("/feed/").content)  # noqa: S314
        assert root.find("channel/language") is None
        atom = ET.fromstring(Client().get("/feed/atom/").content)  # noqa: S314
        assert atom.get(XML_LANG) is None
        languages = {
            entry.findtext(f"{ATOM}title"): entry.get(XML_LANG)
            for entry in atom.iter(f"{ATOM}entry")
        }
        assert languages["1. Satu"] == "id" and languages["1. Free one"] == "en"


@pytest.mark.parametrize("path", ["/feed/", "/feed/atom/", "/series/ai/feed/"])
def test_a_shared_cache_keeps_a_feed_no_longer_than_the_pages(client, site, settings, path):
    """A feed carries free lessons whole: a lesson made premium leaves it, in nginx or a CDN,
    as soon as it leaves the pages; a feed reader may keep its own copy ten minutes."""
    settings.SHARED_CACHE_SECONDS, settings.SHARED_CACHE_STALE_SECONDS = 3, 4
    cache_control = {part.strip() for part in client.get(path)["Cache-Control"].split(",")}
    assert {"max-age=600", "s-maxage=3", "stale-while-revalidate=4"} <= cache_control
