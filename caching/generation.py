"""The one content-generation token: what every kept thing is kept under.

"Content changed" is one fact, so it has one token: a number in the shared cache that
`content_changed()` replaces. Every store keeps its entries under the generation current when
they were made and never serves one of another (caching.stores), and the responses kept in the
shared cache name it in their keys (caching.responses): one call drops everything everywhere.

Each worker reads the generation at most every GENERATION_CHECK_SECONDS, so other workers and
servers see a change within that time (the worker that made it, at once). While the generation
cannot be read (the shared cache is away, or keeps nothing), a change made in another process
cannot be seen, so nothing is kept for long: the generation is then a new one every
UNREAD_SECONDS, and whatever was kept under an earlier one is not served again. When the cache
answers again (caching.backend.recovered) the generation is renewed, since a change made while
it was away was lost with it.

A request works under one generation from start to end (`pinned`, set by the anonymous page
middleware around every request), so nothing kept under a later one is made from what an
earlier one read; a request's own write shows to it at once.
"""

import contextlib
import contextvars
import threading
import time

from django.core.cache import cache
from django.db import transaction

KEY = "caching:generation"
GENERATION_CHECK_SECONDS = 2.0
# While the generation cannot be read, the longest anything is kept (see above).
UNREAD_SECONDS = 2.0

_pinned: contextvars.ContextVar = contextvars.ContextVar("caching_generation", default=None)
_MISSING = object()


class _Generation:
    """This worker's view of the shared generation."""

    def __init__(self):
        self.lock = threading.Lock()
        self.value: int | None = None  # None: the shared cache could not say
        self.read_at = float("-inf")

    def current(self) -> int | tuple:
        """The generation this worker serves now: the request's own while one is running
        (`pinned`), else the shared cache's (read again after GENERATION_CHECK_SECONDS),
        else, while that cannot be read, one that changes every UNREAD_SECONDS."""
        pinned = _pinned.get()
        if pinned is not None:
            return pinned
        now = time.monotonic()
        if now - self.read_at >= GENERATION_CHECK_SECONDS:
            read_at = self.read_at
            value = _read()
            # unless this very read found the cache back, and invalidate() has just run
            if self.read_at == read_at:
                self.value = value
            self.read_at = max(now, self.read_at)
        if self.value is None:
            return ("unread", int(now // UNREAD_SECONDS))
        return self.value

    def forget(self) -> None:
        """Read the shared cache again at the next request (tests; a worker's start)."""
        self.read_at = float("-inf")


generation = _Generation()


def current() -> int | tuple:
    return generation.current()


def token() -> str:
    """The current generation as text, for the keys of what the shared cache keeps."""
    value = current()
    return "-".join(map(str, value)) if isinstance(value, tuple) else str(value)


@contextlib.contextmanager
def pinned():
    """Everything inside works under the generation current at its start: what a request
    reads and keeps is all of one generation."""
    token = _pinned.set(generation.current())
    try:
        yield
    finally:
        _pinned.reset(token)


def _read() -> int | None:
    """The shared cache's generation (made now if it has none), or None when the cache cannot
    say: it raised, or it keeps nothing (caching.backend while Redis is away answers every read
    with the default and forgets every write)."""
    try:
        value = cache.get(KEY, _MISSING)
        if value is _MISSING:
            cache.add(KEY, time.time_ns(), None)
            value = cache.get(KEY, _MISSING)
    except Exception:
        return None
    return None if value is _MISSING else value


def invalidate() -> None:
    """A new generation: everything kept is stale, here at once and in other workers within
    GENERATION_CHECK_SECONDS (when the shared cache is away, when it is back: caching.apps
    renews it then)."""
    value = time.time_ns()
    with contextlib.suppress(Exception):
        cache.set(KEY, value, None)
    generation.value, generation.read_at = value, time.monotonic()
    if _pinned.get() is not None:  # this request reads what it wrote from now on
        _pinned.set(value)


def content_changed() -> None:
    """What readers see may have changed. Called by the services that write it (lessons'
    save_series, save_lesson and the rest; access's save_offer), never by a model's save() or
    a signal. The generation changes now, and again when the transaction commits, so that
    nothing kept from the data before the commit outlives it."""
    invalidate()
    transaction.on_commit(invalidate)
