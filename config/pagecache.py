"""Whole pages for anonymous readers, kept in each worker's memory.

A reader with no session cookie gets exactly the same page as every other anonymous reader of
the same address in the same language: no CSRF token, no message, no nonce, nothing of their
own. Views that promise this mark their responses with `@anonymous_page`; this middleware keeps
those responses and answers the next anonymous request for the same page before sessions,
authentication or templates are touched.

A page is never kept unless all of these hold: the request carried no session or message
cookie; the view promised it; the status is 200; the response sets no cookie (a CSRF token
used in the page renews the CSRF cookie, so such a page is never kept).

The same responses are the ones a shared cache (nginx's micro-cache, a CDN) may keep: they go
out `Cache-Control: public, max-age=0, s-maxage=SHARED_CACHE_SECONDS,
stale-while-revalidate=SHARED_CACHE_STALE_SECONDS, stale-if-error=…`, without `Vary: Cookie`
(a shared cache keys them on their address, which names the language, and passes by every
request with a session cookie; docs/deploy.md). Every other response keeps what its view said:
reader pages are `private` the moment a session cookie exists.

Staleness: every write to series and lessons calls `invalidate()`, which moves a generation
number in the shared cache; a kept page of an older generation is never served. Each worker
reads the generation at most every GENERATION_CHECK_SECONDS, so other workers and servers see a
change within that time (the worker that made it, at once). Pages also expire after
PAGE_CACHE_SECONDS, so a scheduled lesson appears within that time.

While the generation cannot be read (the shared cache is away, or keeps nothing), a change
made in another process cannot be seen, so nothing is kept for long: the generation is then a
new one every UNREAD_SECONDS, and whatever was kept under an earlier one is not served again.
A lesson made premium elsewhere is served in full at most UNREAD_SECONDS after the change
(at most GENERATION_CHECK_SECONDS when the cache went away just before it). The same
generation guards what lessons/pages.py keeps (its memos and the `{% shared %}` parts), and a
request works under one generation from start to end (`pinned`), so nothing kept under a
later one is made from what an earlier one read.
"""

import contextlib
import contextvars
import functools
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation
from django.utils.http import split_header_value

GENERATION = "pagecache:generation"
GENERATION_CHECK_SECONDS = 2.0
# While the generation cannot be read, the longest anything is kept (see above).
UNREAD_SECONDS = 2.0
MAX_BYTES = 8 * 1024 * 1024  # of pages (content, headers, keys) per worker

# The generation the current request works under (PageCacheMiddleware sets it).
_pinned: contextvars.ContextVar = contextvars.ContextVar("pagecache_generation", default=None)


def anonymous_page(view):
    """The view's response is the same for every anonymous reader: it may be kept for them."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.anonymous_page = True
        return response

    return wrapper


class _Pages:
    """This worker's kept pages, least recently used first out, within MAX_BYTES (a page
    bigger than that is not kept)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, tuple] = OrderedDict()
        self.size = 0
        self.generation: int | None = None  # None: the shared cache could not say
        self.generation_read_at = float("-inf")

    def current_generation(self) -> int | tuple:
        """The generation this worker serves now: the request's own while one is running
        (`pinned`), else the shared cache's (read again after GENERATION_CHECK_SECONDS),
        else, while that cannot be read, one that changes every UNREAD_SECONDS."""
        pinned = _pinned.get()
        if pinned is not None:
            return pinned
        now = time.monotonic()
        if now - self.generation_read_at >= GENERATION_CHECK_SECONDS:
            read_at = self.generation_read_at
            generation = _read_generation()
            # unless this very read found the cache back, and invalidate() has just run
            if self.generation_read_at == read_at:
                self.generation = generation
            self.generation_read_at = max(now, self.generation_read_at)
        if self.generation is None:
            return ("unread", int(now // UNREAD_SECONDS))
        return self.generation

    @contextlib.contextmanager
    def pinned(self):
        """Everything inside works under the generation current at its start: what a
        request reads and keeps is all of one generation."""
        token = _pinned.set(self.current_generation())
        try:
            yield
        finally:
            _pinned.reset(token)

    def get(self, key: str, generation):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] != generation or entry[1] < time.monotonic():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, generation, response) -> None:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "set-cookie"]
        size = len(key) + len(response.content) + sum(len(k) + len(v) for k, v in headers)
        if size > MAX_BYTES:
            return
        entry = (
            generation,
            time.monotonic() + settings.PAGE_CACHE_SECONDS,
            response.content,
            headers,
            size,
        )
        with self.lock:
            self._drop(key)
            self.entries[key] = entry
            self.size += size
            while self.size > MAX_BYTES:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry[4]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0
            self.generation_read_at = float("-inf")


