"""One address per language: LANGUAGE_CODE's pages at the plain addresses, the other
language's under its code; the address alone decides, so every cache and search engine sees
one page per address. Alternates name each other; the old cookie-based choice is honoured
once, by a redirect; addresses shared before keep working."""

import re

import pytest
from django.test import Client
from django.urls import clear_url_caches

from config import languages
from tests.access.helpers import REDEEM
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


@pytest.fixture
def site_language(settings):
    """Sets LANGUAGE_CODE for one test (the URL resolver keeps prefixes per language)."""

    def use(code):
        settings.LANGUAGE_CODE = code
        clear_url_caches()

    yield use
    clear_url_caches()


@pytest.fixture
def lesson(series):
    return make_lesson(series, number=1, slug="one", title="One", body="Words.")


def vary(response) -> set[str]:
    return {v.strip() for v in response.get("Vary", "").split(",") if v.strip()}


class TestAddresses:
    @pytest.mark.parametrize(
        "path", ["/", "/series/ai/", "/series/ai/one/", "/search/?q=x", REDEEM, "/accounts/login/"]
    )
    def test_the_plain_address_is_english_and_id_is_indonesian_whatever_the_browser(
        self, lesson, path
    ):
        for accept in ["id-ID,id;q=0.9", "en", None]:
            client = Client(headers={"accept-language": accept} if accept else {})
            plain, indonesian = client.get(path), client.get(f"/id{path}")
            assert plain.status_code == indonesian.status_code == 200, path
            assert (page_language(plain), plain["Content-Language"]) == ("en", "en")
            assert (page_language(indonesian), indonesian["Content-Language"]) == ("id", "id")
            assert "Accept-Language" not in vary(plain) | vary(indonesian)

    def test_addresses_shared_before_keep_working(self, lesson):
        """A lesson's address from before there were prefixes is still the lesson."""
        response = Client(headers={"accept-language": "id"}).get("/series/ai/one/")
        assert response.status_code == 200
        assert '<span lang="en">One</span>' in response.text

    def test_indonesian_as_the_site_language_puts_english_under_en(self, lesson, site_language):
        site_language("id")
        indonesian, english = Client().get("/series/ai/one/"), Client().get("/en/series/ai/one/")
        assert (page_language(indonesian), page_language(english)) == ("id", "en")
        assert 'rel="canonical" href="http://testserver/series/ai/one/"' in indonesian.text
        assert 'rel="canonical" href="http://testserver/en/series/ai/one/"' in english.text
        assert Client().get("/id/series/ai/one/")["Location"] == "/series/ai/one/"

    @pytest.mark.parametrize("path", ["/en/", "/en/series/ai/one/?ref=dm"])
    def test_the_site_languages_own_prefix_redirects_to_the_plain_address(self, lesson, path):
        response = Client().get(path)
        assert response.status_code == 301
        assert response["Location"] == path.removeprefix("/en")

    @pytest.mark.parametrize(
        ("path", "language", "expected"),
        [
            ("/series/ai/", "id", "/id/series/ai/"),
            ("/id/series/ai/", "en", "/series/ai/"),
            ("/id/series/ai/", "id", "/id/series/ai/"),
            ("/id", "en", "/"),
            ("/identity/", "id", "/id/identity/"),  # a word that starts like a code is no prefix
        ],
    )
    def test_one_page_in_another_language(self, path, language, expected):
        assert languages.address(path, language) == expected

    def test_the_admin_and_health_have_one_address(self, staff_client):
        """The admin, kept for nobody else, speaks the seller's browser's language."""
        admin = staff_client.get("/admin/", headers={"accept-language": "id"})
        assert (admin.status_code, page_language(admin)) == (200, "id")
        assert page_language(staff_client.get("/admin/")) == "en"
        assert Client().get("/healthz").status_code == 200
        assert staff_client.get("/id/admin/").status_code == 404
        assert Client().get("/id/healthz").status_code == 404


