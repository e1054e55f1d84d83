from django.conf import settings
from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.utils.functional import SimpleLazyObject

from accounts import sessions
from accounts.models import User


def get_user(request):
    """Django's `get_user()` (the backend the session names, is_active, the session hash that
    a password change renews), with the user read with the session (accounts/sessions.py)
    rather than asked for again."""
    if not hasattr(request, "_cached_user"):
        with sessions.authenticating(request.session):
            request._cached_user = auth.get_user(request)
    return request._cached_user


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, whose `request.user` is the user read with the session."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))


class ReaderLanguageMiddleware:
    """A logged-in reader's e-mails follow the language they read the site in: a reader page
    served in another language than their account's (they followed the switcher, or a link
    to the other address) changes it, with one small write, only then. The admin, at one
    address whatever the reader's language, changes nothing."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin = f"/{settings.ADMIN_PATH}"

    def __call__(self, request):
        response = self.get_response(request)
        language = getattr(request, "LANGUAGE_CODE", None)
        user = getattr(request, "user", None)
        if (
            language
            and response.status_code == 200
            and request.method == "GET"
            and user is not None
            and user.is_authenticated
            and user.language  # set at sign-up; older accounts keep the series' language
            and user.language != language
            and not request.path.startswith(self.admin)
        ):
            User.objects.filter(pk=user.pk).update(language=language)
            user.language = language
        return response
