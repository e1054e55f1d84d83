"""Several server processes on one database: throttles are shared, and the site survives the
database going away."""

import json
import time
import uuid

import pytest
from django.db import connection

from tests.access.helpers import REDEEM
from tests.e2e.servers import Browser, Gunicorn, Outage, create_reader, manage, server_env
from tests.postgres import require_postgres
from tests.redis_server import require_redis

EMAIL, PASSWORD = "reader@example.com", "a-long-pass-phrase-9"


@pytest.fixture(params=["database cache", "redis cache"])
def two_servers(request, tmp_path, static_root):
    extra = {"STATIC_ROOT": str(static_root), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    if request.param == "redis cache":
        require_redis()
        extra["REDIS_URL"] = "redis://127.0.0.1:6379/7"
        # A key prefix of this run's own: never clear or share anyone else's keys.
        extra["CACHE_KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    env = server_env(**extra)
    manage("migrate", "-v0", env=env)
    manage("createcachetable", env=env)
    create_reader(EMAIL, PASSWORD, env=env)
    with Gunicorn(env) as first, Gunicorn(env) as second:
        yield first, second


def test_the_pin_throttle_counts_attempts_across_processes(two_servers):
    first, second = two_servers
    reader = Browser()
    status, _ = reader.post_form(
        first.url + "/accounts/login/", {"login": EMAIL, "password": PASSWORD}
    )
    assert status == 302
    statuses = [
        reader.post_form(server.url + REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"})[0]
        for server in [first, second, first, second, first]
    ]
    assert statuses == [400] * 5
    status, page = reader.post_form(second.url + REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"})
    assert status == 429
    assert "Too many wrong PINs" in page


def test_allauth_login_limit_counts_attempts_across_processes(two_servers):
    first, second = two_servers
    for server in [first, second, first, second, first]:
        status, page = Browser().post_form(
            server.url + "/accounts/login/", {"login": EMAIL, "password": "wrong"}
        )
        assert "not correct" in page, page[-3000:]
    status, page = Browser().post_form(
        second.url + "/accounts/login/", {"login": EMAIL, "password": PASSWORD}
    )
    assert status != 302
    assert "Too many failed login attempts" in page


def timed(call):
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["cut", "hang"])
def test_readers_get_503_within_seconds_while_postgresql_is_away_and_the_site_recovers(
    static_root, series, fault
):
    """cut: the database refuses; hang: it accepts connections and never answers. Either way
    a page already kept goes on being served, and any other page is the styled 503 within
    seconds (not gunicorn's 30 s kill and a 500)."""
    require_postgres()
    from tests.factories import make_lesson

    kept = make_lesson(series, body="Kept in memory.")
    lesson = make_lesson(series, body="Readable again.")
    db = connection.settings_dict
    outage = Outage(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    url = f"postgres://{db['USER']}@127.0.0.1:{outage.port}/{db['NAME']}"
    env = server_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=url,
        CONN_MAX_AGE="60",
        # The shortest timeouts, to keep the suite quick; the defaults are a little longer.
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_STATEMENT_TIMEOUT="2",
    )
    reader = Browser()
    try:
        with Gunicorn(env) as server:
            page = server.url + lesson.get_absolute_url()
            assert reader.request(server.url + kept.get_absolute_url())[0] == 200
            getattr(outage, fault)()
            status, body = reader.request(server.url + kept.get_absolute_url())
            assert status == 200 and "Kept in memory." in body
            # The page tries the connection kept from before; /healthz then a new one.
            seconds, (status, body) = timed(lambda: reader.request(page))
            assert status == 503
            assert "Back in a moment" in body and "Traceback" not in body
            assert seconds < 15
            seconds, (status, body) = timed(lambda: reader.request(server.url + "/healthz"))
            assert status == 503
            assert json.loads(body)["database"] == "down"
            assert seconds < 15
            outage.restore()
            status, body = reader.request(page)
            assert status == 200
            assert "Readable again." in body
            assert reader.request(server.url + "/healthz")[0] == 200
    finally:
        outage.close()


@pytest.mark.parametrize("fault", ["cut", "hang"])
def test_readers_log_in_and_read_while_redis_is_away(tmp_path, static_root, fault):
    """Without Redis, log-in works (allauth's limits open), pages are served, /healthz says
    the cache is down but answers 200, and the outage is logged once, not per request."""
    require_redis()
    outage = Outage("127.0.0.1", 6379)
    env = server_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        REDIS_URL=f"redis://127.0.0.1:{outage.port}/7",
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )
    manage("migrate", "-v0", env=env)
    create_reader(EMAIL, PASSWORD, env=env)
    try:
        with Gunicorn(env) as server:
            assert json.loads(Browser().request(server.url + "/healthz")[1])["cache"] == "up"
            getattr(outage, fault)()
            for _ in range(3):
                reader = Browser()
                seconds, (status, _) = timed(
                    lambda reader=reader: reader.post_form(
                        server.url + "/accounts/login/", {"login": EMAIL, "password": PASSWORD}
                    )
                )
                assert status == 302
                assert seconds < 5
                assert reader.request(server.url + "/access/mine/")[0] == 200
            status, body = Browser().request(server.url + "/healthz")
            assert status == 200
            assert json.loads(body) == {"status": "degraded", "database": "up", "cache": "down"}
            server.log.seek(0)
            assert server.log.read().decode().count("Cache unreachable") == 1
            outage.restore()
            status, body = Browser().request(server.url + "/healthz")
            assert json.loads(body) == {"status": "ok", "database": "up", "cache": "up"}
    finally:
        outage.close()


CANARY = "CANARY-PREMIUM-SENTENCE"
MAKE_LESSON = f"""
from datetime import timedelta
from django.utils import timezone
from lessons.models import Lesson, Series
from lessons.services import save_lesson, save_series
series = Series(title="Outage", slug="outage", is_published=True)
save_series(series)
save_lesson(Lesson(
    series=series, number=1, slug="one", title="One", access="free", status="published",
    published_at=timezone.now() - timedelta(days=1),
    body="Opening words.\\n\\n<!-- more -->\\n\\n{CANARY}",
))
"""
# As a bulk write does (lessons.services): the write, and its invalidation (lost while Redis
# is away).
MAKE_PREMIUM = """
import time
from lessons.models import Lesson
from lessons.services import update_lessons
changed_at = time.time()
update_lessons(Lesson.objects.filter(slug="one"), access="premium")
print(changed_at)
"""


def test_a_lesson_made_premium_while_redis_is_away_stops_being_served_in_full_within_the_bound(
    tmp_path, static_root
):
    """Redis cut: a change made in another process cannot reach the workers through the
    shared generation, so they keep nothing longer than generation.UNREAD_SECONDS. Polled
    until a deadline (the bound and a margin for two busy processes): no anonymous reader gets
    the full text after it, from a page kept before the cut or during it."""
    from caching import generation

    require_redis()
    outage = Outage("127.0.0.1", 6379)
    env = server_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        REDIS_URL=f"redis://127.0.0.1:{outage.port}/7",
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )
    manage("migrate", "-v0", env=env)
    manage("shell", "-c", MAKE_LESSON, env=env)
    bound = max(generation.UNREAD_SECONDS, generation.GENERATION_CHECK_SECONDS)
    try:
        with Gunicorn(env, workers=2) as server:
            page = server.url + "/series/outage/one/"
            for _ in range(10):  # kept by both workers
                assert CANARY in Browser().request(page)[1]
            outage.cut()
            time.sleep(generation.GENERATION_CHECK_SECONDS + 0.5)  # the workers find it away
            for _ in range(10):  # and keep the page again, in the outage
                assert CANARY in Browser().request(page)[1]
            changed_at = float(manage("shell", "-v0", "-c", MAKE_PREMIUM, env=env))
            deadline = changed_at + bound + 3
            while (asked_at := time.time()) < deadline + 2:
                status, body = Browser().request(page)
                assert status == 200
                assert CANARY not in body or asked_at <= deadline, (
                    f"served in full when asked {asked_at - changed_at:.1f} s after the lesson "
                    "was made premium"
                )
                time.sleep(0.05)
    finally:
        outage.close()
