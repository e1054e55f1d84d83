import re

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from accounts.views import set_language
from config.views import healthz, media

# The admin's log-in goes through allauth's, with its rate limits.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path(settings.ADMIN_PATH, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("access/", include("access.urls")),
    path("pay/", include("payments.urls")),
    # The language switcher posts here: a cookie holding the reader's language, and a
    # logged-in reader's e-mail language (accounts/views.py says why no CSRF token is needed).
    path("language/", csrf_exempt(set_language), name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("", include("lessons.urls")),
]
if settings.SERVE_MEDIA and re.match(r"^/[^/]", settings.MEDIA_URL):
    urlpatterns.insert(0, path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"))

handler500 = "config.views.server_error"
