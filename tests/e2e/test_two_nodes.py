"""Two app servers on one PostgreSQL and one Redis, behind the tested front (docs/samples/
nginx.conf, tests/e2e/front.py): a change made on one is served by the other within the bound
docs/performance.md names, a PIN redeemed on one opens the lesson on the other at once, and
when one dies under load nginx retries what it can and no redemption is lost or half made.

The servers share the test database (committed: transactional tests) and this process's
SECRET_KEY and PIN_HASH_KEY, so a session or a PIN made here is good on them."""

import threading
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as DjangoClient

from access.models import AccessPin, Entitlement
from caching import generation
from tests.access.helpers import REDEEM, issue
from tests.e2e.front import Client, Front, require_nginx
from tests.e2e.servers import PUBLIC_HOST, Gunicorn, server_env
from tests.factories import make_lesson, make_series, make_staff, make_user
from tests.postgres import require_postgres
from tests.redis_server import require_redis

pytestmark = pytest.mark.django_db(transaction=True)
CANARY = "CANARY-PREMIUM-SENTENCE"
# docs/performance.md: how long after a change one server may still serve what another
# changed: the page generation is read every GENERATION_CHECK_SECONDS; through the front,
# nginx may keep a page s-maxage seconds and serve it stale-while-revalidate more (it counts
# whole seconds: one more).
APP_BOUND = generation.GENERATION_CHECK_SECONDS
FRONT_BOUND = APP_BOUND + settings.SHARED_CACHE_SECONDS + settings.SHARED_CACHE_STALE_SECONDS + 1
# What two busy server processes on two cores may add to a request.
MARGIN = 3


class Nodes:
    def __init__(self, env, static_root, media_root):
        self.env = env
        self.a = Gunicorn(env, workers=2)
        try:
            self.b = Gunicorn(env, workers=2)
            try:
                self.front = Front(
                    upstreams=[f"127.0.0.1:{self.a.port}", f"127.0.0.1:{self.b.port}"],
                    static_root=static_root,
                    media_root=media_root,
                )
            except BaseException:
                self.b.stop()
                raise
        except BaseException:
            self.a.stop()
            raise

    def restart_a(self):
        self.a = Gunicorn(self.env, workers=2, port=self.a.port)

    def stop(self):
        for part in (self.front, self.a, self.b):
            part.stop()


@pytest.fixture(scope="module")
def nodes(django_db_setup, django_db_blocker, static_root, tmp_path_factory):
    require_postgres()
    require_redis()
    require_nginx()
    db = connection.settings_dict
    env = server_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}",
        CONN_MAX_AGE="60",
        REDIS_URL="redis://127.0.0.1:6379/7",
        # A key prefix of this run's own: never clear or share anyone else's keys.
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        SECRET_KEY=settings.SECRET_KEY,
        PIN_HASH_KEY=settings.PIN_HASH_KEY,
        SECURE_HTTPS="1",
        BEHIND_TLS_PROXY="1",
        TRUSTED_PROXY_COUNT="1",
        ALLOWED_HOSTS=PUBLIC_HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{PUBLIC_HOST}",
    )
    nodes = Nodes(env, static_root, tmp_path_factory.mktemp("media"))
    try:
        yield nodes
    finally:
        nodes.stop()


def site(access="free"):
    """A series of its own (the servers outlive each test's data) with one lesson whose
    words after the cut are the canary."""
    series = make_series(slug=f"s-{uuid.uuid4().hex[:8]}")
    lesson = make_lesson(
        series, number=1, slug="one", access=access, body=f"Opening.\n\n<!-- more -->\n\n{CANARY}"
    )
    return series, lesson


def logged_in(user, **where) -> Client:
    """A browser holding a session made here for `user`."""
    django = DjangoClient()
    django.force_login(user)
    return Client(cookies={"sessionid": django.cookies["sessionid"].value}, **where)


class _Form(HTMLParser):
    """The fields of the form with id `form_id`, as a browser would send them."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self.textarea = self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.fields[name] = attrs.get("value") or ("on" if "checked" in attrs else "")
        elif tag == "textarea" and name:
            self.textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self.select = name
        elif (
            tag == "option"
            and self.select
            and ("selected" in attrs or self.select not in self.fields)
        ):
            self.fields[self.select] = attrs.get("value", "")

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def submit(browser: Client, path: str, form_id: str, **changes):
    """Open the page, change some of its form's fields and send it, as staff would."""
    page = browser.get(path)
    assert page.status == 200, page.text[-2000:]
    form = _Form(form_id)
    form.feed(page.text)
    assert form.fields, f"no form {form_id} on {path}"
    data = {**form.fields, **changes}
    return browser.request(
        "POST",
        path,
        body=urlencode(data).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://{PUBLIC_HOST}",
        },
    )


