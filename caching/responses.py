"""Whole responses kept in the shared cache (feeds, the sitemap): the same for every reader
who asks at the same address in the same language.

Their keys name the one content generation (caching.generation), so a saving service's
`content_changed()` drops them with everything else. A scheduled lesson coming due is not a
write, so the caller says how long a response may be kept (`seconds`: until the next lesson is
due, at most an hour); the shared cache's own memory bounds them (Redis' maxmemory), not the
worker's.
"""

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe
from django.utils.translation import get_language

from caching import generation

MAX_SECONDS = 60 * 60


def respond(
    request, *, key: str, build: Callable[[], HttpResponse], seconds: Callable[[], int]
) -> HttpResponse:
    """The response named by `key` (everything it depends on besides the content generation,
    the language and the site's address; never a secret), from the cache or from `build()`
    (kept for `seconds()`, asked only then),
    with an ETag and the Last-Modified `build()` gave, answering conditional requests with 304.
    Responses other than 200 are not kept."""
    cache_key = ":".join(
        [
            "caching:response",
            generation.token(),
            get_language() or "",
            request.scheme,
            request.get_host(),
            hashlib.sha256(key.encode()).hexdigest()[:32],
        ]
    )
    cached = cache.get(cache_key)
    if cached is None:
        built = build()
        if hasattr(built, "render"):
            built.render()
        if built.status_code != 200:
            return built
        etag = f'"{hashlib.sha256(built.content).hexdigest()[:32]}"'
        cached = (built.content, built["Content-Type"], built.get("Last-Modified"), etag)
        cache.set(cache_key, cached, max(1, min(MAX_SECONDS, seconds())))
    content, content_type, last_modified, etag = cached
    response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = last_modified
    modified = parse_http_date_safe(last_modified) if last_modified else None
    return get_conditional_response(request, etag=etag, last_modified=modified, response=response)
