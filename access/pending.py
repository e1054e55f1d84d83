"""A PIN typed by a reader who is not logged in yet: kept in the session as its keyed hash
(never the PIN itself, never in a URL) for half an hour, and redeemed as soon as they log in
or sign up."""

import ipaddress
import time

from django.conf import settings
from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme

from access import feedback, pins, services

SESSION_KEY = "access_pending_pin"
PENDING_SECONDS = 30 * 60


def safe_next(request, url: str | None) -> str | None:
    """`url` when it is a local address on this site, else None."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


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


def stash(request, typed_pin: str, next_url: str | None, *, lesson_id: int | None = None) -> None:
    normalised = pins.normalise(typed_pin)
    request.session[SESSION_KEY] = {
        "digest": pins.digest(normalised) if normalised else None,
        "next": safe_next(request, next_url),
        "lesson": lesson_id,
        "at": time.time(),
    }


def is_waiting(request) -> bool:
    """Whether a PIN typed before logging in is waiting to be redeemed."""
    pending = request.session.get(SESSION_KEY)
    return bool(pending) and time.time() - pending.get("at", 0) <= PENDING_SECONDS


def redeem_stashed(request, user) -> str | None:
    """Redeem a stashed PIN for a user who has just logged in; return where to go next."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    result = services.redeem_digest(
        user=user, digest=pending["digest"], ip=client_ip(request), lesson_id=pending.get("lesson")
    )
    level = messages.SUCCESS if result.ok else messages.ERROR
    messages.add_message(request, level, feedback.message(result))
    if result.ok and not pending["next"] and result.series:
        return result.series.get_absolute_url()
    return pending["next"]
