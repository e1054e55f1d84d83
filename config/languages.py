"""One address per language.

The site's own language, LANGUAGE_CODE, is served at the plain addresses (`/series/…/`); every
other language of LANGUAGES under its code (`/id/series/…/` when LANGUAGE_CODE is `en`, or
`/en/series/…/` when it is `id`). A page's language is its address's, and nothing else's: not
a cookie, not the browser's Accept-Language. So one address is one page, which a browser, a
shared cache, a CDN and a search engine can each keep or index as it is, and the addresses that
readers shared before keep working, in LANGUAGE_CODE.

The reader pages, the account and the access pages are in both languages (config/urls.py puts
them in `i18n_patterns`), and so are the feeds (their interface text; a feed's `<language>` is
its items'); the admin and /healthz have one address (the admin in the language its browser
asks for, else LANGUAGE_CODE). Crawlers and feed readers are pointed at the plain addresses of
robots.txt, the sitemap (which lists every page in both languages) and the feeds.

The old language switcher kept a reader's choice in a cookie. A request that still carries it
is sent once to the address of its page in that language, and the cookie is deleted with it.
"""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.urls import is_valid_path
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# Open Graph writes a locale as language_TERRITORY.
OG_LOCALES = {"en": "en_US", "id": "id_ID"}


def codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def split(path: str) -> tuple[str, str]:
    """The language of `path` and the path without its language prefix: `/id/series/x/` is
    ("id", "/series/x/") when LANGUAGE_CODE is en; a path without a prefix is LANGUAGE_CODE's."""
    first, slash, rest = path[1:].partition("/")
    if first in codes() and first != settings.LANGUAGE_CODE and (slash or not rest):
        return first, "/" + rest
    return settings.LANGUAGE_CODE, path


def address(path: str, language: str) -> str:
    """`path` (with or without a prefix) in `language`."""
    _, plain = split(path)
    return plain if language == settings.LANGUAGE_CODE else f"/{language}{plain}"


def alternates(path: str) -> list[tuple[str, str]]:
    """(language, path) of the page at `path` in each language, LANGUAGE_CODE's first."""
    ordered = [settings.LANGUAGE_CODE, *(c for c in codes() if c != settings.LANGUAGE_CODE)]
    return [(code, address(path, code)) for code in ordered]


def _with_query(request, path: str) -> str:
    query = request.META.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _in_both_languages(path: str, language: str) -> bool:
    with translation.override(language):
        return bool(is_valid_path(path))


def _forget_choice(response) -> None:
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LanguageMiddleware:
    """Activates the language of the address (in place of Django's LocaleMiddleware, which
    would add `Vary: Accept-Language` to every plain address). Comes before the page cache:
    the old cookie's redirect must not be answered from it.

    - `/<LANGUAGE_CODE>/…` is the plain address: a permanent redirect there.
    - A GET or HEAD with the old switcher's cookie, for a page in both languages, is
      redirected once to the page in the cookie's language (if that is not this one); the
      response deletes the cookie either way, so it happens once.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin = f"/{settings.ADMIN_PATH}"

    def __call__(self, request):
        path = request.path_info
        first = path[1:].partition("/")[0]
        if first == settings.LANGUAGE_CODE and request.method in ("GET", "HEAD"):
            plain = path[len(first) + 1 :] or "/"
            if _in_both_languages(plain, settings.LANGUAGE_CODE):
                return HttpResponsePermanentRedirect(_with_query(request, plain))
        language, _ = split(path)
        if path.startswith(self.admin):
            # The seller's admin, at one address and never kept for anyone else, speaks the
            # language of the browser (Accept-Language), else LANGUAGE_CODE.
            language = translation.get_language_from_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen is not None:
            target = address(path, chosen) if chosen in codes() else path
            if (
                request.method in ("GET", "HEAD")
                and target != path
                and _in_both_languages(target, chosen)
            ):
                response = HttpResponseRedirect(_with_query(request, target))
                _forget_choice(response)
                return response
        request.LANGUAGE_CODE = language
        with translation.override(language):  # and the thread's language back after it
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        if chosen is not None:
            _forget_choice(response)
        return response


@csrf_exempt
@require_POST
def switch(request):
    """The old switcher's form (in pages a browser or a cache may still hold): to the page it
    was on, in the language chosen. No cookie: the address is the choice."""
    language = request.POST.get("language")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in codes():
        language = split(next_url)[0]
    path, _, query = next_url.partition("?")
    target = address(path, language)
    return HttpResponseRedirect(f"{target}?{query}" if query else target)
