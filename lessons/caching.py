"""Whole responses built from published lessons (feeds, the sitemap), cached until what
readers can see changes.

`version()` is one token for "lessons or series were written": `changed()` replaces it, and
is called by every write of them (lessons.services.content_changed: the saving services the
admin, the importer and render_lessons call, bulk writes and deletions included). A scheduled
lesson coming due is not a write, so a cached response also expires when the next one is due.
"""

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe
from django.utils.translation import get_language

import config.cache
from config import pagecache
from lessons.models import Lesson

VERSION_KEY = "lessons:content-version"
MAX_SECONDS = 60 * 60


def version() -> str:
    token = cache.get(VERSION_KEY)
    if token is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), None)
        token = cache.get(VERSION_KEY) or secrets.token_hex(8)
    return token


def changed() -> None:
    """Call after writing lessons or series. The version changes now, and again when the
    transaction commits, so that nothing cached from the data before the commit outlives it;
    so do the reader pages kept whole for anonymous readers (config/pagecache.py)."""
    _new_version()
    transaction.on_commit(_new_version)


def _new_version() -> None:
    with contextlib.suppress(Exception):  # a cache away: renewed when it is back (below)
        cache.set(VERSION_KEY, secrets.token_hex(8), None)
    pagecache.invalidate()


@receiver(config.cache.recovered)
def _cache_recovered(**kwargs) -> None:
    """The cache is back, perhaps holding a version, feeds and a page generation from before
    a change it missed while away (a lesson made premium, say): none of them is used again."""
    _new_version()


def seconds_to_keep() -> int:
    upcoming = Lesson.objects.next_publication()
    if upcoming is None:
        return MAX_SECONDS
    return max(1, min(MAX_SECONDS, int((upcoming - timezone.now()) / timedelta(seconds=1))))


def respond(request, *, key: str, build: Callable[[], HttpResponse]) -> HttpResponse:
    """The response named by `key` (everything it depends on besides the content version,
    the language and the site's address; never a secret), from the cache or from `build()`,
    with an ETag and the Last-Modified `build()` gave, answering conditional requests with 304.
    Responses other than 200 are not kept."""
    cache_key = ":".join(
        [
            "lessons:response",
            version(),
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
        cache.set(cache_key, cached, seconds_to_keep())
    content, content_type, last_modified, etag = cached
    response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = last_modified
    modified = parse_http_date_safe(last_modified) if last_modified else None
    return get_conditional_response(request, etag=etag, last_modified=modified, response=response)
