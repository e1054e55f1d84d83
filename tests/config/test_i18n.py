"""Two languages: English (the source) and Indonesian, each at its own addresses
(tests/config/test_languages.py). That every page reads in its language, that the Indonesian
catalogues are whole, and that allauth's pages and e-mails speak the site's Indonesian (kamu,
e-mail), not allauth's (Anda)."""

import gettext
import os
import re
import shutil
import subprocess
from datetime import timedelta
from html import unescape
from pathlib import Path

import allauth
import polib
import pytest
import yaml
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from access import feedback, services
from access.models import AccessPin
from config import catalogue
from config.languages import address
from tests.access.helpers import REDEEM
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
# The site's own catalogue, and the one that puts django-allauth's strings in the site's register.
ALLAUTH_PO = catalogue.ROOT / "locale-allauth" / catalogue.LANGUAGE / "LC_MESSAGES" / "django.po"
CATALOGUES = {"site": catalogue.PO, "allauth": ALLAUTH_PO}
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sd]|\{\w+\}")


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


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
    reader = Client()
    reader.force_login(make_user())
    clients = [(Client(), anonymous), (reader, personal)]
    english = english_only_strings()
    for client, urls in clients:
        for name, url in urls.items():
            response = client.get(address(url, language))
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
    page = Client().get(address(site[1].get_absolute_url(), language)).text
    assert all(phrase in page for phrase in phrases)


def test_lesson_text_is_marked_with_the_series_language_on_an_indonesian_page(site):
    page = Client().get(address(site[2].get_absolute_url(), "id")).text
    assert '<html lang="id">' in page
    assert re.search(r'<div class="prose lesson__body[^"]*" lang="en">', page)
    assert '<span lang="en">Dua</span>' in page
    assert re.search(r"<div class=\"prose prose--compact\" lang=\"id\">\s*<p>Ask for a PIN", page)


@pytest.mark.parametrize(
    ("language", "until"),
    [("id", "sampai 17 Agustus 2027, 7.00 WIB"), ("en", "until 17 August 2027, 7 a.m. WIB")],
)
def test_dates_and_times_follow_the_language_and_times_name_their_zone(
    site, settings, language, until
):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "Asia/Jakarta"
    user = make_user()
    services.grant(user=user, series=site[0], expires_at=datetime(2027, 8, 17, tzinfo=UTC))
    client = Client()
    client.force_login(user)
    page = client.get(address("/access/mine/", language)).text
    assert until in " ".join(visible_text(page).split())


each_catalogue = pytest.mark.parametrize("po", CATALOGUES.values(), ids=list(CATALOGUES))


