"""Site-wide responses that must work when the rest of the site does not."""

import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.static import serve

RETRY_AFTER_SECONDS = 30


@never_cache
def healthz(request):
    """200 when the database answers, 503 (no traceback) when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        response = JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "database": "up"})


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
