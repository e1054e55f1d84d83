"""Share cards and structured data: canonical addresses, Open Graph and Twitter tags from the
summary (never premium text), JSON-LD for lessons and series, and the share image drawn at
save, kept as a file and drawn again when the title changes."""

import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from lessons import services, share
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db
SECRET = "SHARE-SECRET-AFTER-THE-CUT"


@pytest.fixture(autouse=True)
def empty_storage(settings):
    """Files (images) start from nothing in each test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def meta(page: str, name: str) -> str | None:
    found = re.search(rf'<meta (?:name|property)="{re.escape(name)}" content="([^"]*)">', page)
    return found[1] if found else None


def classes_around(page: str, name: str) -> set[str]:
    """The classes of the elements that hold the first element of class `name`."""
    around, held = [], []  # held: the classes of each element open at this point
    void = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            classes = (dict(attrs).get("class") or "").split()
            if name in classes and not around:
                around.append({c for _, outer in held for c in outer})
            if tag not in void:
                held.append((tag, classes))

        def handle_startendtag(self, tag, attrs):
            pass  # <path/>: nothing held

        def handle_endtag(self, tag):
            while held and held.pop()[0] != tag:
                pass

    Finder().feed(page)
    return around[0] if around else set()


def elements_with_class(page: str, name: str) -> list[str]:
    """The tags of the elements that the CSS selector `.name` matches."""
    found = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if name in (dict(attrs).get("class") or "").split():
                found.append(tag)

    Finder().feed(page)
    return found


def structured_data(page: str) -> dict:
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    return json.loads(block)


@pytest.fixture
def premium(series):
    return make_lesson(
        series,
        number=2,
        slug="premium",
        title="Retrieval",
        access="premium",
        summary="Find the right passages.",
        body=f"The public opening.\n\n<!-- more -->\n\n## {SECRET}\n\n{SECRET} again.",
    )


class TestTags:
    def test_a_premium_lesson_is_described_by_its_summary_only(self, client, premium):
        page = client.get(premium.get_absolute_url()).text
        url = "http://testserver/series/ai/premium/"
        assert f'<link rel="canonical" href="{url}">' in page
        assert meta(page, "description") == "Find the right passages."
        assert meta(page, "og:description") == "Find the right passages."
        assert meta(page, "twitter:description") == "Find the right passages."
        assert meta(page, "og:title") == meta(page, "twitter:title") == "Retrieval"
        assert meta(page, "og:url") == url
        assert meta(page, "og:type") == "article"
        assert meta(page, "og:locale") == "en_US"
        assert meta(page, "twitter:card") == "summary_large_image"
        assert SECRET not in page

    def test_the_share_image_is_named_with_its_size(self, client, premium):
        page = client.get(premium.get_absolute_url()).text
        image = meta(page, "og:image")
        assert re.fullmatch(
            r"http://testserver/series/ai/premium/share-[0-9a-f]{16}\.png", image
        ), image
        assert meta(page, "twitter:image") == image
        assert (meta(page, "og:image:width"), meta(page, "og:image:height")) == ("1200", "630")
        assert meta(page, "og:image:alt") == "Lesson 2 · Became an AI Engineer: Retrieval"

    def test_without_a_summary_the_description_names_the_lesson(self, client, series):
        lesson = make_lesson(series, number=3, access="premium", body=f"Intro.\n\n{SECRET}")
        page = client.get(lesson.get_absolute_url()).text
        assert meta(page, "description") == "Lesson 3 of “Became an AI Engineer”."
        assert SECRET not in page

    def test_series_and_home_pages_have_canonical_addresses_and_cards(self, client, series):
        series.description = "Learn to **build** with models."
        services.save_series(series)
        page = client.get(series.get_absolute_url()).text
        assert '<link rel="canonical" href="http://testserver/series/ai/">' in page
        assert meta(page, "og:description") == "Learn to build with models."
        assert re.fullmatch(
            r"http://testserver/series/ai/share-[0-9a-f]{16}\.png", meta(page, "og:image")
        )
        home = client.get("/").text
        assert '<link rel="canonical" href="http://testserver/">' in home
        assert meta(home, "og:title") == "Lessons"


class TestStructuredData:
    def test_a_premium_lesson_is_an_article_not_free(self, client, premium):
        data = structured_data(client.get(premium.get_absolute_url()).text)
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "Article"
        assert data["headline"] == "Retrieval"
        assert data["isAccessibleForFree"] is False
        assert data["isPartOf"] == {
            "@type": "Course",
            "@id": "http://testserver/series/ai/",
            "name": "Became an AI Engineer",
            "url": "http://testserver/series/ai/",
        }
        assert data["author"] == {"@type": "Organization", "name": "Lessons"}
        assert data["inLanguage"] == "en"
        assert data["datePublished"] == premium.published_at.isoformat()
        assert data["dateModified"] == premium.updated_at.isoformat()
        assert data["image"][0].endswith(".png")
        assert SECRET not in json.dumps(data)

    @pytest.mark.parametrize("prefix", ["", "/id"])
    def test_a_premium_lesson_names_its_paywalled_part_as_google_asks(
        self, client, premium, prefix
    ):
        """Google's guidelines for paywalled content: `hasPart` with `isAccessibleForFree`
        false and a `cssSelector` that matches the one element on the page where the premium
        text would be, holding the paywall (the premium text itself is never sent, so nothing
        is hidden with CSS)."""
        page = client.get(prefix + premium.get_absolute_url()).text
        data = structured_data(page)
        assert data["hasPart"] == {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": ".lesson__locked",
        }
        assert elements_with_class(page, "lesson__locked") == ["div"]
        assert "lesson__locked" in classes_around(page, "paywall")
        assert SECRET not in page

    def test_a_free_lesson_says_it_is_free_and_names_its_author(self, client, series):
        series.author = "Budi Santoso"
        series.language = "id"
        services.save_series(series)
        lesson = make_lesson(series, number=1, access="free")
        data = structured_data(client.get(lesson.get_absolute_url()).text)
        assert data["isAccessibleForFree"] is True
        assert "hasPart" not in data
        assert data["author"] == {"@type": "Person", "name": "Budi Santoso"}
        assert data["inLanguage"] == "id"

    def test_the_series_page_is_a_course_with_its_published_lessons(self, client, series):
        make_lesson(series, number=1, slug="one", title="One", access="free")
        make_lesson(series, number=2, slug="two", title="Two", access="premium")
        make_lesson(series, number=3, slug="draft", title="Draft", status="draft")
        data = structured_data(client.get(series.get_absolute_url()).text)
        assert data["@type"] == "Course"
        assert data["provider"]["name"] == "Lessons"
        assert data["isAccessibleForFree"] is False
        assert data["hasPart"] == [
            {
                "@type": "Article",
                "name": "One",
                "url": "http://testserver/series/ai/one/",
                "position": 1,
                "isAccessibleForFree": True,
            },
            {
                "@type": "Article",
                "name": "Two",
                "url": "http://testserver/series/ai/two/",
                "position": 2,
                "isAccessibleForFree": False,
            },
        ]

    def test_a_title_cannot_close_the_script_element(self, client, series):
        lesson = make_lesson(series, title="</script><script>alert(1)</script> & co")
        page = client.get(lesson.get_absolute_url()).text
        assert "<script>alert" not in page
        assert structured_data(page)["headline"] == "</script><script>alert(1)</script> & co"


class TestShareImage:
    def test_drawn_at_save_as_a_1200_by_630_png_file(
        self, series, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            lesson = make_lesson(series, title="Models, Tokens and Context Windows")
        card = share.lesson_card(lesson)
        assert default_storage.exists(card.name)
        with default_storage.open(card.name, "rb") as stored:
            image = Image.open(io.BytesIO(stored.read()))
        assert (image.format, image.size) == ("PNG", (1200, 630))

    def test_served_from_the_file_without_drawing_again(
        self, client, series, django_capture_on_commit_callbacks, monkeypatch
    ):
        with django_capture_on_commit_callbacks(execute=True):
            lesson = make_lesson(series)
        card = share.lesson_card(lesson)
        monkeypatch.setattr(share, "draw", lambda card: pytest.fail("drawn again"))
        response = client.get(f"{lesson.get_absolute_url()}share-{card.version}.png")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "immutable" in response["Cache-Control"] and "public" in response["Cache-Control"]
        assert response.content.startswith(b"\x89PNG")

    def test_a_server_without_the_file_draws_it_when_asked(self, client, series):
        lesson = make_lesson(series)  # no commit in this test: nothing was drawn
        card = share.lesson_card(lesson)
        assert not default_storage.exists(card.name)
        response = client.get(f"{lesson.get_absolute_url()}share-{card.version}.png")
        assert response.status_code == 200
        assert default_storage.exists(card.name)

    def test_a_new_title_draws_a_new_file_and_deletes_the_old(
        self, client, series, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            lesson = make_lesson(series, title="Old title")
        old = share.lesson_card(lesson)
        with django_capture_on_commit_callbacks(execute=True):
            lesson.title = "New title"
            services.save_lesson(lesson)
        new = share.lesson_card(lesson)
        assert new.version != old.version
        assert default_storage.exists(new.name) and not default_storage.exists(old.name)
        page = client.get(lesson.get_absolute_url()).text
        assert new.version in page and old.version not in page
        stale = client.get(f"{lesson.get_absolute_url()}share-{old.version}.png")
        assert stale.status_code == 302
        assert stale["Location"] == f"{lesson.get_absolute_url()}share-{new.version}.png"

    def test_renaming_the_series_redraws_its_lessons(
        self, series, django_capture_on_commit_callbacks
    ):
        lesson = make_lesson(series)
        with django_capture_on_commit_callbacks(execute=True):
            series.title = "A new name"
            services.save_series(series)
        lesson.refresh_from_db()
        assert "A new name" in share.lesson_card(lesson).kicker
        assert default_storage.exists(share.lesson_card(lesson).name)
        assert default_storage.exists(share.series_card(series).name)

    def test_the_words_on_it_are_in_the_lessons_language(self, series):
        series.language = "id"
        services.save_series(series)
        lesson = make_lesson(series, number=4)
        assert share.lesson_card(lesson).kicker == "Pelajaran 4 · Became an AI Engineer"

    @pytest.mark.parametrize("fields", [{"status": "draft"}, {"is_published": False}])
    def test_unpublished_lessons_have_none(self, client, fields):
        series = make_series(is_published=fields.get("is_published", True))
        lesson = make_lesson(series, status=fields.get("status", "published"))
        card = share.lesson_card(lesson)
        assert client.get(f"{lesson.get_absolute_url()}share-{card.version}.png").status_code == 404

    def test_render_lessons_draws_the_missing_ones(self, series):
        lesson = make_lesson(series)
        out = io.StringIO()
        call_command("render_lessons", stdout=out)
        assert "2 of 2 share images drawn" in out.getvalue()
        assert default_storage.exists(share.lesson_card(lesson).name)
        out = io.StringIO()
        call_command("render_lessons", stdout=out)
        assert "0 of 2 share images drawn" in out.getvalue()

    def test_very_long_titles_still_fit(self):
        card = share.Card("lesson", 1, "Lesson 1 · " + "Series " * 20, "Word " * 80, "Site")
        image = Image.open(io.BytesIO(share.draw(card)))
        assert image.size == (1200, 630)
