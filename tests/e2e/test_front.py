"""The front: nginx started from docs/samples/nginx.conf (tests/e2e/front.py) before the
production server, over TLS with a certificate made now. What it promises: HTTP/2,
compression except where a PIN or a token shows, static files from disk kept for good,
anonymous pages kept for a moment and never anyone else's, only its own X-Forwarded-*,
limits on what a request sends, and slow clients held by nginx rather than the app."""

import gzip
import http.server
import re
import shutil
import socket
import sqlite3
import ssl
import threading
import time

import pytest

from tests.e2e.front import Front, require_nginx
from tests.e2e.servers import PUBLIC_HOST, Gunicorn, create_reader, free_port, manage, server_env

EMAIL, PASSWORD = "reader@example.com", "a-long-pass-phrase-9"
SECRET = "SECRET-PREMIUM-SENTENCE"
# Text that compresses as a lesson does: prose and code.
PROSE = "\n\n".join(
    f"Paragraph {n}: a language model predicts the next token from the ones before it, "
    f"and a prompt is the start of the text it continues.\n\n```python\nprint({n})\n```"
    for n in range(40)
)
SITE = f"""
from datetime import timedelta
from django.utils import timezone
from lessons.models import Lesson, Series
from lessons.services import save_lesson, save_series
series = Series(title="Front", slug="front", is_published=True, language="en")
save_series(series)
for number, slug, access, body in [
    (1, "free", "free", {PROSE!r}),
    (2, "premium", "premium", "Public opening.\\n\\n<!-- more -->\\n\\n{SECRET}"),
]:
    save_lesson(Lesson(
        series=series, number=number, slug=slug, title=slug.title(), access=access,
        status="published", published_at=timezone.now() - timedelta(days=1), body=body,
    ))
"""
# The reader holds the series and has a private feed.
GRANT = f"""
from access import services
from accounts.models import User
from lessons.models import Series
reader = User.objects.get(email={EMAIL!r})
services.grant(user=reader, series=Series.objects.get(slug="front"))
services.renew_feed_token(user=reader)
"""
# A drawing as big as a lesson's diagram, served as a static file.
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400">'
    + "".join(
        f'<rect x="{n}" y="{n}" width="40" height="20" fill="#3b82f6" stroke="#1e3a8a"/>'
        for n in range(60)
    )
    + "</svg>"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory, static_root):
    require_nginx()
    folder = tmp_path_factory.mktemp("front")
    env = server_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=f"sqlite:///{folder}/db.sqlite3",
        SECURE_HTTPS="1",
        BEHIND_TLS_PROXY="1",
        TRUSTED_PROXY_COUNT="1",
        ALLOWED_HOSTS=PUBLIC_HOST,
    )
    manage("migrate", "-v0", env=env)
    manage("createcachetable", env=env)
    manage("shell", "-c", SITE, env=env)
    create_reader(EMAIL, PASSWORD, env=env)
    manage("shell", "-c", GRANT, env=env)
    return env, folder


@pytest.fixture(scope="module")
def front(site, static_root):
    env, folder = site
    static = folder / "static"
    shutil.copytree(static_root, static)
    (static / "diagram.svg").write_text(SVG)
    media = folder / "media"
    media.mkdir()
    # One app server with one worker behind both of the sample's upstream entries: a slow
    # client that reached it would hold the whole site.
    with Gunicorn(env, workers=1) as app:
        upstream = f"127.0.0.1:{app.port}"
        with Front(upstreams=[upstream, upstream], static_root=static, media_root=media) as f:
            f.database = folder / "db.sqlite3"
            yield f


