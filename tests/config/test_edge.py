"""What the app tells whatever stands between it and a reader (nginx, a CDN, a browser's
cache): which responses a shared cache may keep, which it must never compress, and whose
X-Forwarded-* headers it believes."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from access import services
from access.announcements import unsubscribe_token
from access.models import RedemptionAttempt
from tests.access.helpers import REDEEM, issue
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
SECRET = "SECRET-PREMIUM-SENTENCE"


@pytest.fixture
def site(series, free_lesson, premium_lesson):
    make_lesson(series, number=3, slug="three", title="Three", access="premium", body="More.")
    return series


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "link") and attrs.get("href"):
            self.found.append(attrs["href"])


def crawl(client, starts: list[str], limit: int = 300) -> dict:
    """Every page of the site reachable by GET from `starts` (not the admin, not the
    account's log-out), with its response."""
    seen, pending = {}, list(starts)
    while pending and len(seen) < limit:
        url = pending.pop()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.found:
            target = urlsplit(urljoin(f"http://testserver{url}", href))
            if target.netloc != "testserver" or target.path.startswith(("/admin/", "/static/")):
                continue
            if target.path.endswith("/logout/"):
                continue
            pending.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def is_public(response) -> bool:
    return "public" in response.get("Cache-Control", "")


def test_no_response_with_a_readers_data_is_ever_public(site, reader):
    """A crawler over every page a reader with access reaches, in both languages: none of
    what it gets may be kept by a shared cache, except share images, the same bytes for
    everyone."""
    services.grant(user=reader, series=site)
    services.renew_feed_token(user=reader)
    client = Client()
    client.force_login(reader)
    pages = crawl(client, ["/", "/id/", "/access/mine/", "/id/search/?q=words"])
    assert len(pages) > 30
    assert any(SECRET in r.content.decode(errors="replace") for r in pages.values())
    for url, response in pages.items():
        if response.get("Content-Type") == "image/png":
            continue
        assert not is_public(response), url
        if response.status_code == 200 and "html" in response["Content-Type"]:
            assert re.search(r"\b(private|no-store)\b", response["Cache-Control"]), url


def test_logged_out_only_pages_that_are_the_same_for_everyone_are_public(site):
    """Crawled without a session: what is public holds nothing per visitor (no CSRF token,
    no nonce, sets no cookie) and no premium text."""
    pages = crawl(Client(), ["/", "/id/", REDEEM, "/search/?q=words"])
    public = {url: r for url, r in pages.items() if is_public(r)}
    assert {"/", "/id/", "/series/ai/", "/series/ai/premium-two/"} <= set(public)
    for url, response in public.items():
        page = response.content.decode(errors="replace")
        assert "csrfmiddlewaretoken" not in page and "nonce=" not in page, url
        assert not response.cookies, url
        assert SECRET not in page, url
    assert not any(url.startswith(("/accounts/", "/access/", "/id/acc")) for url in public)


def test_a_page_for_one_session_is_never_public_even_without_anyone_logged_in(site):
    """A visitor with a session (a PIN waiting for sign-up, say) gets private pages."""
    client = Client()
    client.post(REDEEM, {"pin": issue(site)})  # a PIN that waits in the session
    assert "sessionid" in client.cookies
    for url in ["/", "/series/ai/", "/series/ai/premium-two/"]:
        assert not is_public(client.get(url)), url


def pages_with_secrets(reader, series) -> dict[str, str]:
    """Pages that show a PIN or a secret token, and the secret each shows."""
    services.grant(user=reader, series=series)
    feed = services.renew_feed_token(user=reader).token
    unsubscribe = unsubscribe_token(reader)
    return {
        "/access/mine/": feed,
        "/id/access/mine/": feed,
        f"/access/feed/{feed}/": feed,
        f"/access/unsubscribe/{unsubscribe}/": unsubscribe,
    }


def test_pages_that_show_a_pin_or_a_token_forbid_compressing_them(site, reader):
    client = Client()
    client.force_login(reader)
    for url, secret in pages_with_secrets(reader, site).items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert secret in response.content.decode(), url
        assert "no-transform" in response["Cache-Control"], url
    for url in ["/accounts/login/", "/id/accounts/password/reset/", REDEEM, "/admin/"]:
        assert "no-transform" in client.get(url)["Cache-Control"], url


@pytest.mark.parametrize("url", ["/", "/series/ai/", "/series/ai/premium-two/", "/feed/"])
def test_reader_pages_may_be_compressed(site, url):
    assert "no-transform" not in Client().get(url).get("Cache-Control", "")


class TestForwardedHeaders:
    """Believed from the proxy (FORWARDED_ALLOW_IPS), dropped from anyone else."""

    @pytest.fixture(autouse=True)
    def behind_a_proxy(self, settings):
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.SECURE_SSL_REDIRECT = True
        settings.TRUSTED_PROXY_COUNT = 1
        settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/24"]

    def test_https_as_the_proxy_says(self, site):
        response = Client().get(
            "/", REMOTE_ADDR="10.0.0.10", headers={"x-forwarded-proto": "https"}
        )
        assert response.status_code == 200

    def test_not_as_anyone_else_says(self, site):
        response = Client().get(
            "/", REMOTE_ADDR="203.0.113.9", headers={"x-forwarded-proto": "https"}
        )
        assert response.status_code == 301  # plain http: to the https address

    @pytest.mark.parametrize(
        ("remote", "recorded"), [("10.0.0.10", "198.51.100.7"), ("203.0.113.9", "203.0.113.9")]
    )
    def test_the_client_address_of_the_pin_throttle(self, site, reader, remote, recorded):
        client = Client()
        client.force_login(reader)
        client.post(
            REDEEM,
            {"pin": "ZZZZ-ZZZZ-ZZZZ"},
            REMOTE_ADDR=remote,
            headers={"x-forwarded-for": "198.51.100.7", "x-forwarded-proto": "https"},
            secure=True,
        )
        assert RedemptionAttempt.objects.get().ip == recorded


def test_a_forwarded_allow_ips_that_is_no_address_stops_start_up():
    import subprocess
    import sys

    from tests.e2e.servers import ROOT

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={"ENV_FILE": "/nonexistent", "DEBUG": "1", "FORWARDED_ALLOW_IPS": "10.0.0.10,proxy"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "FORWARDED_ALLOW_IPS: 'proxy' is not an IP address or network." in result.stderr


def test_a_reader_with_a_session_is_told_the_page_varies_on_it(site):
    client = Client()
    client.force_login(make_user())
    assert "Cookie" in client.get("/series/ai/")["Vary"]
