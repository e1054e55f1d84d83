"""The ceiling: a bare Django view, no middleware, returning a fixed 20 KB page.

Served by gunicorn exactly as the site is (`gunicorn -c config/gunicorn.py bench.ceiling`), it
is what Django itself costs on this machine; the site's pages are reported as a ratio to it.
"""

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

PAGE = (
    b"<!DOCTYPE html><html lang='en'><head><title>ceiling</title></head><body>"
    + b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\n" * 256
)[: 20 * 1024]


def page(request):
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


settings.configure(
    DEBUG=False,
    SECRET_KEY="ceiling-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_I18N=False,
)
urlpatterns = [path("", page)]
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
