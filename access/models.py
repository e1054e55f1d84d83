import functools
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from access import policy
from access.offer.models import Offer  # noqa: F401 (a model of access, in the offer's package)
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


def pin_status_counts(now=None, prefix: str = "") -> dict[str, models.Aggregate]:
    """Aggregates counting PINs once each, in the order a seller reads them: revoked; else
    redeemed (used at least once); else expired (never used); else unused (can still be
    redeemed). `prefix` reaches the PINs through a relation ("pins__")."""
    now = now or timezone.now()

    def q(**lookups) -> Q:
        return Q(**{prefix + key: value for key, value in lookups.items()})

    live = q(revoked_at__isnull=True)
    unused = live & q(use_count=0)
    expired = q(expires_at__lte=now)
    pk = prefix + "pk"
    return {
        "issued": models.Count(pk),
        "revoked": models.Count(pk, filter=~live),
        "redeemed": models.Count(pk, filter=live & q(use_count__gt=0)),
        "expired": models.Count(pk, filter=unused & expired),
        "unused": models.Count(pk, filter=unused & ~expired),
        "uses": models.Sum(prefix + "use_count", default=0),
        "capacity": models.Sum(prefix + "max_uses", default=0),
    }


class AccessPinQuerySet(models.QuerySet):
    def status_counts(self, now=None) -> dict[str, int]:
        """How many of these PINs are issued, revoked, redeemed, expired and unused (see
        `pin_status_counts`), with their uses and capacity, in one query."""
        return self.aggregate(**pin_status_counts(now))

    def with_status(self, status: str, now=None):
        """PINs in this state, decided in the same order as `AccessPin.status()`: revoked
        first, then expired, then used up; active PINs can still be redeemed."""
        now = now or timezone.now()
        revoked = Q(revoked_at__isnull=False)
        expired = Q(expires_at__lte=now)
        used_up = Q(use_count__gte=models.F("max_uses"))
        return self.filter(
            {
                "revoked": revoked,
                "expired": ~revoked & expired,
                "used up": ~revoked & ~expired & used_up,
                "active": ~revoked & ~expired & ~used_up,
            }[status]
        )


class AccessPin(Scope):
    """A secret that unlocks a series (or chosen lessons of it) for whoever redeems it.

    Only a keyed hash of the PIN is stored, with its last four characters as a hint; the PIN
    itself is shown once, when it is issued.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED_UP = "used up", _("Used up")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

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

    def status(self, now=None) -> "AccessPin.Status":
        now = now or timezone.now()
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at and self.expires_at <= now:
            return self.Status.EXPIRED
        if self.use_count >= self.max_uses:
            return self.Status.USED_UP
        return self.Status.ACTIVE

    def access_ends(self, redeemed_at):
        return redeemed_at + timedelta(days=self.access_days) if self.access_days else None


class EntitlementQuerySet(models.QuerySet):
    def active(self, now=None):
        """`policy.is_active()` in SQL: not revoked, and not yet at its end."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True
        )

    def active_for(self, user, now=None):
        return self.active(now).filter(user=user)

    def grants_for(self, user, now=None, *, series_id=None) -> tuple[policy.Grant, ...]:
        """The user's active entitlements as the policy sees them (only those for `series_id`
        when given): `active_for()` in one plain query, since every logged-in request asks and
        building it through the ORM costs about ten times running it (a test holds the two to
        the same answers)."""
        now = now or timezone.now()
        connection = connections[self.db]
        sql = _grants_sql(self.db, by_series=series_id is not None)
        params = [user.pk, connection.ops.adapt_datetimefield_value(now)]
        if series_id is not None:
            params.append(series_id)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        grants: dict[int, tuple[int, object, bool, set[int]]] = {}
        for pk, series_id, expires_at, whole_series, lesson_id in rows:
            entry = grants.setdefault(
                pk, (series_id, _as_datetime(expires_at), bool(whole_series), set())
            )
            if lesson_id is not None:
                entry[3].add(lesson_id)
        return tuple(
            policy.Grant(
                series_id=series_id,
                lesson_ids=None if whole_series else frozenset(lessons),
                expires_at=expires_at,
            )
            for series_id, expires_at, whole_series, lessons in grants.values()
        )


@functools.cache
def _grants_sql(alias: str, *, by_series: bool) -> str:
    """`grants_for()`'s statement, worked out once per database."""
    name = connections[alias].ops.quote_name
    meta, through = Entitlement._meta, Entitlement.lessons.through._meta
    e, el = name(meta.db_table), name(through.db_table)

    def column(model_meta, field):
        return name(model_meta.get_field(field).column)

    expires = f"{e}.{column(meta, 'expires_at')}"
    # Names from the models' meta, values as parameters: no SQL from a request.
    sql = (
        f"SELECT {e}.{column(meta, 'id')}, {e}.{column(meta, 'series')}, {expires}, "  # noqa: S608
        f"{e}.{column(meta, 'whole_series')}, {el}.{column(through, 'lesson')} "
        f"FROM {e} LEFT OUTER JOIN {el} "
        f"ON {el}.{column(through, 'entitlement')} = {e}.{column(meta, 'id')} "
        f"WHERE {e}.{column(meta, 'user')} = %s AND {e}.{column(meta, 'revoked_at')} IS NULL "
        f"AND ({expires} IS NULL OR {expires} > %s)"
    )
    if by_series:
        sql += f" AND {e}.{column(meta, 'series')} = %s"
    return sql


