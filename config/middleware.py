"""Site-wide request handling that belongs to no app."""

import unicodedata

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext


class HeadAsGetMiddleware:
    """Answer HEAD exactly as GET, without the body (RFC 9110: HEAD is GET without content).

    Everything inside sees a GET: so a HEAD request (an uptime probe, a link checker) never
    counts as a log-in, sign-up or password-reset attempt in django-allauth's rate limits,
    which count every method but GET; and views limited to GET and POST answer it. The body
    is dropped here, so no response to HEAD carries body bytes (gunicorn warns about each
    one), while its headers, Content-Length among them, stay those of the GET.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            response.streaming_content = []  # the original is still closed with the response
        else:
            response.content = b""
        return response


class NoIndexMiddleware:
    """Pages that are nobody's to find in a search engine say so in a header, whatever they
    are (HTML, a feed, a redirect): the admin, accounts, "My access" and the PIN pages, a
    reader's private feed, and search results. Views mark others (drafts, previews) themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = (f"/{settings.ADMIN_PATH}", "/accounts/", "/access/", "/search/")

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.prefixes):
            response.setdefault("X-Robots-Tag", "noindex")
        return response


class AccountPagesNotStoredMiddleware:
    """Account pages (a reader's address, their e-mails, the forms that change them) are
    never stored by a browser or anyone between: after logging out, Back shows none of them.
    Reader pages decide for themselves (lessons.views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/accounts/"):
            add_never_cache_headers(response)
        return response


class AdminControlCharactersMiddleware:
    """An admin address whose query holds a control character (NUL and the like, which no
    filter value, search or e-mail address contains, and which PostgreSQL refuses in a
    query) is answered 400 with a sentence, before any list filters or searches with it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = f"/{settings.ADMIN_PATH}"

    def __call__(self, request):
        if request.path.startswith(self.prefix) and _has_control_characters(request.GET):
            return HttpResponseBadRequest(
                gettext(
                    "This address holds characters that no filter or search can contain. "
                    "Go back and choose the filter again."
                ),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_control_characters(query) -> bool:
    return any(
        unicodedata.category(character) == "Cc"
        for key, values in query.lists()
        for text in (key, *values)
        for character in text
    )
