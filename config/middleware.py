"""Site-wide request handling that belongs to no app."""

import ipaddress
import unicodedata
from functools import cache

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext

from config import languages


@cache
def _proxies(allowed: tuple[str, ...]) -> tuple | None:
    """FORWARDED_ALLOW_IPS as networks; None when it allows any address ("*")."""
    if "*" in allowed:
        return None
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


class ForwardedHeadersMiddleware:
    """X-Forwarded-* (and Forwarded) are believed only when the proxy sent them: from any
    other address (REMOTE_ADDR not in FORWARDED_ALLOW_IPS, the list gunicorn reads too) they
    are dropped before anything reads them, so a client that reaches an app server directly
    cannot pass for HTTPS or for another client address (the PIN throttle's and allauth's
    limits count by it). The proxy replaces whatever its clients sent (docs/samples/nginx.conf).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        proxies = _proxies(tuple(settings.FORWARDED_ALLOW_IPS))
        if proxies is not None and not self._from(proxies, request.META.get("REMOTE_ADDR", "")):
            for key in [k for k in request.META if k.startswith("HTTP_X_FORWARDED_")]:
                del request.META[key]
            request.META.pop("HTTP_FORWARDED", None)
        return self.get_response(request)

    @staticmethod
    def _from(proxies, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in proxies)


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
    are (HTML, a feed, a redirect), in every language: the admin, accounts, "My access" and
    the PIN pages, a reader's private feed, and search results. Views mark others (drafts,
    previews) themselves. robots.txt disallows none of them, so crawlers can read it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = (f"/{settings.ADMIN_PATH}", "/accounts/", "/access/", "/search/")

    def __call__(self, request):
        response = self.get_response(request)
        if languages.split(request.path)[1].startswith(self.prefixes):
            response.setdefault("X-Robots-Tag", "noindex")
        return response


class NotCompressedMiddleware:
    """Pages that show, or may show, a PIN or a secret token are never compressed on the way
    to the reader: the length of a compressed response can give away a secret that sits beside
    text an attacker can make the page repeat (BREACH). They are the admin (the hand-off page's
    PIN, a batch's PINs), the account pages (password-reset links carry a key) and the access
    pages (My access shows the private feed's address, a private feed its token, the
    unsubscribe page its own). They say `Cache-Control: no-transform`, which forbids any
    intermediary to change their encoding and which CDNs honour; nginx leaves the same paths
    uncompressed (docs/samples/nginx.conf), and the front's tests check the two agree.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = (f"/{settings.ADMIN_PATH}", "/accounts/", "/access/")

    def __call__(self, request):
        response = self.get_response(request)
        if languages.split(request.path)[1].startswith(self.prefixes):
            patch_cache_control(response, no_transform=True)
        return response


class AccountPagesNotStoredMiddleware:
    """Account pages (a reader's address, their e-mails, the forms that change them) are
    never stored by a browser or anyone between: after logging out, Back shows none of them.
    Reader pages decide for themselves (lessons.views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if languages.split(request.path)[1].startswith("/accounts/"):
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