@pytest.fixture(scope="module")
def reader(front):
    """A browser logged in through the front, with its session cookie (once: logging in
    hashes a password as production does)."""
    browser = front.client()
    response = browser.post_form("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert response.status == 302, response.text[-2000:]
    assert "sessionid" in browser.cookies
    return browser


def asset(front, pattern: str) -> str:
    return re.search(pattern, front.client().get("/series/front/free/").text)[1]


class TestTLS:
    def test_http2_is_offered_over_tls_1_2_or_later(self, front):
        context = front.tls_context(alpn=("h2", "http/1.1"))
        with (
            socket.create_connection(("127.0.0.1", front.https)) as raw,
            context.wrap_socket(raw, server_hostname=PUBLIC_HOST) as tls,
        ):
            assert tls.selected_alpn_protocol() == "h2"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.getpeercert()["subjectAltName"] == (("DNS", PUBLIC_HOST),)

    def test_plain_http_is_sent_to_https(self, front):
        with socket.create_connection(("127.0.0.1", front.http)) as raw:
            raw.sendall(f"GET /series/front/?a=1 HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n\r\n".encode())
            head = raw.recv(4096).decode()
        assert head.startswith("HTTP/1.1 301")
        assert f"Location: https://{PUBLIC_HOST}:{front.https}/series/front/?a=1" in head

    def test_another_host_name_gets_nothing(self, front):
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", front.https)) as raw,
            pytest.raises(ssl.SSLError),
        ):
            context.wrap_socket(raw, server_hostname="elsewhere.example")
        with socket.create_connection(("127.0.0.1", front.http)) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n")
            assert raw.recv(4096) == b""


def compressed(front, path: str, encoding: str, client=None):
    client = client or front.client()
    plain = client.get(path)
    packed = client.get(path, **{"Accept-Encoding": encoding})
    return plain, packed


class TestCompression:
    @pytest.mark.parametrize(
        "what",
        ["html", "indonesian html", "feed", "atom feed", "css", "js", "svg"],
    )
    def test_text_is_sent_gzipped_to_a_browser_that_takes_it(self, front, what):
        path = {
            "html": "/series/front/free/",
            "indonesian html": "/id/series/front/free/",
            "feed": "/feed/",
            "atom feed": "/series/front/feed/atom/",
            "css": asset(front, r'href="(/static/css/site\.[0-9a-f]{12}\.css)"'),
            "js": asset(front, r'src="(/static/js/copy\.[0-9a-f]{12}\.js)"'),
            "svg": "/static/diagram.svg",
        }[what]
        plain, packed = compressed(front, path, "gzip")
        assert plain.status == packed.status == 200
        assert plain.header("Content-Encoding") == ""
        assert packed.header("Content-Encoding") == "gzip"
        assert gzip.decompress(packed.body) == plain.body
        assert len(packed.body) < len(plain.body) / 2
        assert "Accept-Encoding" in packed.header("Vary")

    @pytest.mark.parametrize(
        "path", ["/series/front/free/", "/feed/", "/static/diagram.svg", "/static/css/site.css"]
    )
    def test_brotli_where_nginx_has_it(self, front, path):
        if not front.brotli:
            require_brotli()
        plain, packed = compressed(front, path, "gzip, deflate, br")
        assert packed.header("Content-Encoding") == "br"
        assert len(packed.body) < len(plain.body) / 2

    def test_small_responses_are_sent_as_they_are(self, front):
        _, packed = compressed(front, "/static/favicon.svg", "gzip, br")
        assert packed.status == 200 and packed.header("Content-Encoding") == ""


def require_brotli():
    import os

    reason = "this nginx cannot load the brotli modules (libnginx-mod-http-brotli-filter)"
    if os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail(f"REQUIRE_NGINX=1 (CI installs the brotli modules) but {reason}")
    pytest.skip(reason)


