"""The payment flow: an order made (or resumed) with its payment page, the gateway's word on
it applied, and the notifications that bring that word.

Nothing here trusts a notification's own account of a payment: a notification whose signature
holds only says "ask about this order", and the order changes on what the gateway's status API
answers, under the order's row lock, so that however many notifications arrive, in whatever
order, an order issues one PIN at most.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from payments import emails, gateways, offers
from payments.gateways import State, Transaction
from payments.models import Notification, Order, new_order_id

log = logging.getLogger(__name__)
Outcome = Notification.Outcome


class Unavailable(Exception):
    """The gateway could not make the payment page: no order was kept."""


def start_checkout(
    *, series, lesson, user, email: str, made_here=(), language: str, site_url: str, urls
) -> Order:
    """The reader's order for `series`: the pending one they started, if it can still be
    paid (never a second charge), else a new one with its payment page. Logged in, the
    account's; logged out, the one made for this address in this browser (`made_here`, the
    order ids its session knows: typing someone's address elsewhere finds none of theirs).
    `urls(order)` gives the (finish, notification) addresses. Raises Unavailable when the
    gateway does not answer; then nothing is kept."""
    now = timezone.now()
    owner = {"user": user} if user else {"user": None, "email": email, "order_id__in": made_here}
    existing = Order.objects.waiting_for(series=series, owner=owner, now=now)
    if existing and (existing.redirect_url or not _abandoned(existing, now)):
        return existing  # a page being made by a request at the same moment: see order()
    if existing:
        existing.delete()  # its request died between saving and asking the gateway
    paid_meanwhile = _close_overdue(series=series, owner=owner, now=now)
    if paid_meanwhile:
        return paid_meanwhile
    price = offers.price_of(series)
    gateway = gateways.get_gateway()
    order = Order(
        order_id=new_order_id(gateway.environment),
        user=user,
        email=email,
        series=series,
        lesson=lesson,
        amount=price.amount,
        currency=price.currency,
        gateway=gateway.name,
        language=language,
        site_url=site_url,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.PAYMENTS_ORDER_MINUTES),
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # the same reader's other tap made one just now
        return (
            Order.objects.waiting_for(series=series, owner=owner, now=now) or _raise_unavailable()
        )
    finish, notification = urls(order)
    try:
        checkout = gateway.create_checkout(
            order=order, item_name=series.title, finish_url=finish, notification_url=notification
        )
    except gateways.GatewayError as error:
        order.delete()
        log.warning("payments: no payment page for %s: %s", order.order_id, error)
        raise Unavailable(str(error)) from None
    order.redirect_url = checkout.redirect_url
    order.gateway_reference = checkout.reference
    order.save(update_fields=["redirect_url", "gateway_reference", "updated_at"])
    return order


def _abandoned(order: Order, now) -> bool:
    """A pending order still without a payment page long after the gateway would have
    answered: the request making it ended before it could."""
    limit = timedelta(seconds=3 * settings.PAYMENTS_GATEWAY_TIMEOUT_SECONDS)
    return not order.redirect_url and order.created_at < now - limit


def _raise_unavailable():
    raise Unavailable("the order made at the same moment is gone")


def _close_overdue(*, series, owner, now) -> Order | None:
    """The reader's pending orders past their time: asked about once more, then closed, so
    that a new order can be made. One paid in its last minute is returned instead."""
    overdue = Order.objects.filter(
        series=series, status=Order.Status.PENDING, expires_at__lte=now, **owner
    )
    for order in overdue:
        try:
            refresh(order)
        except gateways.GatewayError as error:
            raise Unavailable(str(error)) from None
        order.refresh_from_db(fields=["status"])
        if order.status == Order.Status.PAID:
            return order
    return None


@dataclass(frozen=True)
class Applied:
    outcome: str  # a Notification.Outcome
    detail: str = ""


def refresh(order: Order) -> Applied:
    """Ask the gateway about the order and apply its answer (reconcile_orders, a reader back
    from the payment page). Raises GatewayError when it cannot be asked."""
    return apply(order.pk, gateways.get_gateway().status(order.order_id))


def apply(order_pk: int, txn: Transaction | None) -> Applied:
    """Apply what the gateway's status API says of an order (None: no payment chosen yet),
    under the order's row lock."""
    now = timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("series", "user")
            .get(pk=order_pk)
        )
        if txn is None:
            if order.is_pending and order.expires_at <= now:
                return _set(order, Order.Status.EXPIRED, gettext("Not paid in time."))
            return Applied(Outcome.UNCHANGED, "no payment chosen yet")
        if txn.payment_type and txn.reference:
            order.payment_type, order.gateway_reference = txn.payment_type, txn.reference
        if txn.amount != order.amount or txn.currency != order.currency:
            return _flag(
                order,
                gettext("The gateway reports %(amount)s %(currency)s, not the order’s %(own)s.")
                % {"amount": txn.amount, "currency": txn.currency, "own": order.amount},
            )
        return _STATES.get(txn.state, _unchanged)(order, txn, now)


def _paid(order: Order, txn: Transaction, now) -> Applied:
    if order.pin_id or order.status == Order.Status.PAID:
        order.save(update_fields=["payment_type", "gateway_reference", "updated_at"])
        return Applied(Outcome.UNCHANGED, "paid before")
    if order.flag:
        return Applied(Outcome.FLAGGED, order.flag)
    if order.status in (Order.Status.REFUNDED, Order.Status.CHARGED_BACK):
        return _flag(order, gettext("Reported paid after it was refunded: nothing issued."))
    detail = ""
    if order.status in Order.CLOSED:
        detail = gettext("Paid after it was %(status)s: the reader paid, so the PIN was issued.")
        detail %= {"status": order.get_status_display().lower()}
    issued = offers.issue_pin(order)
    lesson = offers.landing(order)
    offers.deliver(order, issued.record, lesson.get_absolute_url() if lesson else "")
    order.status, order.paid_at = Order.Status.PAID, now
    order.pin, order.pin_hint = issued.record, issued.record.hint
    order.save()
    plaintext = issued.pin
    transaction.on_commit(lambda: emails.send_receipt(order, plaintext, lesson))
    return Applied(Outcome.APPLIED, detail or "paid: PIN …" + issued.record.hint)


