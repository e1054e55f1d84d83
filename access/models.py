"""access's models: PINs, the entitlements they grant, the redemption log and its throttle,
private feed addresses and held PINs. Models of access kept in modules of their own by job
are imported here, so that `access.models` names every one: the dashboard's counts
(counting.py), new-lesson e-mails (mailing.py), the desk's (desk/models.py), a series' offer
(offer/models.py)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from access import policy
from access.counting import OfferCount, PaywallView  # noqa: F401 (models of access)
from access.desk.models import HandoffToken  # noqa: F401 (a model of access)
from access.mailing import Announcement, Delivery, Follow  # noqa: F401 (models of access)
from access.offer.models import Offer  # noqa: F401 (a model of access, in the offer's package)
from access.querysets import AccessPinQuerySet, EntitlementManager, PinStatus, status_of
from lessons.models import Lesson, Series


def lesson_numbers(numbers) -> str:
    """Lesson numbers as a reader writes them: [2, 3, 4, 6] becomes "2", an en dash, "4, 6"
    (the glossary's "pelajaran 2-7", with an en dash; never "L2")."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(
        f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs
    )


def scope_label(*, whole_series: bool, lessons) -> str:
    """What a PIN or an entitlement unlocks, in words: decided by `whole_series`, never by
    whether the list of lessons happens to be empty."""
    if whole_series:
        return str(_("All premium lessons"))
    numbers = [lesson.number for lesson in lessons]
    if not numbers:
        return str(_("No lessons (they were deleted)"))
    return ngettext("Lesson %(numbers)s", "Lessons %(numbers)s", len(numbers)) % {
        "numbers": lesson_numbers(numbers)
    }


class Scope(models.Model):
    """What a PIN unlocks, or an entitlement covers: a whole series, or chosen lessons of it."""

    whole_series = models.BooleanField(
        _("whole series"),
        default=True,
        help_text=_(
            "Every premium lesson of the series. Untick it for only the lessons chosen below "
            "(and nothing more if those lessons are deleted)."
        ),
    )
    lessons = models.ManyToManyField(
        Lesson, blank=True, related_name="+", verbose_name=_("lessons")
    )

    class Meta:
        abstract = True

    @property
    def scope_label(self) -> str:
        return scope_label(whole_series=self.whole_series, lessons=self.lessons.all())


