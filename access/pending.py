"""A PIN typed by a reader who is not logged in yet: kept in the session as its keyed hash
(never the PIN itself, never in a URL) for half an hour, and redeemed as soon as they log in
or sign up. And a PIN bought by a reader who was not logged in, held for the e-mail address
they gave (HeldPin), redeemed when that address logs in."""

import time

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.db.models.functions import Lower

from access import feedback, pins, services
from access.http import client_ip, safe_next
from access.models import HeldPin, RedemptionAttempt

SESSION_KEY = "access_pending_pin"
PENDING_SECONDS = 30 * 60


def stash(request, pin: str, next_url: str | None, *, lesson_id: int | None = None) -> None:
    """Keep `pin` (as RedeemForm cleans it: a PIN's shape) until the reader is in."""
    request.session[SESSION_KEY] = {
        "digest": pins.digest(pins.normalise(pin)),
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
    if not pending.get("digest"):
        return pending.get("next")
    result = services.redeem_digest(
        user=user, digest=pending["digest"], ip=client_ip(request), lesson_id=pending.get("lesson")
    )
    level = messages.SUCCESS if result.ok else messages.ERROR
    messages.add_message(request, level, feedback.message(result))
    if result.ok and not pending["next"]:
        return feedback.landing(result)
    return pending["next"]


def redeem_held(request, user) -> str | None:
    """Redeem the PINs held for the user's verified e-mail addresses, and end each hold
    whatever the outcome (a PIN typed already, or revoked since, has nothing left to give).
    Returns where to go next: the page the first unlocked PIN was bought from. Holds keep
    their address in lower case."""
    verified = (
        EmailAddress.objects.filter(user=user, verified=True)
        .annotate(address=Lower("email"))
        .values("address")
    )
    holds = list(
        HeldPin.objects.filter(email__in=verified)
        .select_related("pin__series")
        .order_by("created_at", "pk")
    )
    landing = None
    for hold in holds:
        result = services.redeem_issued(user=user, pin=hold.pin)
        hold.delete()
        if result.outcome == RedemptionAttempt.Outcome.UNLOCKED:
            messages.success(request, feedback.message(result))
            landing = landing or hold.next_url or hold.pin.series.get_absolute_url()
    return landing