pages = _Pages()
_MISSING = object()


def _read_generation() -> int | None:
    """The shared cache's generation (made now if it has none), or None when the cache
    cannot say: it raised, or it keeps nothing (config/cache.py's backend while Redis is
    away answers every read with the default and forgets every write)."""
    try:
        generation = cache.get(GENERATION, _MISSING)
        if generation is _MISSING:
            cache.add(GENERATION, time.time_ns(), None)
            generation = cache.get(GENERATION, _MISSING)
    except Exception:
        return None
    return None if generation is _MISSING else generation


def invalidate() -> None:
    """Make every kept page stale, here at once and in other workers within seconds (when
    the shared cache is away, when it is back: lessons.caching renews it then)."""
    generation = time.time_ns()
    with contextlib.suppress(Exception):
        cache.set(GENERATION, generation, None)
    pages.generation, pages.generation_read_at = generation, time.monotonic()
    if _pinned.get() is not None:  # this request reads what it wrote from now on
        _pinned.set(generation)


# How long a response that is kept for every reader may be served from a shared cache while an
# app server cannot answer at all (nginx, a CDN): readers get the page as it was.
STALE_IF_ERROR_SECONDS = 600


def _anonymous(request) -> bool:
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _key(request) -> str:
    """Everything an anonymous page depends on: its address (scheme, host, path and query;
    canonical links and share tags name the scheme) and its language, which is the
    address's (config/languages.py)."""
    language = translation.get_language()
    return f"{language}:{request.scheme}://{request.get_host()}{request.get_full_path()}"


def storable(response) -> bool:
    return (
        getattr(response, "anonymous_page", False)
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "no-store" not in response.get("Cache-Control", "")
    )


def shared_cache_headers(response) -> None:
    """Let shared caches keep a response that is the same for every anonymous reader, for
    SHARED_CACHE_SECONDS (and serve it while it is being fetched again, for
    SHARED_CACHE_STALE_SECONDS more); browsers ask again each time."""
    response.headers["Cache-Control"] = (
        f"public, max-age=0, s-maxage={settings.SHARED_CACHE_SECONDS}, "
        f"stale-while-revalidate={settings.SHARED_CACHE_STALE_SECONDS}, "
        f"stale-if-error={STALE_IF_ERROR_SECONDS}"
    )
    vary = [
        name for name in split_header_value(response.get("Vary", "")) if name.lower() != "cookie"
    ]
    if vary:
        response.headers["Vary"] = ", ".join(vary)
    else:
        response.headers.pop("Vary", None)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with pages.pinned():
            return self._respond(request)

    def _respond(self, request):
        if not _anonymous(request):
            return self.get_response(request)
        keep = settings.PAGE_CACHE_SECONDS > 0
        key, generation = _key(request), pages.current_generation()
        entry = pages.get(key, generation) if keep else None
        if entry is not None:
            response = HttpResponse(entry[2])
            for name, value in entry[3]:
                response.headers[name] = value
            return response
        response = self.get_response(request)
        if storable(response):
            shared_cache_headers(response)
            if keep:
                pages.put(key, generation, response)
        return response
