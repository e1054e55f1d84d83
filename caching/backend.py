"""A Redis cache the site can do without.

Nothing the site keeps in the cache is needed to serve a reader: sessions, entitlements and
the PIN throttle live in the database. What lives in Redis is django-allauth's rate limits
(log-in, sign-up, password reset) and whatever is cached for speed. So while Redis cannot be
reached, this backend behaves as an empty cache that loses every write: reads miss, writes
(`add` among them) report success. Log-in, sign-up and reset keep working, their rate limits
open until Redis is back; the outage is logged as an error once a minute per process.

When Redis answers again, `recovered` is sent: the content generation, whose freshness rests
on writes made during the outage, is renewed (caching.apps).

After a failure Redis is left alone for RETRY_SECONDS, so a Redis that hangs instead of
refusing costs a request one short socket timeout per interval, not one per cache call.
`ping()` always asks Redis, for /healthz.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent in each process that sees the cache answer again after failing: writes made while it
# was away (by this process or any other) were lost, so what depends on them is made anew.
recovered = Signal()

RETRY_SECONDS = 5
LOG_SECONDS = 60


class _Outage:
    """What one process knows of one Redis location being away."""

    def __init__(self):
        self.since: float | None = None  # monotonic time of the first failure
        self.retry_at = 0.0
        self.logged_at = 0.0
        self.skipped = 0


class _Client(RedisCacheClient):
    """Django's client, which makes a redis-py client for every call (about 0.1 ms of Python
    each, several times a request); here one per connection pool, made once. A redis-py
    client holds no connection of its own: its pool lends one per command."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    # Per process and location, shared by the per-thread instances Django creates.
    _outages: dict[str, _Outage] = {}

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
        import redis

        self._unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._where = ",".join(self._servers)
        self._outage = self._outages.setdefault(self._where, _Outage())

    def _call(self, fallback, method, *args, **kwargs):
        outage, now = self._outage, time.monotonic()
        if outage.since is not None and now < outage.retry_at:
            outage.skipped += 1
            return fallback
        try:
            result = method(*args, **kwargs)
        except self._unreachable as error:
            self._failed(error, now)
            return fallback
        if outage.since is not None:
            self._recovered(now)
        return result

    def _failed(self, error, now: float) -> None:
        outage = self._outage
        outage.retry_at = now + RETRY_SECONDS
        if outage.since is None:
            outage.since, outage.skipped = now, 0
        if now - outage.logged_at >= LOG_SECONDS or outage.logged_at < outage.since:
            outage.logged_at = now
            logger.error(
                "Cache unreachable at %s for %.0f s (%s: %s): serving without it; log-in, "
                "sign-up and password-reset rate limits are off until it is back "
                "(%d cache calls skipped so far).",
                self._where,
                now - outage.since,
                type(error).__name__,
                error,
                outage.skipped,
            )

    def _recovered(self, now: float) -> None:
        outage = self._outage
        logger.warning(
            "Cache at %s is back after %.0f s; %d cache calls were skipped.",
            self._where,
            now - outage.since,
            outage.skipped,
        )
        outage.since, outage.retry_at, outage.skipped = None, 0.0, 0
        recovered.send(sender=type(self), location=self._where)

    def ping(self) -> bool:
        """Whether Redis answers now (always asked, whatever the last failure)."""
        now = time.monotonic()
        try:
            self._cache.get_client().ping()
        except self._unreachable as error:
            self._failed(error, now)
            return False
        if self._outage.since is not None:
            self._recovered(now)
        return True

    # While Redis is away: every read misses, every write succeeds and is forgotten.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(True, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._call(missing, super().incr, key, delta, version)
        if value is missing:
            raise ValueError(f"Key '{key}' not found.")  # as for any missing key
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call([], super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call(None, super().delete_many, keys, version)

    def clear(self):
        return self._call(False, super().clear)
