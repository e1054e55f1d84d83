import re

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from config import languages
from config.views import healthz, media

# The admin's log-in goes through allauth's, with its rate limits.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    path(settings.ADMIN_PATH, admin.site.urls),
    # The old language switcher's form posted here; it now only goes to the page's address
    # in the language chosen (config/languages.py), so it needs no CSRF token.
    path("language/", languages.switch, name="set_language"),
    path("healthz", healthz, name="healthz"),
    # Readers' pages at one address per language: LANGUAGE_CODE's without a prefix, the
    # other's under /<code>/ (config/languages.py).
    *i18n_patterns(
        path("accounts/", include("allauth.urls")),
        path("access/", include("access.urls")),
        path("pay/", include("payments.urls")),
        path("", include("lessons.urls")),
        prefix_default_language=False,
    ),
]
if settings.SERVE_MEDIA and re.match(r"^/[^/]", settings.MEDIA_URL):
    urlpatterns.insert(0, path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"))

handler500 = "config.views.server_error"
