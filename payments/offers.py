"""Everything payments/ reads from, or asks of, lessons/ and access/: the price of a series
and whether it is sold here (its offer, through access.offer), the lesson a buyer lands on, and
the PIN an order issues (through the same issuing service as the seller's hand-off, a PIN
paid on the site) and redeems or holds for the buyer. Kept in one place, so that when what it reads
moves, only this module follows.
"""

from dataclasses import dataclass

from access import offer, services
from access.models import AccessPin
from lessons.models import Lesson, Series
from payments import gateways


@dataclass(frozen=True)
class Price:
    amount: int
    currency: str


def price_of(series: Series) -> Price | None:
    """What the series costs, from its offer (`price_amount` in its `currency`); None when it
    has no price (then it is not sold here)."""
    selling = offer.of(series)
    if not selling.price_amount:
        return None
    return Price(selling.price_amount, selling.currency)


def sold_here(series: Series) -> bool:
    """Whether readers can pay for the series on the site: its offer takes payments and has a
    price, and a gateway is configured."""
    return bool(offer.of(series).takes_payments and gateways.configured() and price_of(series))


def sellable(slug: str) -> Series | None:
    """The published series of that slug whose offer takes payments on the site, with it."""
    return (
        Series.objects.published()
        .filter(slug=slug, offer__takes_payments=True)
        .select_related("offer")
        .first()
    )


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
    """One one-use PIN for the order's buyer, as the seller's hand-off issues one, of its own
    kind: the sales dashboard counts it apart from the PINs sold by DM."""
    return services.issue_pins(
        series=order.series,
        buyer=order.email,
        note=f"Paid online: order {order.order_id}",
        kind=AccessPin.Kind.PAID,
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


def format_price(amount: int, currency: str = "IDR") -> str:
    """149000 → "Rp149.000" in Indonesian, "Rp 149,000" in English (the active language)."""
    return offer.format_price(amount, currency)
