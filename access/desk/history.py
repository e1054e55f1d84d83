"""The admin history (LogEntry) of what the seller does on the desk and with the PIN list's
actions: who issued, revoked or replaced which PINs, and why."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.utils.translation import gettext

from access import services
from access.models import Entitlement


def log(request, objects, flag: int, message: str) -> None:
    """Record in the admin history (LogEntry) who did what to which objects: what the admin
    does by itself for its forms, done here for the seller's own pages and actions."""
    objects = list(objects)
    if objects:
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=objects, action_flag=flag, change_message=message
        )


def revoked_by(request) -> str:
    return gettext("Revoked by %(user)s") % {"user": request.user}


def issued_message(issued) -> str:
    record = issued[0].record
    details = [gettext("Issued for %(series)s") % {"series": record.series}]
    if record.buyer:
        details.append(gettext("buyer %(buyer)s") % {"buyer": record.buyer})
    if record.batch:
        details.append(gettext("batch %(batch)s") % {"batch": record.batch})
    return ", ".join(details) + "."


def revoke_and_log(request, pins, *, reason: str, revoke_access: bool = False):
    """Revoke PINs (and with `revoke_access` what they granted), and write each change into
    the admin history."""
    pin_list = list(pins.filter(revoked_at__isnull=True))
    ended = []
    if revoke_access:
        ended = list(
            Entitlement.objects.filter(pin__in=pins, revoked_at__isnull=True).select_related(
                "user", "series"
            )
        )
    counts = services.revoke_pins(pins, reason=reason, revoke_access=revoke_access)
    log(request, pin_list, CHANGE, gettext("Revoked (%(reason)s).") % {"reason": reason})
    ending = gettext("Access ended with its PIN (%(reason)s).")
    log(request, ended, CHANGE, ending % {"reason": reason})
    return counts