class TestSecretsAreNeverCompressed:
    """BREACH: a page that shows a PIN or a token is never compressed, whatever the browser
    accepts; the app marks such pages no-transform and nginx leaves the same paths alone."""

    @pytest.mark.parametrize(
        "path",
        [
            "/access/redeem/",
            "/id/access/redeem/",
            "/access/mine/",
            "/id/access/mine/",
            "/accounts/email/",
            "/id/accounts/password/change/",
            "/admin/",
        ],
    )
    def test_account_access_and_admin_pages(self, front, reader, path):
        response = reader.get(path, **{"Accept-Encoding": "gzip, deflate, br"})
        assert response.status in (200, 302), path
        assert response.header("Content-Encoding") == "", path
        assert "no-transform" in response.header("Cache-Control"), path

    def test_a_private_feed_and_the_page_with_its_address(self, front, reader):
        page = reader.get("/access/mine/", **{"Accept-Encoding": "gzip, br"})
        feed = re.search(r"https://[^\"<\s]+/access/feed/([\w-]+)/", page.text)
        assert feed, "My access shows the private feed's address"
        response = reader.get(f"/access/feed/{feed[1]}/", **{"Accept-Encoding": "gzip, br"})
        assert response.status == 200
        assert feed[1] in response.text
        assert page.header("Content-Encoding") == response.header("Content-Encoding") == ""

    def test_every_page_the_app_marks_no_transform_comes_uncompressed(self, front, reader):
        """Crawled through the front logged in: where the app says no-transform, nginx
        compressed nothing; where it did not, HTML is compressed."""
        seen, pending, marked = set(), ["/", "/id/", "/access/mine/"], 0
        while pending and len(seen) < 60:
            path = pending.pop()
            if path in seen:
                continue
            seen.add(path)
            response = reader.get(path, **{"Accept-Encoding": "gzip, br"})
            if "no-transform" in response.header("Cache-Control"):
                marked += 1
                assert response.header("Content-Encoding") == "", path
            elif response.status == 200 and "text/html" in response.header("Content-Type"):
                assert response.header("Content-Encoding") in ("gzip", "br"), path
            if "text/html" in response.header("Content-Type"):
                body = response.body
                if response.header("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                for href in re.findall(r'href="(/[^"#]*)"', body.decode(errors="replace")):
                    if not href.startswith(("/static/", "/accounts/logout", "/id/accounts/logout")):
                        pending.append(href.replace("&amp;", "&"))
        assert marked >= 3


class TestStaticFiles:
    def test_from_disk_and_kept_for_good(self, front):
        path = asset(front, r'href="(/static/css/site\.[0-9a-f]{12}\.css)"')
        response = front.client().get(path)
        assert response.status == 200
        assert response.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert response.header("X-Content-Type-Options") == "nosniff"
        # Not the app's: it would have sent its security headers.
        assert response.header("Referrer-Policy") == ""
        assert "/static/css/site." in front.access_log()

    def test_a_name_without_its_hash_is_kept_for_an_hour_only(self, front):
        response = front.client().get("/static/css/site.css")
        assert response.header("Cache-Control") == "public, max-age=3600"


class TestMicroCache:
    """Anonymous pages only, by address (which names the language), never a response that
    sets a cookie, and only as long as the app says (s-maxage)."""

    def test_an_anonymous_page_is_kept_by_its_address(self, front):
        path = f"/series/front/?n={time.monotonic_ns()}"
        first, second = front.client().get(path), front.client().get(path)
        assert (first.header("X-Cache"), second.header("X-Cache")) == ("MISS", "HIT")
        assert first.body == second.body
        assert first.header("Cache-Control").startswith("public, max-age=0, s-maxage=")

    def test_each_language_at_its_address_and_never_by_the_browsers_language(self, front):
        stamp = time.monotonic_ns()
        english = front.client().get(f"/series/front/?n={stamp}")
        indonesian = front.client().get(f"/id/series/front/?n={stamp}")
        assert '<html lang="en">' in english.text and '<html lang="id">' in indonesian.text
        again = front.client().get(f"/series/front/?n={stamp}", **{"Accept-Language": "id"})
        assert again.header("X-Cache") == "HIT" and '<html lang="en">' in again.text

    @pytest.mark.parametrize("cookie", ["sessionid", "messages", "django_language"])
    def test_a_visitor_with_a_session_messages_or_the_old_language_cookie_is_passed_by(
        self, front, cookie
    ):
        path = f"/series/front/free/?n={time.monotonic_ns()}"
        front.client().get(path)
        visitor = front.client(cookies={cookie: "id" if cookie == "django_language" else "x"})
        response = visitor.get(path)
        assert response.header("X-Cache") == "BYPASS"
        if cookie == "django_language":
            assert response.status == 302  # to the Indonesian address, once

    def test_a_logged_in_page_is_never_kept_nor_given_to_anyone_else(self, front, reader):
        path = f"/series/front/premium/?n={time.monotonic_ns()}"
        mine = reader.get(path)
        assert mine.header("X-Cache") == "BYPASS"
        assert "private" in mine.header("Cache-Control")
        assert "Log out" in mine.text and SECRET in mine.text
        anonymous = [front.client().get(path) for _ in range(2)]
        assert [r.header("X-Cache") for r in anonymous] == ["MISS", "HIT"]
        assert all("Log out" not in r.text and SECRET not in r.text for r in anonymous)

    def test_private_pages_are_never_kept(self, front):
        path = f"/search/?q=language&n={time.monotonic_ns()}"
        responses = [front.client().get(path) for _ in range(2)]
        assert "private" in responses[0].header("Cache-Control")
        assert [r.header("X-Cache") for r in responses] == ["MISS", "MISS"]


class TestForwardedHeaders:
    def test_a_client_cannot_pass_for_plain_http_or_another_address(self, front, reader):
        forged = {
            "X-Forwarded-For": "203.0.113.99",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "for=203.0.113.99;proto=http",
        }
        page = reader.get("/series/front/premium/", **forged)
        assert page.status == 200  # not sent to https again: the app saw nginx's https
        assert f'href="https://{PUBLIC_HOST}/series/front/premium/"' in page.text
        response = reader.post_form("/access/redeem/", {"pin": "ZZZZ-ZZZZ-ZZZZ"}, **forged)
        assert response.status == 400  # a wrong PIN, counted
        with sqlite3.connect(front.database) as db:
            addresses = {ip for (ip,) in db.execute("SELECT ip FROM access_redemptionattempt")}
        assert addresses == {"127.0.0.1"}


class TestLimits:
    def test_a_body_over_the_limit_is_refused_before_the_app(self, front):
        response = front.client().request(
            "POST", "/access/redeem/", body=b"x" * (6 * 1024 * 1024 + 1),
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert response.status == 413

    def test_headers_over_the_limit_are_refused(self, front):
        response = front.client(cookies={"big": "x" * 9000}).get("/")
        assert response.status == 400
        many = {f"X-Filler-{n}": "y" * 7000 for n in range(6)}
        assert front.client().get("/", **many).status == 400


class TestSlowClients:
    def _slow(self, front, request: bytes) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", front.https))
        tls = front.tls_context().wrap_socket(raw, server_hostname=PUBLIC_HOST)
        tls.sendall(request)
        return tls

    def test_a_slow_client_holds_nginx_not_the_app(self, front):
        """The app has one worker. Clients that send half a request and wait hold nothing
        of it: nginx passes a request on only once it has all of it."""
        slow = [
            self._slow(front, f"GET / HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nX-Slow: 1".encode()),
            self._slow(
                front,
                f"POST /access/redeem/ HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1000\r\n\r\npin=ZZZZ".encode(),
            ),
        ]
        try:
            others = [front.client(timeout=5).get("/series/front/free/") for _ in range(3)]
            assert [r.status for r in others] == [200, 200, 200]
        finally:
            for s in slow:
                s.close()

    def test_a_client_that_stops_sending_is_cut_off(self, front):
        """nginx waits client_header_timeout (10 s) for a request's headers, then closes."""
        tls = self._slow(front, f"GET / HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n".encode())
        tls.settimeout(20)
        try:
            assert tls.recv(4096) in (b"", b"HTTP/1.1 408")
        except (ConnectionResetError, ssl.SSLError):
            pass  # closed, which is what is asked
        finally:
            tls.close()


class _AppThatMisbehaves(http.server.BaseHTTPRequestHandler):
    """An app that marks a response public *and* sets a cookie on it."""

    def do_GET(self):
        body = f"visitor {time.monotonic_ns()}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Cache-Control", "public, s-maxage=600")
        self.send_header("Set-Cookie", f"sessionid={time.monotonic_ns()}; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_response_that_sets_a_cookie_is_never_kept(static_root, tmp_path):
    """Whatever the app says: a kept response would hand one visitor's cookie to the next."""
    require_nginx()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AppThatMisbehaves)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"127.0.0.1:{server.server_address[1]}"
    try:
        with Front(
            upstreams=[upstream, upstream], static_root=static_root, media_root=tmp_path
        ) as f:
            responses = [f.client().get("/") for _ in range(2)]
            assert [r.header("X-Cache") for r in responses] == ["MISS", "MISS"]
            first, second = (r.headers.get("Set-Cookie") for r in responses)
            assert first and second and first != second
    finally:
        server.shutdown()


def test_a_get_goes_to_the_other_app_server_when_one_does_not_answer(site, front, static_root):
    """The sample's upstream with its first server away (nothing listens on its port)."""
    env, folder = site
    with Gunicorn(env, workers=1) as app:
        away = f"127.0.0.1:{free_port()}"
        with Front(upstreams=[away, f"127.0.0.1:{app.port}"], static_root=static_root,
                   media_root=folder / "media") as f:  # fmt: skip
            statuses = [f.client().get(f"/series/front/?n={n}").status for n in range(6)]
            login = f.client().post_form("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert statuses == [200] * 6
    assert login.status == 302
