"""A PIN typed by a reader who is not logged in yet: kept in the session (never in a URL),
redeemed as soon as they log in or sign up."""

from django.conf import settings
from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme

from access import services

SESSION_KEY = "access_pending_pin"


def safe_next(request, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry TRUSTED_PROXY_COUNT proxies added."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= count and forwarded[-count]:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR") or None


def stash(request, pin: str, next_url: str | None) -> None:
    request.session[SESSION_KEY] = {"pin": pin, "next": safe_next(request, next_url)}


def redeem_stashed(request, user) -> str | None:
    """Redeem a stashed PIN for a user who has just logged in; return where to go next."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        return None
    result = services.redeem(user=user, typed_pin=pending["pin"], ip=client_ip(request))
    level = messages.SUCCESS if result.ok else messages.ERROR
    messages.add_message(request, level, result.message)
    if result.ok and not pending["next"] and result.series:
        return result.series.get_absolute_url()
    return pending["next"]
