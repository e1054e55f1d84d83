"""A PIN typed by a reader who is not logged in yet: kept in the session as its keyed hash
(never the PIN itself, never in a URL) for half an hour, and redeemed as soon as they log in
or sign up."""

import time

from django.contrib import messages

from access import feedback, pins, services
from access.http import client_ip, safe_next

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
