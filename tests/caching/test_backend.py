"""The site serves without its cache: Redis refused or hung costs a fraction of a second, is
logged once, and never stops a log-in; the PIN throttle (in the database) still holds."""

import logging
import socket
import time
import uuid

import pytest
from django.core.cache import caches

from caching import backend
from tests.access.helpers import REDEEM
from tests.e2e.servers import Outage, free_port
from tests.redis_server import REDIS, require_redis

pytestmark = pytest.mark.django_db


def use_redis_at(settings, port: int) -> None:
    """The site's cache, as settings.py configures it with REDIS_URL, on this port; database 7
    and a key prefix of this test's own, never anyone else's keys."""
    settings.CACHES = {
        "default": {
            "BACKEND": "caching.backend.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/7",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    backend.FailSoftRedisCache._outages.clear()


@pytest.fixture
def refused(settings):
    use_redis_at(settings, free_port())  # nothing listens there


@pytest.fixture
def hung(settings):
    """A server that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        use_redis_at(settings, listener.getsockname()[1])
        yield


@pytest.fixture
def proxied_redis(settings):
    require_redis()
    outage = Outage(*REDIS)
    use_redis_at(settings, outage.port)
    yield outage
    outage.close()


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_without_redis_reads_miss_and_writes_are_forgotten(request, fault):
    request.getfixturevalue(fault)
    cache = caches["default"]
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is True  # so that allauth's cache lock opens
    assert cache.set("k", 1) is None
    assert cache.get_many(["k", "j"]) == {}
    assert cache.has_key("k") is False
    assert cache.set_many({"k": 1}) == []
    assert cache.delete("k") is False
    assert cache.get_or_set("k", 5) == 5
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.ping() is False


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_an_outage_costs_one_short_timeout_and_one_log_line_not_one_per_call(
    request, caplog, fault
):
    request.getfixturevalue(fault)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="caching.backend"):
        for _ in range(200):
            caches["default"].get("k")
    assert time.monotonic() - started < 2  # one 0.25 s timeout, then Redis is left alone
    lines = [r.getMessage() for r in caplog.records if r.name == "caching.backend"]
    assert len(lines) == 1
    assert "Cache unreachable" in lines[0] and "rate limits are off" in lines[0]


def test_redis_is_tried_again_after_the_interval_and_its_return_is_logged(
    proxied_redis, caplog, monkeypatch
):
    cache = caches["default"]
    cache.set("k", "before")
    proxied_redis.cut()
    assert cache.get("k") is None
    proxied_redis.restore()
    assert cache.get("k") is None  # still within the interval: not asked
    clock = time.monotonic() + backend.RETRY_SECONDS + 1
    monkeypatch.setattr(backend.time, "monotonic", lambda: clock)
    with caplog.at_level(logging.WARNING, logger="caching.backend"):
        assert cache.get("k") == "before"
    assert any("is back after" in r.getMessage() for r in caplog.records)


def test_its_return_renews_the_content_generation(proxied_redis, monkeypatch):
    """Writes made while Redis was away were lost (a lesson made premium renewed a generation
    nobody saw): when it answers again, nothing kept before is used."""
    from caching import generation

    cache = caches["default"]
    generation.invalidate()
    before = cache.get(generation.KEY)
    proxied_redis.cut()
    assert cache.get("k") is None
    proxied_redis.restore()
    clock = time.monotonic() + backend.RETRY_SECONDS + 1
    monkeypatch.setattr(backend.time, "monotonic", lambda: clock)
    # The first call that reaches Redis again: this worker's own read of the generation.
    current = generation.current()
    assert cache.get(generation.KEY) not in (before, None)
    assert current == cache.get(generation.KEY)  # not the one read as Redis came back


def test_a_ping_always_asks_redis(proxied_redis):
    cache = caches["default"]
    proxied_redis.cut()
    assert cache.ping() is False
    proxied_redis.restore()
    assert cache.ping() is True
    cache.set("k", "v")
    assert cache.get("k") == "v"  # and the cache is in use again at once


LOGIN = {"login": "reader@example.com", "password": "correct horse battery"}


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_readers_log_in_sign_up_and_reset_without_redis(request, client, reader, fault):
    request.getfixturevalue(fault)
    assert client.post("/accounts/login/", LOGIN).status_code == 302
    client.logout()
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert response.status_code == 302
    client.logout()
    response = client.post("/accounts/password/reset/", {"email": "reader@example.com"})
    assert response.status_code == 302


def test_the_pin_throttle_holds_without_redis(refused, reader_client):
    statuses = [reader_client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
