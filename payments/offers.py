"""Everything payments/ reads from, or asks of, lessons/ and access/: the price of a series,
whether it is sold here, the lesson a buyer lands on, and the PIN an order issues (through
the same issuing service as the seller's hand-off) and redeems or holds for the buyer.

Kept in one place so that when the selling fields move (a numeric price, an Offer owned by
access/), only this module follows them.
"""

import re
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext, gettext_noop

from access import services
from access.models import AccessPin
from lessons.models import Lesson, Series
from payments import gateways

# A price as the series' price line starts: "Rp 149.000 · …", "IDR 149,000", "Rp149.000,-";
# whole rupiah, grouped by threes or not at all, and not "Rp 1.5 juta" nor "Rp 150rb".
_PRICE = re.compile(
    r"^\s*(?:Rp\.?|IDR)\s*(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00|\.00)?"
    r"(?![.,]?\d|\s*(?:rb|ribu|k|jt|juta)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Price:
    amount: int
    currency: str


def price_of(series: Series) -> Price | None:
    """What the series costs: its numeric price where the series has one (`price_amount`, a
    field that the selling texts' own change brings), else read from the start of its price
    line; None when there is neither (then it is not sold here)."""
    amount = getattr(series, "price_amount", None)
    if amount:
        return Price(amount, getattr(series, "currency", "IDR"))
    match = _PRICE.match(series.price or "")
    if not match:
        return None
    amount = int(re.sub(r"[.,]", "", match["amount"]))
    return Price(amount, "IDR") if amount > 0 else None


def sold_here(series: Series) -> bool:
    """Whether readers can pay for the series on the site: payments on, a price, a gateway."""
    return bool(series.payments_enabled and gateways.configured() and price_of(series))


def sellable(slug: str) -> Series | None:
    return Series.objects.published().filter(slug=slug, payments_enabled=True).first()


def premium_lessons(series: Series):
    return Lesson.objects.published().filter(series=series, access=Lesson.Access.PREMIUM)


def lesson_from(series: Series, lesson_id) -> Lesson | None:
    """The premium lesson of the series whose paywall the reader paid from (from a form)."""
    if not str(lesson_id or "").isdecimal():
        return None
    return premium_lessons(series).filter(pk=int(lesson_id)).first()


def landing(order) -> Lesson | None:
    """Where a buyer reads on: the lesson they paid from, else the first premium lesson."""
    lessons = premium_lessons(order.series).select_related("series").order_by("number")
    if order.lesson_id:
        chosen = lessons.filter(pk=order.lesson_id).first()
        if chosen:
            return chosen
    return lessons.first()


def has_whole_series(request, series: Series) -> bool:
    return request.access.has_whole_series(series.pk)


def issue_pin(order) -> services.IssuedPin:
    """One one-use PIN for the order's buyer, as the seller's hand-off issues one."""
    return services.issue_pins(
        series=order.series, buyer=order.email, note=f"Paid online: order {order.order_id}"
    )[0]


def deliver(order, pin: AccessPin, next_url: str) -> None:
    """Redeem the order's PIN for its reader at once; for a reader who was not logged in,
    hold it for their e-mail address until they log in with it."""
    if order.user_id:
        services.redeem_issued(user=order.user, pin=pin, lesson_id=order.lesson_id)
    else:
        services.hold_pin(pin=pin, email=order.email, next_url=next_url)


def end_access(order, reason: str) -> int:
    """Revoke the order's PIN and whatever it unlocked; how many entitlements ended."""
    pins = AccessPin.objects.filter(pk=order.pin_id)
    return services.revoke_pins(pins, reason=reason, revoke_access=True)[1]


# How an amount is written in each currency; Indonesian writes "Rp149.000", without a space.
PRICE_FORMATS = {"IDR": gettext_noop("Rp %(amount)s")}


def format_price(amount: int, currency: str = "IDR") -> str:
    """149000 → "Rp149.000" in Indonesian, "Rp 149,000" in English (the active language)."""
    number = formats.number_format(amount, decimal_pos=0, use_l10n=True, force_grouping=True)
    return gettext(PRICE_FORMATS.get(currency, "%(amount)s " + currency)) % {"amount": number}
