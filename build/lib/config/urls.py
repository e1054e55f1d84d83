from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.views import healthz

# The admin's log-in goes through allauth's, with its rate limits.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path(settings.ADMIN_PATH, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("access/", include("access.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("lessons.urls")),
]

handler500 = "config.views.server_error"