def _as_datetime(value):
    """A datetime column as the database gave it (PostgreSQL: aware; SQLite: naive UTC, as a
    datetime or as text) as an aware datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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

    objects = EntitlementQuerySet.as_manager()

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


class PaywallView(models.Model):
    """A logged-in reader reached the paywall of a premium lesson: one row per reader and
    lesson, kept from the first time, recorded by a small request the page sends after it
    has loaded (access.views.paywall_seen), never while the page itself is served."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique constraint's index starts with it
        verbose_name=_("reader"),
    )
    lesson = models.ForeignKey(
        Lesson,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # paywall_view_lesson_at below
        verbose_name=_("lesson"),
    )
    created_at = models.DateTimeField(_("first reached at"), default=timezone.now)

    class Meta:
        verbose_name = _("paywall view")
        verbose_name_plural = _("paywall views")
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="one_paywall_view_per_lesson")
        ]
        # The dashboard counts from these alone: a period (all series), or a series' lessons.
        indexes = [
            models.Index(fields=["created_at", "lesson", "user"], name="paywall_view_at"),
            models.Index(fields=["lesson", "created_at", "user"], name="paywall_view_lesson_at"),
        ]

    def __str__(self):
        return f"{self.user_id} → {self.lesson_id}"


class OfferCount(models.Model):
    """How often readers met a series' offer, per lesson and day, counted without knowing who
    they were: the paywall came into view, or they tapped its Instagram or WhatsApp button.
    One row per series, lesson (none: the series page or the home page), day and event, whose
    `count` is incremented (access.services.count_offer_event): no row per view, no personal
    data, no cookie; the pages themselves stay the same for every anonymous reader."""

    class Event(models.TextChoices):
        PAYWALL = "paywall", _("Paywall views")
        DM = "dm", _("DM taps")
        WHATSAPP = "whatsapp", _("WhatsApp taps")

    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="+", verbose_name=_("series")
    )
    lesson = models.ForeignKey(
        Lesson,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("lesson"),
        help_text=_("Empty: on the series page or the home page."),
    )
    day = models.DateField(_("day"))
    event = models.CharField(_("event"), max_length=10, choices=Event)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("offer count")
        verbose_name_plural = _("offer counts")
        indexes = [
            # The increment's lookup, and the dashboard's days (a period, or a series' days).
            models.Index(fields=["series", "lesson", "day", "event"], name="offer_count_key"),
            models.Index(fields=["day", "series"], name="offer_count_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.event} {self.lesson_id or self.series_id}: {self.count}"


class Announcement(models.Model):
    """A published lesson e-mailed to the readers who have access to it and asked for such
    e-mails. Queued by staff in the admin (one delivery per reader), sent in batches by
    `manage.py send_announcements`, so no web request waits on the mail server."""

    lesson = models.OneToOneField(
        Lesson,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("lesson"),
    )
    site_url = models.URLField(
        _("site address"),
        editable=False,
        help_text=_("Where the links in the e-mail point: the site as staff used it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("queued by"),
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")

    def __str__(self):
        return str(self.lesson)


class Delivery(models.Model):
    """One copy of an announcement, to one address: the record that says whether it went.

    Each is claimed (`sending`) just before it is handed to the mail server and marked as soon
    as the server answered, one row at a time and outside any transaction, so a sender that
    stops half-way leaves every e-mail it sent marked sent, and the next one carries on with
    the rest. A try that failed is counted on the delivery it was made for and tried again
    after a pause (config.mail.RETRY_DELAYS); the others wait without being counted."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped (no longer wanted or no access)")
        FAILED = "failed", _("Failed")

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    email = models.EmailField(_("e-mail address"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The reader with this address, if it belongs to an account."),
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Not tried before this time (after a failed try).")
    )
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "email"], name="one_delivery_per_address"
            )
        ]
        indexes = [models.Index(fields=["status", "announcement"], name="delivery_status")]

    def __str__(self):
        return f"{self.announcement} → {self.email}"


class Follow(models.Model):
    """An address following a series: its new lessons are e-mailed there, whether or not the
    reader holds access (those without it get the series' call to action too). A logged-in
    reader follows with one tap; anyone else first confirms a link sent to the address (double
    opt-in), and nothing is stored until they do. Every e-mail stops them in one click."""

    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="+", verbose_name=_("series")
    )
    email = models.EmailField(_("e-mail address"), help_text=_("Kept in lower case."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("reader"),
        help_text=_("Set when a logged-in reader followed: the e-mails go to their address."),
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints = [
            models.UniqueConstraint(fields=["series", "email"], name="one_follow_per_address"),
            models.UniqueConstraint(
                fields=["user", "series"],
                condition=Q(user__isnull=False),
                name="one_follow_per_reader",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.series}"


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
