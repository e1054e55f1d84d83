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

Content also changes by itself: a scheduled lesson comes out at its time. So beside the
generation the shared cache holds when that next happens (`DUE_KEY`, worked out by the
`horizons` the apps register: lessons registers its next publication), and the first worker
to see that moment pass makes a new generation, as a save would. Kept things therefore need no
short lifetime to let a scheduled lesson appear: PAGE_CACHE_SECONDS is only their upper bound.

A request works under one generation from start to end (`pinned`, set by the anonymous page
middleware around every request), so nothing kept under a later one is made from what an
earlier one read; a request's own write shows to it at once.
"""

import contextlib
import contextvars
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY = "caching:generation"
# When the content next changes by itself (UNIX seconds; infinity: nothing is scheduled).
DUE_KEY = "caching:generation:due"
# While the next such moment cannot be worked out (the database is away), it is asked again
# this soon.
DUE_RETRY_SECONDS = 60.0
GENERATION_CHECK_SECONDS = 2.0
# While the generation cannot be read, the longest anything is kept (see above).
UNREAD_SECONDS = 2.0

_pinned: contextvars.ContextVar = contextvars.ContextVar("caching_generation", default=None)
_MISSING = object()
# Functions that say when the content next changes by themselves (an aware datetime, or None):
# registered by the apps that own such content (lessons: the next scheduled lesson).
horizons: list[Callable[[], datetime | None]] = []


class _Generation:
    """This worker's view of the shared generation."""

    def __init__(self):
        self.lock = threading.Lock()
        self.value: int | None = None  # None: the shared cache could not say
        self.due = math.inf  # UNIX seconds: when the content next changes by itself
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
            value, due = _read()
            # unless this very read found the cache back, and invalidate() has just run
            if self.read_at == read_at:
                self.value, self.due = value, due
            self.read_at = max(now, self.read_at)
        if self.value is None:
            return ("unread", int(now // UNREAD_SECONDS))
        if time.time() >= self.due:  # a scheduled lesson is out: the content has changed
            invalidate()
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


def _read() -> tuple[int | None, float]:
    """The shared cache's generation (made now if it has none) and when the content next
    changes by itself; a generation of None when the cache cannot say: it raised, or it keeps
    nothing (caching.backend while Redis is away answers every read with the default and
    forgets every write)."""
    try:
        found = cache.get_many([KEY, DUE_KEY])
        if KEY not in found:
            # A new generation; when the content next changes is not known yet (working it
            # out is a query, and this is a reader's request): asked again soon.
            if cache.add(KEY, time.time_ns(), None):
                cache.set(DUE_KEY, time.time() + DUE_RETRY_SECONDS, None)
            found = cache.get_many([KEY, DUE_KEY])
    except Exception:
        return None, math.inf
    if KEY not in found:
        return None, math.inf
    return found[KEY], found.get(DUE_KEY, math.inf)


def _next_due() -> float:
    """When the content next changes by itself, in UNIX seconds (infinity: never), from the
    registered horizons; soon again when one of them cannot say."""
    soonest = math.inf
    for horizon in horizons:
        try:
            moment = horizon()
        except Exception:
            logger.warning("Could not tell when the content next changes", exc_info=True)
            return time.time() + DUE_RETRY_SECONDS
        if moment is not None:
            soonest = min(soonest, moment.timestamp())
    return soonest


def invalidate() -> None:
    """A new generation: everything kept is stale, here at once and in other workers within
    GENERATION_CHECK_SECONDS (when the shared cache is away, when it is back: caching.apps
    renews it then)."""
    value, due = time.time_ns(), _next_due()
    with contextlib.suppress(Exception):
        cache.set_many({KEY: value, DUE_KEY: due}, None)
    generation.value, generation.due, generation.read_at = value, due, time.monotonic()
    if _pinned.get() is not None:  # this request reads what it wrote from now on
        _pinned.set(value)


def content_changed() -> None:
    """What readers see may have changed. Called by the services that write it (lessons'
    save_series, save_lesson and the rest; access's save_offer), never by a model's save() or
    a signal. The generation changes now, and again when the transaction commits, so that
    nothing kept from the data before the commit outlives it."""
    invalidate()
    transaction.on_commit(invalidate)
