"""Another URL configuration, for tests/config/test_handlers.py."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("healthz", lambda request: HttpResponse("other"), name="other-healthz")]
