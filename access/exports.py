"""CSV files for the seller: a batch's PINs as they stand (hints only: the PINs themselves are
never stored), and the readers who have access to a series."""

import csv
import io

from django.db.models import Prefetch
from django.utils import timezone

from access.models import AccessPin, Entitlement
from access.services import csv_safe

BATCH_HEADER = [
    "hint", "series", "batch", "buyer", "status", "uses", "max_uses", "expires_at",
    "issued_at", "redeemed_by", "note",
]  # fmt: skip
BUYERS_HEADER = ["email", "since", "until", "how", "pin_hint", "batch", "granted_by", "lessons"]


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _write(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
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
                pin.status(now).value,
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
    until when (empty: no end) and how it was granted (a PIN, or staff by hand)."""
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
                _iso(e.granted_at),
                _iso(e.expires_at),
                e.source,
                e.pin.hint if e.pin else "",
                e.pin.batch if e.pin else "",
                e.granted_by.email if e.granted_by else "",
                "all" if e.whole_series else " ".join(str(x.number) for x in e.lessons.all()),
            )
            for e in entitlements
        ),
    )


def batch_pins(batch: str):
    """The PINs of a batch; "" is the PINs issued without one."""
    return AccessPin.objects.filter(batch=batch)
