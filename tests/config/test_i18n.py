"""Two languages: English (the source) and Indonesian. How a page's language is chosen, that
every page reads in the chosen language, and that the Indonesian catalogue is whole."""

import gettext
import os
import re
import shutil
import subprocess
from html import unescape

import polib
import pytest
from django.test import Client

from config import catalogue
from tests.access.helpers import REDEEM
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
MO = catalogue.PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


class TestNegotiation:
    @pytest.mark.parametrize(
        ("cookie", "accept", "expected"),
        [
            (None, None, "en"),
            (None, "id-ID,id;q=0.9,en;q=0.8", "id"),
            (None, "fr-FR, id;q=0.5", "id"),
            (None, "de", "en"),
            ("en", "id", "en"),
            ("id", "en-US", "id"),
        ],
        ids=["default", "browser", "second choice", "unknown", "choice beats browser", "choice"],
    )
    def test_the_choice_then_the_browser_then_the_default(self, cookie, accept, expected):
        client = Client(headers={"accept-language": accept} if accept else {})
        if cookie:
            client.cookies["django_language"] = cookie
        response = client.get("/")
        assert page_language(response) == expected
        assert response["Content-Language"] == expected
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}

    def test_the_default_is_settable(self, settings):
        settings.LANGUAGE_CODE = "id"
        assert page_language(Client().get("/")) == "id"


class TestSwitcher:
    def test_every_page_offers_both_languages_in_their_own_names(self):
        page = Client().get("/").text
        assert 'action="/language/"' in page
        assert '<button type="submit" name="language" value="id" lang="id"' in page
        assert ">Bahasa Indonesia</button>" in page and ">English</button>" in page

    def test_choosing_sets_a_cookie_and_returns_to_the_page_without_a_csrf_token(self, series):
        client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
        url = series.get_absolute_url()
        response = client.post("/language/", {"language": "id", "next": url})
        assert (response.status_code, response["Location"]) == (302, url)
        assert client.cookies["django_language"].value == "id"
        assert client.cookies["django_language"]["samesite"] == "Lax"
        assert page_language(client.get(url)) == "id"

    @pytest.mark.parametrize(
        ("data", "location", "cookie"),
        [
            ({"language": "id", "next": "https://evil.example/"}, "/", "id"),
            ({"language": "xx", "next": "/"}, "/", None),
        ],
        ids=["foreign next", "unknown language"],
    )
    def test_bad_input_is_ignored(self, data, location, cookie):
        client = Client()
        response = client.post("/language/", data)
        assert response["Location"] == location
        value = client.cookies.get("django_language")
        assert (value.value if value else None) == cookie


@pytest.fixture
def site(db):
    """A series written in English, sold in Indonesian, with free and premium lessons."""
    series = make_series(
        title="Seri Contoh",
        language="en",
        sales_language="id",
        cta_message="Lanjutkan seri ini.",
        instagram_handle="penulis",
    )
    free = make_lesson(series, number=1, slug="satu", title="Satu", body="Isi satu.")
    premium = make_lesson(
        series, number=2, slug="dua", title="Dua", access="premium", body="Isi dua."
    )
    return series, free, premium


