"""Whole pages for anonymous readers, served from the shared cache.

A reader with no session cookie gets exactly the same page as every other anonymous reader of
the same address in the same language: no CSRF token, no message, no nonce, nothing of their
own. Views that promise this mark their responses with `@anonymous_page`; this middleware keeps
those responses in the shared cache and answers the next anonymous request for the same page
before sessions, authentication or templates are touched.

A page is never stored unless all of these hold: the request carried no session or message
cookie; the view promised it; the status is 200; the response sets no cookie (a CSRF token
used in the page renews the CSRF cookie, so such a page is never stored). Every write to
series and lessons calls `invalidate()`, which makes every stored page stale at once; pages also
expire after PAGE_CACHE_SECONDS, so a scheduled lesson appears within that time.
"""

import contextlib
import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

GENERATION = "pagecache:generation"


def anonymous_page(view):
    """The view's response is the same for every anonymous reader: it may be cached for them."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.anonymous_page = True
        return response

    return wrapper


def invalidate() -> None:
    """Make every stored page stale (after a write to what pages show)."""
    cache.set(GENERATION, time.time_ns(), None)


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
    return f"pagecache:page:{language}:{request.get_host()}:{request.get_full_path()}"


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _eligible(request):
            return self.get_response(request)
        key = _key(request)
        try:
            found = cache.get_many([GENERATION, key])
        except Exception:  # a cache that cannot answer (the database's, while it is away)
            return self.get_response(request)
        generation = found.get(GENERATION, 0)
        entry = found.get(key)
        if entry is not None and entry[0] == generation:
            return _rebuild(entry)
        response = self.get_response(request)
        if _storable(response):
            with contextlib.suppress(Exception):
                cache.set(key, _entry(generation, response), settings.PAGE_CACHE_SECONDS)
        return response


def _storable(response) -> bool:
    return (
        getattr(response, "anonymous_page", False)
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
    )


def _entry(generation, response) -> tuple:
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "set-cookie"]
    return (generation, response.content, headers)


def _rebuild(entry):
    from django.http import HttpResponse

    _generation, content, headers = entry
    response = HttpResponse(content)
    for name, value in headers:
        response.headers[name] = value
    return response