class TestTheOldCookie:
    """The old switcher kept the choice in a cookie: honoured once, by a redirect."""

    def test_it_sends_the_reader_once_to_the_page_in_their_language(self, lesson):
        client = Client()
        client.cookies["django_language"] = "id"
        response = client.get("/series/ai/one/?ref=dm")
        assert (response.status_code, response["Location"]) == (302, "/id/series/ai/one/?ref=dm")
        assert response.cookies["django_language"]["max-age"] == 0
        assert page_language(client.get(response["Location"])) == "id"
        # The cookie is gone: the plain address is the English page from now on.
        again = client.get("/series/ai/one/")
        assert (again.status_code, page_language(again)) == (200, "en")

    def test_a_cookie_for_the_pages_own_language_is_only_deleted(self, lesson):
        client = Client()
        client.cookies["django_language"] = "id"
        response = client.get("/id/series/ai/one/")
        assert response.status_code == 200
        assert response.cookies["django_language"]["max-age"] == 0

    @pytest.mark.parametrize(
        ("method", "path", "cookie"),
        [
            ("post", "/series/ai/one/progress/", "id"),  # only pages are redirected
            ("get", "/healthz", "id"),  # one address in every language
            ("get", "/series/ai/one/", "xx"),  # not a language of the site
        ],
    )
    def test_nothing_else_is_redirected_but_the_cookie_goes(self, lesson, method, path, cookie):
        client = Client()
        client.cookies["django_language"] = cookie
        response = getattr(client, method)(path)
        assert response.status_code != 302 or "/id/" not in response["Location"]
        assert response.cookies["django_language"]["max-age"] == 0

    def test_it_is_never_answered_from_the_page_cache(self, lesson):
        Client().get("/series/ai/one/")  # kept for anonymous readers
        client = Client()
        client.cookies["django_language"] = "id"
        assert client.get("/series/ai/one/").status_code == 302


class TestAlternates:
    @pytest.mark.parametrize(
        "path", ["/", "/series/ai/", "/series/ai/one/", "/search/?q=x", REDEEM, "/accounts/login/"]
    )
    def test_every_page_names_itself_in_each_language(self, lesson, path):
        plain = path.partition("?")[0]
        for prefix, locale, other in [("", "en_US", "id_ID"), ("/id", "id_ID", "en_US")]:
            page = Client().get(prefix + path).text
            assert f'<link rel="alternate" hreflang="en" href="http://testserver{plain}">' in page
            assert (
                f'<link rel="alternate" hreflang="id" href="http://testserver/id{plain}">' in page
            )
            assert (
                f'<link rel="alternate" hreflang="x-default" href="http://testserver{plain}">'
                in page
            )
            assert f'<meta property="og:locale" content="{locale}">' in page
            assert f'<meta property="og:locale:alternate" content="{other}">' in page

    def test_a_lesson_is_canonical_at_its_own_languages_address(self, lesson):
        page = Client().get("/id/series/ai/one/").text
        assert '<link rel="canonical" href="http://testserver/id/series/ai/one/">' in page
        assert '<meta property="og:url" content="http://testserver/id/series/ai/one/">' in page

    def test_the_share_image_has_one_address_in_both_languages(self, lesson):
        def image(path):
            page = Client().get(path).text
            return re.search(r'<meta property="og:image" content="([^"]+)">', page)[1]

        assert image("/id/series/ai/one/") == image("/series/ai/one/")
        assert "/id/" not in image("/id/series/ai/one/")


class TestSwitcher:
    def test_the_foot_of_every_page_links_to_it_in_the_other_language(self, lesson):
        page = Client().get("/series/ai/?page=1").text
        assert (
            '<a class="lang-switch__option" href="/series/ai/?page=1" hreflang="en" lang="en" '
            'aria-current="page">English</a>' in page
        )
        assert (
            '<a class="lang-switch__option" href="/id/series/ai/?page=1" hreflang="id" lang="id">'
            "Bahasa Indonesia</a>" in page
        )
        assert "<form" not in page.partition('class="lang-switch"')[2].partition("</nav>")[0]

    def test_the_old_switchers_form_goes_to_the_page_in_that_language_without_a_cookie(
        self, lesson
    ):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/language/", {"language": "id", "next": "/series/ai/?page=1"})
        assert (response.status_code, response["Location"]) == (302, "/id/series/ai/?page=1")
        assert "django_language" not in response.cookies

    @pytest.mark.parametrize(
        ("data", "location"),
        [
            ({"language": "id", "next": "https://evil.example/"}, "/id/"),
            ({"language": "xx", "next": "/id/series/ai/"}, "/id/series/ai/"),
        ],
        ids=["foreign next", "unknown language"],
    )
    def test_bad_input_is_ignored(self, data, location):
        response = Client().post("/language/", data)
        assert response["Location"] == location
        assert "django_language" not in response.cookies


def test_the_anonymous_page_cache_follows_the_address(lesson, django_assert_num_queries):
    """Kept per address: the browser's language never picks a kept page."""
    english = Client().get("/series/ai/one/")
    with django_assert_num_queries(0):
        again = Client(headers={"accept-language": "id"}).get("/series/ai/one/")
    assert again.content == english.content
    assert page_language(Client().get("/id/series/ai/one/")) == "id"