def pages(site):
    series, free, premium = site
    anonymous = {
        "home": "/",
        "series": series.get_absolute_url(),
        "free lesson": free.get_absolute_url(),
        "premium lesson": premium.get_absolute_url(),
        "redeem": REDEEM,
        "log in": "/accounts/login/",
        "sign up": "/accounts/signup/",
        "code log-in": "/accounts/login/code/",
        "password reset": "/accounts/password/reset/",
        "404": "/nowhere/",
    }
    return anonymous, {"my access": "/access/mine/", "email": "/accounts/email/"}


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def english_only_strings() -> list[str]:
    """Interface strings whose Indonesian differs: none may show on an Indonesian page."""
    return [
        entry.msgid
        for entry in polib.pofile(str(catalogue.PO))
        if not entry.msgid_plural
        and entry.msgstr != entry.msgid
        and " " in entry.msgid
        and not PLACEHOLDER.search(entry.msgid)
        and "<" not in entry.msgid
    ]


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_main_pages_read_in_the_chosen_language(site, language):
    anonymous, personal = pages(site)
    reader = Client(headers={"accept-language": language})
    reader.force_login(make_user())
    clients = [(Client(headers={"accept-language": language}), anonymous), (reader, personal)]
    english = english_only_strings()
    for client, urls in clients:
        for name, url in urls.items():
            response = client.get(url)
            assert response.status_code in (200, 404), name
            assert page_language(response) == language, name
            if language == "id":
                text = " ".join(visible_text(response.content.decode()).split())
                leaked = [msgid for msgid in english if msgid in text]
                assert not leaked, f"{name} shows English: {leaked}"


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("en", ["1 min read", "Send a DM on Instagram", "Skip to content", "Log in"]),
        ("id", ["1 menit baca", "Kirim DM di Instagram", "Langsung ke isi", "Masuk"]),
    ],
)
def test_a_free_lesson_in_each_language(site, language, phrases):
    page = Client(headers={"accept-language": language}).get(site[1].get_absolute_url()).text
    assert all(phrase in page for phrase in phrases)


def test_lesson_text_is_marked_with_the_series_language_on_an_indonesian_page(site):
    page = Client(headers={"accept-language": "id"}).get(site[2].get_absolute_url()).text
    assert '<html lang="id">' in page
    assert re.search(r'<div class="prose lesson__body[^"]*" lang="en">', page)
    assert '<span lang="en">Dua</span>' in page
    assert re.search(r"<div class=\"prose prose--compact\" lang=\"id\">\s*<p>Ask for a PIN", page)


def test_dates_follow_the_language(site):
    from datetime import UTC, datetime

    from access import services

    user = make_user()
    services.grant(user=user, series=site[0], expires_at=datetime(2027, 8, 17, tzinfo=UTC))
    client = Client(headers={"accept-language": "id"})
    client.force_login(user)
    assert "sampai 17 Agustus 2027" in client.get("/access/mine/").text


class TestCatalogue:
    def test_every_string_is_translated_and_none_is_fuzzy(self):
        po = polib.pofile(str(catalogue.PO))
        assert po.percent_translated() == 100
        assert not po.fuzzy_entries()
        assert not po.obsolete_entries()

    def test_translations_keep_every_placeholder(self):
        for entry in polib.pofile(str(catalogue.PO)):
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            for msgstr in translations:
                assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(
                    PLACEHOLDER.findall(entry.msgid)
                ), entry.msgid

    def test_the_compiled_catalogue_matches_the_source(self):
        with MO.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for entry in polib.pofile(str(catalogue.PO)):
            if entry.msgid_plural:
                assert (
                    compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
                )
            else:
                assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid

    def test_msgfmt_accepts_it(self):
        msgfmt = require_gettext("msgfmt")
        result = subprocess.run(
            [msgfmt, "--check", "-o", os.devnull, str(catalogue.PO)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

    def test_the_catalogue_has_every_string_of_the_source(self, tmp_path):
        """makemessages over a copy of the project finds nothing the catalogue lacks."""
        require_gettext("xgettext")
        copy = tmp_path / "project"
        shutil.copytree(
            catalogue.ROOT,
            copy,
            ignore=shutil.ignore_patterns(".venv", ".git", "staticfiles", "static", "*.sqlite3"),
        )
        catalogue.manage(copy, *catalogue.MAKEMESSAGES)
        fresh = {
            e.msgid for e in polib.pofile(str(copy / catalogue.PO.relative_to(catalogue.ROOT)))
        }
        ours = {e.msgid for e in polib.pofile(str(catalogue.PO))}
        assert fresh - ours == set(), "run `make messages` and translate the new strings"
        assert ours - fresh == set(), "the catalogue has strings the source no longer uses"


def require_gettext(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    reason = f"{tool} (GNU gettext) is not installed"
    if os.environ.get("REQUIRE_GETTEXT") == "1":
        pytest.fail(f"REQUIRE_GETTEXT=1 but {reason}")
    pytest.skip(reason)
