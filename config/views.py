"""Site-wide responses that must work when the rest of the site does not."""

import sys
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.static import serve

RETRY_AFTER_SECONDS = 30
# What apps report of themselves to staff on /healthz?detail=1 (payments: its gateway), each
# a function giving a JSON object; an app adds its own when it is ready.
DETAIL: dict[str, Callable[[], dict]] = {}


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _cache_answers(database_up: bool) -> bool:
    cache = caches["default"]
    if hasattr(cache, "ping"):  # caching.backend.FailSoftRedisCache
        return cache.ping()
    if isinstance(cache, DatabaseCache) and not database_up:
        return False  # it lives in the database; asking again would only wait again
    try:
        cache.get("healthz")
    except Exception:
        return False
    return True


@never_cache
def healthz(request):
    """Each component's state in the body. 503 (no traceback) only when the site cannot
    serve, that is when the database does not answer; without the cache it serves on. Staff
    asking ?detail=1 also get each app's own report (DETAIL)."""
    database = _database_answers()
    cache = _cache_answers(database)
    status = "unavailable" if not database else "ok" if cache else "degraded"
    body = {
        "status": status,
        "database": "up" if database else "down",
        "cache": "up" if cache else "down",
    }
    if database and "detail" in request.GET and request.user.is_staff:
        body["detail"] = {name: _detail(report) for name, report in DETAIL.items()}
    response = JsonResponse(body, status=200 if database else 503)
    if not database:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _detail(report: Callable[[], dict]) -> dict:
    """A part's own report; one that fails says so instead of failing the health check."""
    try:
        return report()
    except Exception as error:
        return {"error": type(error).__name__}


def server_error(request):
    """The 500 handler. When the database cannot be reached, readers get a 503 page that asks
    them to come back shortly. Neither page touches the database or the session."""
    if isinstance(sys.exception(), OperationalError | InterfaceError):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        response = HttpResponse(render_to_string("500.html"), status=500)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def media(request, path):
    """Uploaded files from MEDIA_ROOT, when the app serves them itself (SERVE_MEDIA: development
    and `make serve`; production leaves this to the proxy or to object storage). Their names
    carry a hash of the content, so browsers may keep them."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    patch_cache_control(response, public=True, max_age=365 * 24 * 60 * 60, immutable=True)
    return response