def _closed(order: Order, txn: Transaction, now) -> Applied:
    status = {
        State.EXPIRED: Order.Status.EXPIRED,
        State.DENIED: Order.Status.DENIED,
        State.CANCELLED: Order.Status.CANCELLED,
    }[txn.state]
    if order.is_pending:
        return _set(order, status, txn.gateway_status)
    if order.status == Order.Status.PAID and txn.state != State.EXPIRED:
        return _reversed(order, Order.Status.CANCELLED, txn.gateway_status)
    return _unchanged(order, txn, now)


def _refunded(order: Order, txn: Transaction, now) -> Applied:
    status = Order.Status.CHARGED_BACK if txn.state == State.CHARGED_BACK else Order.Status.REFUNDED
    if order.status == Order.Status.PAID:
        return _reversed(order, status, txn.gateway_status)
    if order.status == status:
        return _unchanged(order, txn, now)
    return _set(order, status, gettext("Refunded before it was paid here: nothing to end."))


def _reversed(order: Order, status, word: str) -> Applied:
    """A paid order's money went back: its access ends (PAYMENTS_REVOKE_ON_REFUND)."""
    order.status = status
    order.save()
    if not settings.PAYMENTS_REVOKE_ON_REFUND:
        return Applied(Outcome.APPLIED, f"{word}: access kept (PAYMENTS_REVOKE_ON_REFUND off)")
    ended = offers.end_access(order, gettext("Order %(id)s: %(what)s") % {
        "id": order.order_id, "what": order.get_status_display().lower()
    })  # fmt: skip
    return Applied(Outcome.APPLIED, f"{word}: PIN …{order.pin_hint} revoked, {ended} access ended")


def _unchanged(order: Order, txn: Transaction, now) -> Applied:
    order.save(update_fields=["payment_type", "gateway_reference", "updated_at"])
    return Applied(Outcome.UNCHANGED, txn.gateway_status)


def _set(order: Order, status, detail: str) -> Applied:
    order.status = status
    order.save()
    return Applied(Outcome.APPLIED, detail)


def _flag(order: Order, why: str) -> Applied:
    order.flag = why[:300]
    order.save()
    log.warning("payments: order %s flagged: %s", order.order_id, why)
    return Applied(Outcome.FLAGGED, why)


_STATES = {
    State.PAID: _paid,
    State.EXPIRED: _closed,
    State.DENIED: _closed,
    State.CANCELLED: _closed,
    State.REFUNDED: _refunded,
    State.CHARGED_BACK: _refunded,
}


@dataclass(frozen=True)
class Received:
    """What the notification address answers, and why."""

    http_status: int
    outcome: str
    detail: str = ""


def receive(body: bytes, *, too_large: bool = False) -> Received:
    """A notification, from its raw body: read, verified, confirmed with the status API and
    applied; logged whatever happens. Answers 200 to what was handled or deliberately
    ignored, and 4xx (or 503, to be sent again) to what was not, so the gateway sends again
    only what it should."""
    entry = Notification(body=body[: Notification.MAX_BODY].decode("utf-8", "replace"))
    received = _receive(body, entry, too_large)
    entry.outcome, entry.detail = received.outcome, received.detail[:300]
    for name in ("body", "sent_order_id", "transaction_status", "detail"):
        # as it came, but without NUL, which PostgreSQL's text cannot hold
        setattr(entry, name, getattr(entry, name).replace("\x00", "\ufffd"))
    entry.save()
    return received


def _receive(body: bytes, entry: Notification, too_large: bool) -> Received:
    if too_large:
        return Received(413, Outcome.TOO_LARGE, f"over {Notification.MAX_BODY} bytes")
    gateway = gateways.get_gateway()
    try:
        notice = gateway.read_notification(body)
    except gateways.BadNotification as error:
        return Received(400, Outcome.MALFORMED, str(error))
    entry.sent_order_id, entry.transaction_status = notice.order_id[:100], notice.claimed_status
    if notice.environment != gateway.environment:
        return Received(200, Outcome.OTHER_ENVIRONMENT, f"not {gateway.environment}")
    if not notice.verified:
        return Received(403, Outcome.FORGED)
    entry.verified = True
    order = Order.objects.filter(order_id=notice.order_id).only("pk").first()
    if order is None:
        return Received(404, Outcome.UNKNOWN_ORDER)
    entry.order = order
    try:
        txn = gateway.status(notice.order_id)
    except gateways.GatewayError as error:
        return Received(503, Outcome.GATEWAY_DOWN, str(error))
    if txn is None:  # signed, but the gateway knows no payment yet: ask again later
        return Received(503, Outcome.GATEWAY_DOWN, "the status API knows no payment yet")
    entry.transaction_status = txn.gateway_status[:40]
    applied = apply(order.pk, txn)
    return Received(200, applied.outcome, applied.detail)


def refund(order: Order, *, reason: str) -> Applied:
    """Have the gateway send a paid order's money back, in full, and apply its answer (the
    notification about it that follows changes nothing more)."""
    return apply(order.pk, gateways.get_gateway().refund(order, reason=reason))