class TestCatalogue:
    @each_catalogue
    def test_every_string_is_translated_and_none_is_fuzzy(self, po):
        po = polib.pofile(str(po))
        assert po.percent_translated() == 100
        assert not po.fuzzy_entries()
        assert not po.obsolete_entries()

    @each_catalogue
    def test_translations_keep_every_placeholder(self, po):
        for entry in polib.pofile(str(po)):
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            for msgstr in translations:
                assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(
                    PLACEHOLDER.findall(entry.msgid)
                ), entry.msgid

    @each_catalogue
    def test_the_compiled_catalogue_matches_the_source(self, po):
        with po.with_suffix(".mo").open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for entry in polib.pofile(str(po)):
            if entry.msgid_plural:
                assert (
                    compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
                )
            else:
                assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid

    @each_catalogue
    def test_msgfmt_accepts_it(self, po):
        msgfmt = require_gettext("msgfmt")
        result = subprocess.run(
            [msgfmt, "--check", "-o", os.devnull, str(po)], capture_output=True, text=True
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
        kept = polib.pofile(str(copy / catalogue.PO.relative_to(catalogue.ROOT)))
        assert kept.header == polib.pofile(str(catalogue.PO)).header, "the glossary is kept"
        allauth = copy / ALLAUTH_PO.relative_to(catalogue.ROOT)
        assert allauth.read_bytes() == ALLAUTH_PO.read_bytes(), "makemessages wrote locale-allauth"


# Indonesian as allauth's own catalogue writes it, and as this site does not: the formal
# "Anda", and "Email" for "e-mail".
FORMAL = re.compile(r"\bAnda\b")
ENGLISH_EMAIL = re.compile(r"\b[Ee]mail\b")
# allauth strings this site never shows: it has no usernames, phone numbers, passkeys or
# authenticators (allauth's headless API is not installed either), and its settings remove the
# second e-mail field, the optional e-mail, "Remember me" and the log-in field of several methods.
NEVER_SHOWN = {
    "The phone number and/or password you specified are not correct.",
    "A user is already registered with this phone number.",
    "The phone number is not assigned to any user account.",
    "Enter a phone number including country code (e.g. +1 for the US).",
    "Phone",
    "Username can not be used. Please use other username.",
    "The username and/or password you specified are not correct.",
    "Username",
    "Username (optional)",
    "Username, email or phone",
    "Username or email",
    "Username or phone",
    "Email or phone",
    "In case you forgot, your username is %(username)s.",
    "Use authenticator app or code",
    "Use a security key",
    "Sign in with a passkey",
    "Sign up using a passkey",
    "Invalid or expired key.",
    "Please select only one.",
    "Email (again)",
    "Email address confirmation",
    "You must type the same email each time.",
    "Email (optional)",
    "Remember Me",
    "Login",
}
# Where allauth's strings for e-mail accounts come from (its catalogue's references).
ALLAUTH_ACCOUNT_SOURCE = re.compile(
    r"account/(adapter|fields|forms)\.py|templates/account/(?!.*(phone|passkey)).*"
)


def allauth_indonesian() -> polib.POFile:
    """allauth's own Indonesian catalogue: its strings, and where each comes from."""
    return polib.pofile(str(Path(allauth.__file__).parent / "locale/id/LC_MESSAGES/django.po"))


def visible_words(text: str) -> str:
    """A translation as a reader sees it: without its tags and placeholders."""
    return PLACEHOLDER.sub(" ", re.sub(r"<[^>]+>", " ", text))


class TestAllauthSpeaksTheSitesIndonesian:
    """allauth's pages, messages and e-mails come with allauth's Indonesian, which says "Anda"
    and "Email". locale-allauth/ (in LOCALE_PATHS after locale/) says them as the site does."""

    def test_it_has_every_allauth_string_a_reader_can_meet(self):
        ours = {e.msgid for e in polib.pofile(str(ALLAUTH_PO))}
        site = {e.msgid for e in polib.pofile(str(catalogue.PO))}
        shown = {
            entry.msgid
            for entry in allauth_indonesian()
            if any(ALLAUTH_ACCOUNT_SOURCE.fullmatch(path) for path, _ in entry.occurrences)
        } - NEVER_SHOWN
        assert shown - ours - site == set(), "translate allauth's new strings in locale-allauth"
        assert ours - shown == set(), "locale-allauth has strings allauth no longer shows"

    def test_it_adds_to_the_site_catalogue_without_repeating_it(self):
        site = {(e.msgctxt, e.msgid) for e in polib.pofile(str(catalogue.PO))}
        ours = {(e.msgctxt, e.msgid) for e in polib.pofile(str(ALLAUTH_PO))}
        assert ours & site == set()

    def test_it_says_kamu_and_e_mail(self):
        for entry in polib.pofile(str(ALLAUTH_PO)):
            words = visible_words(entry.msgstr)
            assert not FORMAL.search(words) and not ENGLISH_EMAIL.search(words), entry.msgstr

    def test_it_comes_after_the_site_catalogue_and_before_allauths(self, settings):
        assert settings.LOCALE_PATHS == [
            catalogue.ROOT / "locale",
            catalogue.ROOT / "locale-allauth",
        ]
        with translation.override("id"):
            assert translation.gettext("Sign In") == "Masuk"
            assert translation.gettext("Are you sure you want to sign out?") == "Yakin mau keluar?"
            assert translation.gettext("Email") == "E-mail"  # the site's own


def account_pages(client, reader_client) -> dict:
    """Each allauth page a reader meets at its Indonesian address, in its first state; the
    confirmation pages come after asking for a code."""
    pages = {
        "log in": client.get("/id/accounts/login/"),
        "sign up": client.get("/id/accounts/signup/"),
        "code log-in": client.get("/id/accounts/login/code/"),
        "password reset": client.get("/id/accounts/password/reset/"),
    }
    confirm = client.post("/id/accounts/login/code/", {"email": "reader@example.com"})
    pages["code log-in: the code"] = client.get(confirm["Location"])
    pages["password reset: sent"] = client.get("/id/accounts/password/reset/done/")
    signup = Client()
    confirm = signup.post("/id/accounts/signup/", {"email": "new@example.com"})
    pages["sign up: the code"] = signup.get(confirm["Location"])
    for name, url in [
        ("log out", "/id/accounts/logout/"),
        ("e-mail address", "/id/accounts/email/"),
        ("password change", "/id/accounts/password/change/"),
        ("re-authentication", "/id/accounts/reauthenticate/"),
    ]:
        pages[name] = reader_client.get(url)
    return pages


def test_the_indonesian_account_pages_say_kamu_and_e_mail():
    reader = make_user(email="reader@example.com")
    reader_client = Client()
    reader_client.force_login(reader)
    pages = account_pages(Client(), reader_client)
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert page_language(response) == "id", name
        text = " ".join(visible_text(response.content.decode()).split())
        assert not FORMAL.findall(text), f"{name}: {text}"
        assert not ENGLISH_EMAIL.findall(text), f"{name}: {text}"
    assert "Belum punya akun?" in " ".join(visible_text(pages["log in"].text).split())


# The e-mails allauth sends, each with what sends it and its subject in Indonesian.
ACCOUNT_EMAILS = {
    "log-in code": ("/accounts/login/code/", "reader@example.com", "Kode masuk"),
    "password reset": ("/accounts/password/reset/", "reader@example.com", "Reset kata sandi"),
    "sign-up code": ("/accounts/signup/", "new@example.com", "Kode masuk"),
    "taken address": ("/accounts/signup/", "reader@example.com", "Kode masuk"),
    "unknown address": ("/accounts/password/reset/", "nobody@example.com", "Akun tidak ditemukan"),
}


@pytest.mark.parametrize(
    ("url", "email", "subject"), ACCOUNT_EMAILS.values(), ids=list(ACCOUNT_EMAILS)
)
def test_the_indonesian_account_emails_say_kamu_and_e_mail(url, email, subject):
    make_user(email="reader@example.com")
    Client().post(address(url, "id"), {"email": email})
    [message] = mail.outbox
    assert message.subject == f"[Lessons] {subject}"
    assert "kamu" in message.body
    for text in (message.subject, message.body):
        assert not FORMAL.findall(text), text
        assert not ENGLISH_EMAIL.findall(text), text


def require_gettext(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    reason = f"{tool} (GNU gettext) is not installed"
    if os.environ.get("REQUIRE_GETTEXT") == "1":
        pytest.fail(f"REQUIRE_GETTEXT=1 but {reason}")
    pytest.skip(reason)


# The glossary (the comment that heads locale/id/LC_MESSAGES/django.po): one word for one thing,
# checked here where a machine can, in every Indonesian text a buyer or a seller reads: both
# catalogues and the demo series' selling texts.
DEMO_SERIES = catalogue.ROOT / "content" / "became-ai-engineer" / "series.yaml"
SELLING_FIELDS = ("price_line", "call_to_action", "paywall_message", "pin_message")


def indonesian_texts(*, placeholders: bool = False) -> list[tuple[str, str]]:
    """(where, text) for every Indonesian text: each translation of both catalogues, and each
    selling text of the demo series, without their placeholders unless asked."""
    words = (lambda text: text) if placeholders else visible_words
    texts = []
    for name, path in CATALOGUES.items():
        for entry in polib.pofile(str(path)):
            translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
            texts += [(f"{name}: {entry.msgid[:60]}", words(t)) for t in translations]
    demo = yaml.safe_load(DEMO_SERIES.read_text())
    texts += [(f"demo series: {field}", words(demo[field])) for field in SELLING_FIELDS]
    return texts


def glossary() -> str:
    return polib.pofile(str(catalogue.PO)).header


# "PIN" alone is the reader's own secret to GoPay and the banks: an access PIN is "PIN akses",
# or "PIN-nya" once named. The exceptions, each a phrase with its reason:
BARE_PIN_ALLOWED = {
    "PIN ditolak": "the dashboard's word for a rejected attempt, read by the seller (issue 16)",
}
BARE_PIN = re.compile(r"\bPIN\b(?! akses)(?!-nya\b)")

# Words the glossary replaced (case aside), with what it says instead.
REPLACED = {
    "ketik": (r"\b(?:ketik|mengetik|diketik|ketikkan)\b", "masukkan (enter, type)"),
    "tukarkan": (r"\b(?:tukarkan|menukarkan|ditukarkan|penukaran)\b", "masukkan, dipakai"),
    "ditarik": (r"\bditarik\b", "tidak berlaku (the buyer), dicabut (the seller)"),
    "ditahan": (r"\bditahan\b", "diblokir sementara"),
    "terbitkan": (r"\b(?:terbitkan|diterbitkan)\b", "buat, dibuat (a lesson is terbit)"),
    "bikin akun": (r"\bbikin akun\b", "daftar"),
    "Minggu": (r"\bminggu\b", "pekan (Minggu is also Sunday)"),
    "L2": (r"\bL\d", "pelajaran 2–7"),
    "Kosong:": (r"\bkosong:", "Kosongkan kalau …"),
    "dalam N menit": (r"\bdalam (?:semenit|sejam|\d+ menit)", "coba lagi N menit lagi"),
    "handle": (r"\bhandle\b", "username Instagram"),
    "Akses saya": (r"\bakses saya\b", "Aksesku"),
    "penulisnya": (r"\bpenulisnya\b", "penjualnya, lewat DM (buyers know an Instagram account)"),
    "Konfirmasi akses": (r"\bkonfirmasi akses\b", "Pastikan ini kamu (not lesson access)"),
    "gue": (r"\bgue\b", "aku (beside kamu)"),
}


class TestGlossary:
    def test_the_catalogue_opens_with_it(self):
        header = glossary()
        for word in ("PIN akses", "masukkan", "Buka akses", "dicabut", "tidak berlaku", "buat",
                     "daftar", "Aksesku", "diblokir sementara", "username Instagram",
                     "Rp149.000", "pelajaran 2–7", "pekan", "WIB", "Kosongkan kalau"):  # fmt: skip
            assert word in header, word

    def test_an_access_pin_is_never_a_bare_pin(self):
        found = []
        for where, text in indonesian_texts():
            for phrase in BARE_PIN_ALLOWED:
                text = text.replace(phrase, "")
            found += [where for _ in BARE_PIN.finditer(text)]
        assert found == []

    @pytest.mark.parametrize(("word", "instead"), REPLACED.values(), ids=list(REPLACED))
    def test_a_replaced_word_is_used_nowhere(self, word, instead):
        pattern = re.compile(word, re.IGNORECASE)
        found = [(where, text) for where, text in indonesian_texts() if pattern.search(text)]
        assert found == [], f"write {instead}"

    def test_prices_are_written_rp149000(self):
        spaced = re.compile(r"Rp\s+(?:\d|%\(|\{)|Rp\d+,\d|Rp\d{4}")
        texts = indonesian_texts(placeholders=True)
        assert [(where, text) for where, text in texts if spaced.search(text)] == []
        with translation.override("id"):
            assert translation.gettext("Rp %(amount)s") % {"amount": "149.000"} == "Rp149.000"

    def test_lesson_ranges_take_an_en_dash(self):
        spelled = re.compile(r"pelajaran \d+ ?(?:-|sampai|s/d|hingga) ?\d", re.IGNORECASE)
        demo = yaml.safe_load(DEMO_SERIES.read_text())
        assert "{first_premium}–{last_premium}" in demo["call_to_action"]
        assert [(w, t) for w, t in indonesian_texts() if spelled.search(t)] == []


def test_the_moments_of_buying_read_as_the_glossary_has_them(site):
    """The empty PIN, the button, the throttle's wait and the way to reach the seller, in
    the words of the glossary."""
    series, _, premium = site
    client = Client()
    empty = client.post(address(REDEEM, "id"), {"pin": ""})
    assert "PIN-nya belum diisi" in empty.text
    lesson_page = client.get(address(premium.get_absolute_url(), "id")).text
    page = " ".join(visible_text(lesson_page).split())
    assert "Sudah punya PIN akses?" in page and "Buka akses" in page
    revoked = services.issue_pins(series=series)[0].pin
    services.revoke_pins(AccessPin.objects.all(), reason="refund")
    refused = client.post(address(REDEEM, "id"), {"pin": revoked}).text
    refused = " ".join(visible_text(refused).split())
    assert "PIN akses itu sudah tidak berlaku. Minta PIN akses baru ke penjualnya lewat DM" in (
        refused
    )
    with translation.override("id"):
        wait = feedback.throttled(timezone.now() + timedelta(minutes=15))
    assert re.search(r"Coba lagi pukul \d{1,2}\.\d\d UTC \(15 menit lagi\)\.$", wait)


def test_allauths_confirmation_of_a_reader_is_not_the_lessons_access():
    """Re-authentication is titled "Pastikan ini kamu": "Konfirmasi akses" read as access to
    the lessons."""
    client = Client()
    client.force_login(make_user())
    page = client.get("/id/accounts/reauthenticate/").text
    assert re.search(r"<h1>\s*Pastikan ini kamu\s*</h1>", page)
    assert "Konfirmasi akses" not in page
