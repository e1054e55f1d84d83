"""What a reader is told about a redemption: one message and one HTTP status per outcome."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.services import Outcome, Redemption

STATUS = {
    Outcome.UNKNOWN: 400,
    Outcome.EXPIRED: 410,
    Outcome.REVOKED: 410,
    Outcome.USED_UP: 409,
    Outcome.REDEEMED_BEFORE: 409,
    Outcome.THROTTLED: 429,
}


def message(result: Redemption) -> str:
    outcome = result.outcome
    if outcome == Outcome.UNLOCKED:
        ends = result.entitlement.expires_at if result.entitlement else None
        if ends:
            return _(
                "Unlocked: you can read the premium lessons of “%(series)s” until %(date)s."
            ) % {"series": result.series, "date": date_format(timezone.localtime(ends), "j F Y")}
        return _("Unlocked: you can now read the premium lessons of “%(series)s”.") % {
            "series": result.series
        }
    if outcome == Outcome.ALREADY_UNLOCKED:
        return _("You already have access to “%(series)s”; the PIN was not used up.") % {
            "series": result.series
        }
    if outcome == Outcome.THROTTLED:
        wait = max(1, round((result.retry_after - timezone.now()).total_seconds() / 60))
        return ngettext(
            "Too many wrong PINs. For your account’s safety, try again in %(minutes)d minute.",
            "Too many wrong PINs. For your account’s safety, try again in %(minutes)d minutes.",
            wait,
        ) % {"minutes": wait}
    return {
        Outcome.REDEEMED_BEFORE: _(
            "You have redeemed this PIN before, and the access it gave has ended. "
            "Ask the author for a new one."
        ),
        Outcome.UNKNOWN: _("That PIN is not valid. Check it and try again."),
        Outcome.EXPIRED: _("That PIN has expired. Ask the author for a new one."),
        Outcome.REVOKED: _("That PIN has been withdrawn. Ask the author for a new one."),
        Outcome.USED_UP: _("That PIN has already been used. Ask the author for a new one."),
    }[outcome]
