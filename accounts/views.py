from django.conf import settings
from django.views import i18n

from accounts.models import User


def set_language(request):
    """The language switcher: Django's `set_language` (a cookie holding the reader's choice),
    and for a logged-in reader the language of their e-mails too.

    Pages post here without a CSRF token (a page kept for everyone cannot carry one). A
    forged post from another site cannot reach an account: the session cookie is SameSite=Lax,
    so the browser does not send it with a cross-site POST."""
    response = i18n.set_language(request)
    chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    language = chosen.value if chosen and chosen.value in dict(settings.LANGUAGES) else None
    if language and request.user.is_authenticated and language != request.user.language:
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response
