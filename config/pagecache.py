"""Whole pages for anonymous readers, kept in each worker's memory.

A reader with no session cookie gets exactly the same page as every other anonymous reader of
the same address in the same language: no CSRF token, no message, no nonce, nothing of their
own. Views that promise this mark their responses with `@anonymous_page`; this middleware keeps
those responses and answers the next anonymous request for the same page before sessions,
authentication or templates are touched.

A page is never kept unless all of these hold: the request carried no session or message
cookie; the view promised it; the status is 200; the response sets no cookie (a CSRF token
used in the page renews the CSRF cookie, so such a page is never kept).

Staleness: every write to series and lessons calls `invalidate()`, which moves a generation
number in the shared cache; a kept page of an older generation is never served. Each worker
reads the generation at most every GENERATION_CHECK_SECONDS, so other workers and servers see a
change within that time (the worker that made it, at once). Pages also expire after
PAGE_CACHE_SECONDS, so a scheduled lesson appears within that time.
"""

import contextlib
import functools
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation

GENERATION = "pagecache:generation"
GENERATION_CHECK_SECONDS = 2.0
MAX_BYTES = 8 * 1024 * 1024  # of page content per worker


def anonymous_page(view):
    """The view's response is the same for every anonymous reader: it may be kept for them."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.anonymous_page = True
        return response

    return wrapper


class _Pages:
    """This worker's kept pages, least recently used first out, within MAX_BYTES."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, tuple] = OrderedDict()
        self.size = 0
        self.generation = 0
        self.generation_read_at = float("-inf")

    def current_generation(self) -> int:
        now = time.monotonic()
        if now - self.generation_read_at >= GENERATION_CHECK_SECONDS:
            read_at = self.generation_read_at
            with contextlib.suppress(Exception):  # a cache that cannot answer: keep the last
                generation = cache.get(GENERATION, 0)
                # unless this very read found the cache back, and invalidate() has just run
                if self.generation_read_at == read_at:
                    self.generation = generation
            self.generation_read_at = max(now, self.generation_read_at)
        return self.generation

    def get(self, key: str, generation: int):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] != generation or entry[1] < time.monotonic():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, generation: int, response) -> None:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "set-cookie"]
        entry = (
            generation,
            time.monotonic() + settings.PAGE_CACHE_SECONDS,
            response.content,
            headers,
        )
        with self.lock:
            self._drop(key)
            self.entries[key] = entry
            self.size += len(entry[2])
            while self.size > MAX_BYTES and self.entries:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry[2])

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0
            self.generation_read_at = float("-inf")


pages = _Pages()


def invalidate() -> None:
    """Make every kept page stale, here at once and in other workers within seconds (when
    the shared cache is away, when it is back: lessons.caching renews it then)."""
    generation = time.time_ns()
    with contextlib.suppress(Exception):
        cache.set(GENERATION, generation, None)
    pages.generation, pages.generation_read_at = generation, time.monotonic()


def _eligible(request) -> bool:
    cookies = request.COOKIES
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _key(request) -> str:
    language = translation.get_language_from_request(request)
    return f"{language}:{request.get_host()}:{request.get_full_path()}"


def storable(response) -> bool:
    return (
        getattr(response, "anonymous_page", False)
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
    )


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _eligible(request):
            return self.get_response(request)
        key, generation = _key(request), pages.current_generation()
        entry = pages.get(key, generation)
        if entry is not None:
            response = HttpResponse(entry[2])
            for name, value in entry[3]:
                response.headers[name] = value
            return response
        response = self.get_response(request)
        if storable(response):
            pages.put(key, generation, response)
        return response
