"""What access/ reads from an HTTP request: where to send the reader next, and who is asking."""

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from config.http import client_ip  # noqa: F401 (where access/ has always asked)


def safe_next(request, url: str | None) -> str | None:
    """`url` when it is a local address on this site, else None."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def from_this_site(request) -> bool:
    """Whether a POST comes from a page of this site, as far as its `Origin` header tells (a
    browser sends one with every cross-site POST; a request without one is no forged browser
    request, whoever sends it sends it as themselves)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.get_host()}" or (
        origin in settings.CSRF_TRUSTED_ORIGINS
    )
