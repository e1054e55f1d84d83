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

Staleness: a page is kept under the one content generation (caching.generation), which every
saving service moves (`caching.content_changed()`); a page of an older generation is never
served, here at once and in other workers within seconds. Pages also expire after
PAGE_CACHE_SECONDS, so a scheduled lesson appears within that time. The store is bounded in
bytes (MAX_BYTES, caching.stores). The middleware also pins every request, anonymous or not, to
one generation from start to end.
"""

import functools

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import split_header_value

from caching import generation
from caching.keys import address_key
from caching.stores import MISSING, Store

MAX_BYTES = 2 * 1024 * 1024  # of pages (content, headers, keys) per worker; the rest in Redis

# This worker's kept pages: key -> (content, headers).
pages = Store("anonymous pages", max_bytes=MAX_BYTES, shared=True)


def anonymous_page(view):
    """The view's response is the same for every anonymous reader: it may be kept for them."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.anonymous_page = True
        return response

    return wrapper


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
        with generation.pinned():
            return self._respond(request)

    def _respond(self, request):
        if not _anonymous(request):
            return self.get_response(request)
        key = address_key(request)
        kept = pages.lookup(key)
        if kept is not MISSING:
            content, headers = kept
            response = HttpResponse(content)
            for name, value in headers:
                response.headers[name] = value
            return response
        response = self.get_response(request)
        if storable(response):
            shared_cache_headers(response)
            keep(key, response)
        return response


def keep(key: str, response) -> None:
    """Keep the response's content and headers (its cookies aside) under `key`."""
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() != "set-cookie")
    size = len(response.content) + sum(len(k) + len(v) for k, v in headers)
    pages.put(key, (response.content, headers), size=size)