def has_canary(browser: Client, path: str) -> bool:
    response = browser.get(path)
    assert response.status == 200, (path, response.status)
    return CANARY in response.text


def test_a_lesson_made_premium_on_one_server_is_never_served_in_full_by_the_other_past_the_bound(
    nodes,
):
    _, lesson = site("free")
    path = lesson.get_absolute_url()
    node_b = Client(app_port=nodes.b.port)
    for _ in range(6):  # kept by each worker of B, and by nginx
        assert has_canary(node_b, path)
        assert has_canary(nodes.front.client(), path)
    staff = logged_in(make_staff(is_superuser=True), app_port=nodes.a.port)
    response = submit(
        staff, f"/{settings.ADMIN_PATH}lessons/lesson/{lesson.pk}/change/", "lesson_form",
        access="premium",
    )  # fmt: skip
    assert response.status == 302, response.text[-3000:]
    changed_at = time.monotonic()
    while (asked_at := time.monotonic()) < changed_at + FRONT_BOUND + MARGIN + 2:
        for name, browser, bound in [
            ("A", Client(app_port=nodes.a.port), APP_BOUND),  # its other worker
            ("B", Client(app_port=nodes.b.port), APP_BOUND),
            ("front", nodes.front.client(), FRONT_BOUND),
        ]:
            if has_canary(browser, path):
                after = asked_at - changed_at
                assert after <= bound + MARGIN, f"{name} served it in full {after:.1f} s after"
        time.sleep(0.05)
    assert not has_canary(node_b, path) and not has_canary(nodes.front.client(), path)


def redeem(browser: Client, pin: str, lesson) -> int:
    page = browser.get(REDEEM)
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = browser.request(
        "POST",
        REDEEM,
        body=urlencode({"pin": pin, "lesson": lesson.pk, "csrfmiddlewaretoken": token}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://{PUBLIC_HOST}",
        },
    )
    return response.status


def test_a_pin_redeemed_on_one_server_opens_the_lesson_on_the_other_at_once(nodes):
    series, lesson = site("premium")
    reader = make_user()
    path = lesson.get_absolute_url()
    on_b = logged_in(reader, app_port=nodes.b.port)
    assert not has_canary(on_b, path)  # B keeps this reader's teaser page
    on_a = Client(cookies=on_b.cookies, app_port=nodes.a.port)
    assert redeem(on_a, issue(series), lesson) == 302
    assert has_canary(on_b, path)  # the first request after it
    assert has_canary(Client(front=nodes.front, cookies=on_b.cookies), path)


def test_when_one_server_dies_under_load_no_get_and_no_redemption_is_lost(nodes):
    """Readers load pages (anonymous and logged in) and redeem PINs through the front while
    server A is killed: every GET is answered (nginx retries it on B), and every redemption
    either happened whole (the reader reads the lesson) or not at all (the PIN is unused and
    works when sent again); never a used PIN without its access."""
    series, lesson = site("premium")
    path = lesson.get_absolute_url()
    readers = [make_user() for _ in range(12)]
    pins = {reader.pk: issue(series) for reader in readers}
    browsers = {reader.pk: logged_in(reader, front=nodes.front) for reader in readers}
    anonymous = [path, series.get_absolute_url(), "/", "/id/", "/feed/", "/search/?q=opening"]
    gets, redemptions, stop = [], {}, threading.Event()

    def load(n):
        browser = list(browsers.values())[n]
        while not stop.is_set():
            for target in anonymous:
                gets.append((target, nodes.front.client().get(target).status))
            gets.append(("logged in", browser.get(path).status))

    def redeem_all():
        for reader in readers:
            redemptions[reader.pk] = redeem(browsers[reader.pk], pins[reader.pk], lesson)
            time.sleep(0.15)

    workers = [threading.Thread(target=load, args=(n,)) for n in range(3)]
    workers.append(threading.Thread(target=redeem_all))
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.0)
        nodes.a.kill()
        killed_after = len(gets)
        workers[-1].join(timeout=60)
        time.sleep(1.0)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        nodes.restart_a()
    assert killed_after > 10 and len(gets) > killed_after + 10
    assert [g for g in gets if g[1] != 200] == []
    assert len(redemptions) == len(readers)
    assert set(redemptions.values()) <= {302, 502}  # 502: the server died with the POST
    for reader in readers:
        if redemptions[reader.pk] == 302:  # told it worked: it did
            assert Entitlement.objects.filter(user=reader, series=series).exists()
        else:  # sent again, it works (or had worked: the PIN opens the lesson either way)
            assert redeem(browsers[reader.pk], pins[reader.pk], lesson) in (302, 400)
        assert has_canary(browsers[reader.pk], path)
    for pin in AccessPin.objects.filter(series=series):
        assert pin.use_count == pin.entitlements.count() == 1
