"""CSV files for the seller: a batch's PINs as they stand (hints only: the PINs themselves are
never stored), and the readers who have access to a series.

Column names and words (a PIN's status, how access was given) are in the seller's language,
like the admin page they come from; times are ISO 8601 in the site's time zone."""

import csv
import io

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import AccessPin, Entitlement
from access.offer.contacts import instagram_handle_from
from access.services import csv_safe

BATCH_HEADER = [
    _("hint"), _("series"), _("batch"), _("buyer"), _("status"), _("uses"), _("max uses"),
    _("expires at"), _("issued at"), _("redeemed by"), _("note"),
]  # fmt: skip
BUYERS_HEADER = [
    _("email"), _("instagram"), _("since"), _("until"), _("how"), _("PIN hint"), _("batch"),
    _("buyer"), _("granted by"), _("lessons"),
]  # fmt: skip


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _write(header: list, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(name) for name in header])
    writer.writerows([csv_safe(str(value)) for value in row] for row in rows)
    return out.getvalue()


def batch_csv(pins, now=None) -> str:
    """One line per PIN of `pins` (a queryset): its hint and what became of it."""
    now = now or timezone.now()
    redeemers = Entitlement.objects.select_related("user").only("pin_id", "user__email")
    pins = (
        pins.select_related("series")
        .prefetch_related(Prefetch("entitlements", queryset=redeemers))
        .order_by("created_at", "pk")
    )
    return _write(
        BATCH_HEADER,
        (
            (
                pin.hint,
                pin.series.slug,
                pin.batch,
                pin.buyer,
                pin.status(now).label,
                pin.use_count,
                pin.max_uses,
                _iso(pin.expires_at),
                _iso(pin.created_at),
                " ".join(e.user.email for e in pin.entitlements.all()),
                pin.note,
            )
            for pin in pins
        ),
    )


def buyers_csv(series, now=None) -> str:
    """Readers with active access to `series`: one line per entitlement, saying since when,
    until when (empty: no end) and how it was granted (a PIN, or staff by hand), with the
    buyer the PIN was issued for and their Instagram username when it names one (without
    its @, which a spreadsheet would read as the start of a formula)."""
    entitlements = (
        Entitlement.objects.active(now)
        .filter(series=series)
        .select_related("user", "pin", "granted_by")
        .prefetch_related("lessons")
        .order_by("user__email", "granted_at")
    )
    return _write(
        BUYERS_HEADER,
        (
            (
                e.user.email,
                instagram_handle_from(e.pin.buyer) if e.pin else "",
                _iso(e.granted_at),
                _iso(e.expires_at),
                e.get_source_display(),
                e.pin.hint if e.pin else "",
                e.pin.batch if e.pin else "",
                e.pin.buyer if e.pin else "",
                e.granted_by.email if e.granted_by else "",
                _("all") if e.whole_series else " ".join(str(x.number) for x in e.lessons.all()),
            )
            for e in entitlements
        ),
    )


def batch_pins(batch: str):
    """The PINs of a batch; "" is the PINs issued without one."""
    return AccessPin.objects.filter(batch=batch)