class AccessPin(Scope):
    """A secret that unlocks a series (or chosen lessons of it) for whoever redeems it.

    Only a keyed hash of the PIN is stored, with its last four characters as a hint; the PIN
    itself is shown once, when it is issued.
    """

    Status = PinStatus

    class Kind(models.TextChoices):
        """Why it was made: the sales dashboard counts sales apart from everything else."""

        SALE = "sale", _("Sold to a buyer")
        PROMOTION = "promotion", _("Promotion or batch")
        REPLACEMENT = "replacement", _("Replacement of a lost PIN")
        PAID = "paid", _("Paid on the site")

    pin_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        _("hint"), max_length=4, editable=False, help_text=_("The PIN’s last four characters.")
    )
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="pins", verbose_name=_("series")
    )
    max_uses = models.PositiveIntegerField(
        _("uses"),
        default=1,
        help_text=_("How many readers may redeem it (1 for a buyer, more for a promotion)."),
    )
    use_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("After this, the PIN can no longer be redeemed."),
    )
    access_days = models.PositiveIntegerField(
        _("access days"),
        null=True,
        blank=True,
        help_text=_("Access lasts this many days from redemption; empty means no end."),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_reason = models.CharField(_("why revoked"), max_length=200, blank=True)
    buyer = models.CharField(
        _("buyer"),
        max_length=200,
        blank=True,
        help_text=_(
            "Who it was issued for: an Instagram handle, an email address or a note, so that "
            "the PIN can be found again."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True, help_text=_("For staff."))
    batch = models.CharField(_("batch"), max_length=100, blank=True, db_index=True)
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=Kind,
        default=Kind.PROMOTION,
        editable=False,
        help_text=_(
            "Sold: one PIN for one reader, made for a buyer; a promotion or batch: made several "
            "at a time, with several uses or a batch label; a replacement: for a lost PIN; paid "
            "on the site: issued for an order the reader paid on the site."
        ),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    objects = AccessPinQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("access PIN")
        verbose_name_plural = _("access PINs")
        permissions = [("view_dashboard", _("Can see the sales dashboard"))]
        indexes = [
            models.Index(fields=["created_at"], name="pin_issued_at"),
            models.Index(fields=["series", "created_at"], name="pin_series_issued_at"),
            # The dashboard's sales: PINs of a kind made in a period, by series.
            models.Index(fields=["kind", "created_at", "series"], name="pin_kind_issued_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(use_count__lte=models.F("max_uses")), name="pin_uses_within_max"
            ),
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="pin_max_uses_positive"),
        ]

    def __str__(self):
        return f"PIN …{self.hint}"

    @property
    def uses_left(self) -> int:
        return max(0, self.max_uses - self.use_count)

    def status(self, now=None) -> PinStatus:
        """Revoked, expired, used up or active (access.querysets.pin_status_rule)."""
        return status_of(self, now or timezone.now())

    def access_ends(self, redeemed_at):
        return redeemed_at + timedelta(days=self.access_days) if self.access_days else None


class Entitlement(Scope):
    """A reader's right to read a series' premium lessons (or chosen ones), from a PIN or
    granted by staff. Active while not revoked and before `expires_at`."""

    class Source(models.TextChoices):
        PIN = "pin", _("Redeemed a PIN")
        STAFF = "staff", _("Granted by staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="entitlements",
        verbose_name=_("reader"),
    )
    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="entitlements", verbose_name=_("series")
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source, default=Source.STAFF, editable=False
    )
    pin = models.ForeignKey(
        AccessPin,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entitlements",
        editable=False,
        verbose_name=_("PIN"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        _("ends at"),
        null=True,
        blank=True,
        help_text=_("Access ends at this time; empty means no end."),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_reason = models.CharField(_("why revoked"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = EntitlementManager()

    class Meta:
        ordering = ["-granted_at", "-pk"]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        indexes = [
            models.Index(fields=["user", "revoked_at", "expires_at"]),
            # "Did this reader redeem a PIN for this series after reaching a paywall?"
            models.Index(
                fields=["user", "series", "source", "granted_at"], name="entitlement_bought_at"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "pin"],
                condition=Q(pin__isnull=False),
                name="one_entitlement_per_pin",
            )
        ]

    def __str__(self):
        return f"{self.user} → {self.series}"

    def is_active(self, now=None) -> bool:
        return policy.is_active(
            expires_at=self.expires_at, revoked_at=self.revoked_at, now=now or timezone.now()
        )


class RedemptionAttempt(models.Model):
    """Every attempt to redeem a PIN, kept as a log and counted by the throttles."""

    class Outcome(models.TextChoices):
        UNLOCKED = "unlocked", _("Unlocked")
        ALREADY_UNLOCKED = "already unlocked", _("Already unlocked")
        REDEEMED_BEFORE = "redeemed before", _("Redeemed before by this reader")
        UNKNOWN = "unknown", _("Unknown PIN")
        EXPIRED = "expired", _("Expired PIN")
        REVOKED = "revoked", _("Revoked PIN")
        USED_UP = "used up", _("Used up PIN")
        THROTTLED = "throttled", _("Throttled")

    FAILURES = (Outcome.UNKNOWN, Outcome.EXPIRED, Outcome.REVOKED, Outcome.USED_UP)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reader"),
    )
    pin = models.ForeignKey(
        AccessPin,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempts",
        verbose_name=_("PIN"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    lesson = models.ForeignKey(
        Lesson,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # attempt_lesson_at below
        verbose_name=_("typed in the paywall of"),
        help_text=_("The lesson whose paywall the PIN was typed in, if it was."),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("redemption attempt")
        verbose_name_plural = _("redemption attempts")
        indexes = [
            models.Index(fields=["user", "outcome", "created_at"]),
            models.Index(fields=["ip", "outcome", "created_at"]),
            # The log's order and the dashboard: attempts over time by outcome, redemptions
            # of a series, PINs typed into a lesson's paywall (covering, so the database
            # counts from the index alone).
            models.Index(fields=["created_at", "outcome"], name="attempt_at_outcome"),
            models.Index(fields=["outcome", "created_at", "pin"], name="attempt_outcome_at_pin"),
            models.Index(fields=["lesson", "created_at", "outcome"], name="attempt_lesson_at"),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class ThrottleBucket(models.Model):
    """A row to lock per throttled key ("user:42", "ip:203.0.113.5", "ip:unknown"): concurrent
    redemptions for the same account or address wait for each other while their failures are
    counted, so a limit is never overshot. The failures themselves are the redemption log."""

    key = models.CharField(max_length=64, primary_key=True)

    def __str__(self):
        return self.key


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret in a reader's private feed address (/access/feed/<token>/), whose premium
    items carry the full text of what that reader may read. One per reader; making a new one
    or deleting it stops the old address at once, and so does the end of their access (the
    feed is decided afresh on every request). An address lives only while its reader holds
    access without a break from the time it was made: once ended, it stays ended, and a later
    grant does not bring it back (services.feed_token_ended)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feed_token",
        verbose_name=_("reader"),
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    issued_at = models.DateTimeField(_("made at"), auto_now=True)

    class Meta:
        verbose_name = _("private feed address")
        verbose_name_plural = _("private feed addresses")

    def __str__(self):
        return f"{self.user} · …{self.token[-4:]}"


class HeldPin(models.Model):
    """A PIN bought by a reader who was not logged in, held for the e-mail address they gave:
    redeemed for whoever logs in or signs up with that address, once it is verified
    (access.pending.redeem_held). The PIN itself was e-mailed to that address too, so it can
    also be typed; then the hold finds it redeemed and ends."""

    email = models.EmailField(_("e-mail address"), db_index=True)
    pin = models.OneToOneField(
        AccessPin, on_delete=models.CASCADE, related_name="hold", verbose_name=_("PIN")
    )
    next_url = models.CharField(
        _("go to"), max_length=300, blank=True, help_text=_("Where the reader lands after it.")
    )
    created_at = models.DateTimeField(_("held since"), auto_now_add=True)

    class Meta:
        verbose_name = _("held PIN")
        verbose_name_plural = _("held PINs")

    def __str__(self):
        return f"{self.pin} → {self.email}"
