"""What access/ reads from an HTTP request: where to send the reader next, and who is asking."""

import ipaddress

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


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


def client_ip(request) -> str | None:
    """The client's address, as the throttle counts it: REMOTE_ADDR, or the entry that
    TRUSTED_PROXY_COUNT proxies added to X-Forwarded-For. IPv6 clients are counted by their
    /64 network, since one client usually holds a whole /64."""
    raw = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= count and forwarded[-count]:
            raw = forwarded[-count]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)
