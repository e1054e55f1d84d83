"""Orders paid on the site, and the log of every notification the gateway sent about them."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import AccessPin
from lessons.models import Lesson, Series


def new_order_id(environment: str) -> str:
    """An order id nobody can guess, naming the gateway's environment it was made in (a
    notification from another environment is recognised by it): "sim-3q9X…" (36 characters,
    within Midtrans' 50, of the symbols it allows)."""
    return f"{environment}-{secrets.token_urlsafe(24)}"


class OrderQuerySet(models.QuerySet):
    def waiting_for(self, *, series, owner: dict, now=None):
        """The reader's pending order for `series` that can still be paid, if any; `owner`
        filters the reader's orders (see services.start_checkout)."""
        now = now or timezone.now()
        return self.filter(
            series=series, status=Order.Status.PENDING, expires_at__gt=now, **owner
        ).first()

    def overdue(self, minutes: int, now=None):
        """Pending orders older than `minutes`: the gateway is asked about them
        (reconcile_orders)."""
        now = now or timezone.now()
        return self.filter(
            status=Order.Status.PENDING,
            created_at__lte=now - timezone.timedelta(minutes=minutes),
        )


class Order(models.Model):
    """A reader's purchase of a series' premium lessons. Amount and currency are the series'
    price when it was made; the PIN it issues on payment is named only by its hint.

    Pending until the gateway says the payment settled (then paid: a one-use PIN issued and
    redeemed for the buyer, or held for their address) or that it will not be (expired,
    denied, cancelled). A paid order refunded or charged back ends the access it gave. An
    order whose amount or currency the gateway reports differently is flagged for the seller,
    and issues nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        DENIED = "denied", _("Denied")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        CHARGED_BACK = "charged back", _("Charged back")

    CLOSED = (Status.EXPIRED, Status.DENIED, Status.CANCELLED)

    order_id = models.CharField(_("order id"), max_length=50, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("reader"),
        help_text=_("Empty when the reader was not logged in: the order is tied to the e-mail."),
    )
    email = models.EmailField(_("e-mail address"), editable=False)
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="+", verbose_name=_("series")
    )
    lesson = models.ForeignKey(
        Lesson,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("bought from"),
        help_text=_("The lesson whose paywall the reader paid from, if any."),
    )
    amount = models.PositiveBigIntegerField(_("amount"), editable=False)
    currency = models.CharField(_("currency"), max_length=3, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING, editable=False
    )
    flag = models.CharField(
        _("needs a look"),
        max_length=300,
        blank=True,
        editable=False,
        help_text=_("Why the seller should look at this order; nothing is issued while set."),
    )
    gateway = models.CharField(_("gateway"), max_length=20, editable=False)
    gateway_reference = models.CharField(
        _("gateway reference"),
        max_length=100,
        blank=True,
        editable=False,
        help_text=_("The gateway's transaction id, once the reader chose how to pay."),
    )
    payment_type = models.CharField(_("paid with"), max_length=40, blank=True, editable=False)
    redirect_url = models.URLField(_("payment page"), max_length=500, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=16, editable=False)
    site_url = models.URLField(
        _("site address"),
        editable=False,
        help_text=_("The site as the reader used it: where the e-mail's links point."),
    )
    pin = models.ForeignKey(
        AccessPin,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("PIN"),
    )
    pin_hint = models.CharField(
        _("PIN"),
        max_length=4,
        blank=True,
        editable=False,
        help_text=_("The last four characters of the PIN it issued; the PIN is kept nowhere."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("can be paid until"), editable=False)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("refund_order", _("Can refund orders through the gateway"))]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_at"),
            models.Index(fields=["paid_at", "series"], name="order_paid_at"),
            models.Index(fields=["email"], name="order_email"),
        ]
        constraints = [
            # A reader who comes back gets the order they started, never a second one (logged
            # out, the browser that made it does: services.start_checkout).
            models.UniqueConstraint(
                fields=["series", "user"],
                condition=Q(status="pending", user__isnull=False),
                name="one_pending_order_per_reader",
            ),
        ]

    def __str__(self):
        return self.order_id

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class Notification(models.Model):
    """Every notification the gateway's address received, as it came (cut at MAX_BODY bytes),
    whether its signature held and what was done with it."""

    MAX_BODY = 16 * 1024

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        UNCHANGED = "unchanged", _("Nothing to change")
        FLAGGED = "flagged", _("Flagged for the seller")
        OTHER_ENVIRONMENT = "other environment", _("Ignored: another environment")
        FORGED = "forged", _("Refused: signature does not match")
        UNKNOWN_ORDER = "unknown order", _("Refused: unknown order")
        MALFORMED = "malformed", _("Refused: not a notification")
        TOO_LARGE = "too large", _("Refused: too large")
        GATEWAY_DOWN = "gateway down", _("Not confirmed: the gateway did not answer")

    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        verbose_name=_("order"),
    )
    sent_order_id = models.CharField(_("order id (as sent)"), max_length=100, blank=True)
    transaction_status = models.CharField(_("status (as confirmed)"), max_length=40, blank=True)
    verified = models.BooleanField(_("signature verified"), default=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        indexes = [models.Index(fields=["received_at"], name="notification_at")]

    def __str__(self):
        return f"{self.sent_order_id or '?'} · {self.get_outcome_display()}"
