"""What a reader is told about a redemption: one message and one HTTP status per outcome."""

import math
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.models import lesson_numbers
from access.offer.models import Offer
from access.services import Outcome, Redemption
from lessons.models import Lesson, Series

STATUS = {
    Outcome.UNKNOWN: 400,
    Outcome.EXPIRED: 410,
    Outcome.REVOKED: 410,
    Outcome.USED_UP: 409,
    Outcome.REDEEMED_BEFORE: 409,
    Outcome.THROTTLED: 429,
}


def message(result: Redemption, *, logged_in: bool = True) -> str:
    """The message for a redemption (or, for a reader not logged in yet, a check)."""
    outcome = result.outcome
    if outcome == Outcome.UNLOCKED:
        return unlocked(result)
    if outcome == Outcome.ALREADY_UNLOCKED:
        return _("You already have access to “%(series)s”; the PIN was not used up.") % {
            "series": result.series
        }
    if outcome == Outcome.THROTTLED:
        return throttled(result.retry_after)
    if outcome == Outcome.USED_UP and not logged_in:
        return _(
            "That PIN has already been used. If you used it yourself, log in and your lessons "
            "are open; if not, ask the seller for a new one."
        )
    return {
        Outcome.REDEEMED_BEFORE: _(
            "You have redeemed this PIN before, and the access it gave has ended. "
            "Ask the seller for a new one."
        ),
        Outcome.UNKNOWN: _("That PIN is not valid. Check it and try again."),
        Outcome.EXPIRED: _("That PIN has expired. Ask the seller for a new one."),
        Outcome.REVOKED: _("That PIN has been withdrawn. Ask the seller for a new one."),
        Outcome.USED_UP: _("That PIN has already been used. Ask the seller for a new one."),
    }[outcome]


def unlocked(result: Redemption) -> str:
    """What the PIN opened, as it is: the premium lessons of the series, or only the lessons
    it names (lessons 2 to 4, written with an en dash), and until when if the access ends."""
    entitlement = result.entitlement
    ends = entitlement.expires_at if entitlement else None
    values = {"series": result.series}
    if ends:
        values["date"] = date_format(timezone.localtime(ends), "j F Y")
    if entitlement is None or entitlement.whole_series:
        if ends:
            return (
                _("Unlocked: you can read the premium lessons of “%(series)s” until %(date)s.")
                % values
            )
        return _("Unlocked: you can now read the premium lessons of “%(series)s”.") % values
    numbers = list(entitlement.lessons.values_list("number", flat=True))
    values["numbers"] = lesson_numbers(numbers)
    if ends:
        return (
            ngettext(
                "Unlocked: you can read lesson %(numbers)s of “%(series)s” until %(date)s.",
                "Unlocked: you can read lessons %(numbers)s of “%(series)s” until %(date)s.",
                len(numbers),
            )
            % values
        )
    return (
        ngettext(
            "Unlocked: you can now read lesson %(numbers)s of “%(series)s”.",
            "Unlocked: you can now read lessons %(numbers)s of “%(series)s”.",
            len(numbers),
        )
        % values
    )


def throttled(until: datetime) -> str:
    """Blocked after too many wrong PINs: when to try again, as a clock time in the site's
    time zone with its name ("14.35 WIB"), and in minutes from now."""
    now = timezone.now()
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    at = timezone.localtime(until)
    if at.second or at.microsecond:  # the whole minute by which the block has lifted
        at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    time = date_format(at, "TIME_FORMAT")
    if at.date() != timezone.localtime(now).date():
        time = f"{date_format(at, 'j F')} {time}"
    return ngettext(
        "Too many wrong PINs, so PIN entry is blocked for a while. Try again at %(time)s "
        "(in %(minutes)d minute).",
        "Too many wrong PINs, so PIN entry is blocked for a while. Try again at %(time)s "
        "(in %(minutes)d minutes).",
        minutes,
    ) % {"time": f"{time} {at.tzname()}", "minutes": minutes}


def seller(result: Redemption, lesson_id: int | None) -> Offer | None:
    """The offer (with its series) whose seller a refused or blocked reader can write to: the
    PIN's series', else that of the lesson whose paywall it was typed in, else that of the
    first published series with a way to reach its seller (one query)."""
    reachable = Offer.objects.exclude(instagram_handle="", whatsapp_number="")
    reachable = reachable.select_related("series").order_by("series__position", "series__title")
    if result.series is not None:
        return reachable.filter(series=result.series).first()
    if lesson_id is not None:
        return reachable.filter(series__lessons__pk=lesson_id).first()
    return reachable.filter(series__in=Series.objects.published()).first()


def landing(result: Redemption) -> str:
    """Where a reader goes after redeeming with no page to go back to (the link in the DM):
    the first lesson the PIN opened, else the series."""
    lessons = Lesson.objects.published().filter(series=result.series, access=Lesson.Access.PREMIUM)
    entitlement = result.entitlement
    if entitlement is not None and not entitlement.whole_series:
        lessons = lessons.filter(pk__in=entitlement.lessons.values("pk"))
    first = lessons.order_by("number").first() if entitlement is not None else None
    return first.get_absolute_url() if first else result.series.get_absolute_url()
