"""The stores a worker keeps in its own memory, each bounded in bytes.

A `Store` keeps values by key for the current generation (caching.generation) and at most
PAGE_CACHE_SECONDS, or until the moment a value says it stops holding (`until`). A store of
what does not depend on the content (`generational=False`: a diagram's drawing, named by its
source) keeps its values across generations, for as long as its bound leaves room. The least
recently used entries go first once the bytes of its keys, values and entries pass
`max_bytes`, and a value bigger than the whole bound is given but not kept. Bytes, not a count
of entries: one 490 KB lesson asked at 900 addresses once took a worker from 70 to 190 MB.

A `shared` store has a second tier: the shared cache (Redis; KEPT_IN_SHARED_CACHE), which every
worker and server reads. A value made in one worker is then made once for all of them, and a
reader base that visits more pages than one worker can keep in memory (every lesson of a long
series, round after round) is still served what was kept, not made again per worker. Its
entries there are keyed by the store's name, the code's version (caching.keys.code_version:
what one release made is never served by another), the generation and a digest of the key; they
last as long as in the worker (`until`, PAGE_CACHE_SECONDS), and Redis' own memory bound
(maxmemory with an LRU policy, docs/deploy.md) bounds them there. The worker keeps what it last
used from the shared tier in its own, smaller, bound. While Redis is away the shared tier
misses and forgets (caching.backend), and each worker keeps to its own.

Every store registers itself in `STORES`, so the tests fill each one past its bound.
"""

import datetime
import decimal
import hashlib
import pickle
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import is_dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone

from caching import generation, keys
from caching.keys import code_version

_ATOMS = (str, bytes, int, float, complex, bool, type(None), datetime.date, datetime.time,
          datetime.timedelta, decimal.Decimal, uuid.UUID)  # fmt: skip
# What an entry costs besides its key and value: its tuple and its place in the OrderedDict.
ENTRY_BYTES = 200
MISSING = object()
STORES: dict[str, "Store"] = {}


def footprint(value) -> int:
    """The bytes `value` takes in memory, with everything it holds: containers, dataclasses
    and model instances (their fields, annotations and cached related objects) are followed,
    each object counted once; anything else counts its own size only."""
    total, seen, pending = 0, set(), [value]
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, _ATOMS):
            continue
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
        elif isinstance(item, Model | ModelState) or (
            is_dataclass(item) and not isinstance(item, type) and hasattr(item, "__dict__")
        ):
            pending.append(vars(item))
    return total


class Store:
    """Values kept by key in this worker, within `max_bytes` (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        *,
        max_bytes: int,
        generational: bool = True,
        shared: bool = False,
        named: bool = False,
    ):
        self.name, self.max_bytes, self.generational = name, max_bytes, generational
        self.shared = shared
        # Its values are made from the content alone and never changed: while it holds one,
        # keys name it (and its parts) by where it is kept and until when it holds
        # (caching.keys.hold).
        self.named = named and generational
        self.lock = threading.Lock()
        # key: (generation, expires (monotonic), value, until (aware datetime or None), size)
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        STORES[name] = self

    def lookup(self, key):
        """The value kept for `key` in this generation (in this worker, else in the shared
        tier of a `shared` store), or MISSING."""
        current = generation.current() if self.generational else None
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                if (
                    entry[0] != current
                    or entry[1] <= now
                    or (entry[3] is not None and timezone.now() >= entry[3])
                ):
                    self._drop(key)
                else:
                    self.entries.move_to_end(key)
                    return entry[2]
        if not self._sharing():
            return MISSING
        return self._lookup_shared(key)

    def put(self, key, value, *, size: int | None = None, until=None) -> None:
        """Keep `value` (of `size` bytes, measured when not given) until PAGE_CACHE_SECONDS
        pass, the generation changes or `until` comes (a store that is not `generational`:
        until its bound pushes it out); a `shared` store keeps it in the shared tier too."""
        size = ENTRY_BYTES + footprint(key) + (footprint(value) if size is None else size)
        if self._sharing():
            self._put_shared(key, value, size, until)
        self._put_here(key, value, size, until, settings.PAGE_CACHE_SECONDS)

    def _put_here(self, key, value, size: int, until, seconds: float) -> None:
        if size > self.max_bytes:
            return
        if not self.generational:
            current, expires = None, float("inf")
        elif seconds > 0:
            current = generation.current()
            expires = time.monotonic() + seconds
        else:
            return
        entry = (
            current,
            expires,
            value,
            until,
            size,
        )
        with self.lock:
            self._drop(key)
            self.entries[key] = entry
            self.size += size
            if self.named:
                keys.hold(value, (self.name, key, until))
            while self.size > self.max_bytes:
                self._drop(next(iter(self.entries)))

    def _sharing(self) -> bool:
        return (
            self.shared
            and self.generational
            and settings.KEPT_IN_SHARED_CACHE
            and settings.PAGE_CACHE_SECONDS > 0
        )

    def _shared_key(self, key) -> str:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:40]
        name = self.name.replace(" ", "-")
        return f"caching:store:{name}:{code_version()}:{generation.token()}:{digest}"

    def _lookup_shared(self, key):
        """The value the shared tier holds for `key`, kept here too; MISSING when it holds
        none, or one for another key (a digest's collision), or one past its time."""
        try:
            found = cache.get(self._shared_key(key))
        except Exception:  # a value this code cannot read: as good as none
            return MISSING
        if not (isinstance(found, tuple) and len(found) == 5) or found[0] != key:
            return MISSING
        _, value, size, until, ends = found
        seconds = min(settings.PAGE_CACHE_SECONDS, ends - time.time())
        if seconds <= 0 or (until is not None and timezone.now() >= until):
            return MISSING
        self._put_here(key, value, size, until, seconds)
        return value

    def _put_shared(self, key, value, size: int, until) -> None:
        seconds = settings.PAGE_CACHE_SECONDS
        if until is not None:
            seconds = min(seconds, (until - timezone.now()).total_seconds())
        if seconds < 1:
            return
        entry = (key, value, size, until, time.time() + seconds)
        try:
            cache.set(self._shared_key(key), entry, int(seconds))
        except (pickle.PicklingError, TypeError, AttributeError):
            # A value that cannot leave the worker (it holds a template node, say): a bug
            # in the caller, kept here only so that the reader still gets the page.
            if settings.KEPT_TEMPLATES_STRICT:
                raise
        except Exception:  # noqa: S110 (the shared cache cannot answer: the worker keeps it alone)
            pass

    def get(self, key, compute: Callable, due: Callable | None = None):
        """The value `compute()` gives for `key`, kept; `due(value)` may name the moment
        (an aware datetime, or None) it stops holding, when sooner than PAGE_CACHE_SECONDS."""
        value = self.lookup(key)
        if value is MISSING:
            value = compute()
            self.put(key, value, until=due(value) if due else None)
        return value

    def _drop(self, key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry[4]
            if self.named:
                keys.let_go(entry[2], (self.name, key, entry[3]))

    def clear(self) -> None:
        with self.lock:
            for key in list(self.entries):
                self._drop(key)
            self.size = 0


def clear_all() -> None:
    """Empty every store of this worker that depends on the content, and read the generation
    again (tests)."""
    for store in STORES.values():
        if store.generational:
            store.clear()
    generation.generation.forget()
