"""Writes that span several models and must be atomic: redeeming, issuing and revoking."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from access import pins, policy
from access.models import (
    AccessPin,
    Entitlement,
    FeedToken,
    HeldPin,
    OfferCount,
    PaywallView,
    RedemptionAttempt,
    ThrottleBucket,
    new_feed_token,
)
from lessons.models import Lesson, Series

Outcome = RedemptionAttempt.Outcome


@dataclass(frozen=True)
class Redemption:
    outcome: Outcome
    series: Series | None = None
    entitlement: Entitlement | None = None
    retry_after: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.UNLOCKED, Outcome.ALREADY_UNLOCKED)


def retry_after(*, user, ip: str | None, now: datetime) -> datetime | None:
    """When this account or address may try again, or None when it is not throttled.

    Counts failed attempts in the redemption log, which every worker process shares. Attempts
    without a usable client address (None) share one "unknown" address and its limit. A
    reader who is not logged in (`user` None) is counted by address only.
    """
    limits = [
        (
            {"ip": ip} if ip else {"ip__isnull": True},
            settings.PIN_FAILURES_PER_IP,
            timedelta(minutes=settings.PIN_FAILURE_WINDOW_IP_MINUTES),
        ),
    ]
    if user is not None:
        limits.insert(
            0,
            (
                {"user": user},
                settings.PIN_FAILURES_PER_USER,
                timedelta(minutes=settings.PIN_FAILURE_WINDOW_USER_MINUTES),
            ),
        )
    latest = None
    for who, limit, window in limits:
        failures = RedemptionAttempt.objects.filter(
            **who, outcome__in=RedemptionAttempt.FAILURES, created_at__gt=now - window
        )
        recent = failures.order_by("-created_at").values_list("created_at", flat=True)[
            limit - 1 : limit
        ]
        if recent:
            # The limit-th most recent failure ages out of the window at this time.
            until = recent[0] + window
            latest = max(latest, until) if latest else until
    return latest


def _covers(user, pin: AccessPin, now: datetime) -> bool:
    """Whether the user's active entitlements already give all that `pin` would."""
    grants = [g for g in Entitlement.objects.grants_for(user, now) if g.series_id == pin.series_id]
    if any(g.lesson_ids is None for g in grants):
        return True
    if pin.whole_series:
        return False
    wanted = set(pin.lessons.values_list("pk", flat=True))
    held = set().union(*(g.lesson_ids for g in grants)) if grants else set()
    return wanted <= held


def _digest(typed_pin: str) -> str:
    """The keyed hash of a typed PIN; raises pins.NotAPin when it cannot be one, which is
    never counted as a failed attempt (a slip of the finger is not a guess)."""
    normalised = pins.normalise(typed_pin)
    if not pins.is_pin(normalised):
        raise pins.NotAPin(typed_pin)
    return pins.digest(normalised)


@sensitive_variables("typed_pin")
def redeem(
    *, user, typed_pin: str, ip: str | None = None, lesson_id: int | None = None
) -> Redemption:
    """Redeem a PIN typed by a logged-in user. Every attempt is logged, with the lesson whose
    paywall it was typed in (`lesson_id`), if any. Raises pins.NotAPin, and logs nothing,
    when `typed_pin` does not have a PIN's shape."""
    return redeem_digest(user=user, digest=_digest(typed_pin), ip=ip, lesson_id=lesson_id)


def _lock_throttle_buckets(*, user, ip: str | None) -> None:
    """Lock the account's (if any) and the address's buckets (in key order, so that two
    requests never wait for each other's second lock) until the transaction ends."""
    keys = sorted([f"ip:{ip or 'unknown'}"] + ([f"user:{user.pk}"] if user is not None else []))
    ThrottleBucket.objects.bulk_create(
        [ThrottleBucket(key=key) for key in keys], ignore_conflicts=True
    )
    list(ThrottleBucket.objects.select_for_update().filter(key__in=keys).order_by("key"))


def redeem_digest(
    *, user, digest: str, ip: str | None = None, lesson_id: int | None = None
) -> Redemption:
    """Redeem the PIN with this keyed hash.

    Atomic: the reader's and the address's throttle buckets are locked while their failures
    are counted and the attempt is logged, so neither limit is overshot by requests racing;
    and the use is taken by a conditional UPDATE under the PIN's row lock, so a PIN with N
    uses is never redeemed more than N times, however many requests race for it.
    """
    now = timezone.now()
    with transaction.atomic():
        _lock_throttle_buckets(user=user, ip=ip)
        until = retry_after(user=user, ip=ip, now=now)
        if until:
            RedemptionAttempt.objects.create(
                user=user, outcome=Outcome.THROTTLED, ip=ip, lesson_id=lesson_id
            )
            return Redemption(Outcome.THROTTLED, retry_after=until)
        pin = (
            AccessPin.objects.select_for_update(of=("self",))
            .select_related("series")
            .filter(pin_hash=digest)
            .first()
        )
        result = _redeem_locked(user, pin, now)
        RedemptionAttempt.objects.create(
            user=user, pin=pin, outcome=result.outcome, ip=ip, lesson_id=lesson_id
        )
    return result


@sensitive_variables("typed_pin")
def check(
    *, typed_pin: str, ip: str | None = None, lesson_id: int | None = None
) -> Redemption | None:
    """Whether a PIN typed by a reader who is not logged in can still unlock anything, before
    they are asked to sign up: None when it can (nothing is logged; it is redeemed once they
    are in), else the refusal a logged-in reader would get (unknown, revoked, expired, used
    up), logged and counted by the address's throttle like theirs, or THROTTLED. Raises
    pins.NotAPin, and logs nothing, when `typed_pin` does not have a PIN's shape."""
    digest = _digest(typed_pin)
    now = timezone.now()
    with transaction.atomic():
        _lock_throttle_buckets(user=None, ip=ip)
        until = retry_after(user=None, ip=ip, now=now)
        if until:
            RedemptionAttempt.objects.create(outcome=Outcome.THROTTLED, ip=ip, lesson_id=lesson_id)
            return Redemption(Outcome.THROTTLED, retry_after=until)
        pin = AccessPin.objects.select_related("series").filter(pin_hash=digest).first()
        status = pin.status(now) if pin else None
        refusal = {
            None: Outcome.UNKNOWN,
            AccessPin.Status.REVOKED: Outcome.REVOKED,
            AccessPin.Status.EXPIRED: Outcome.EXPIRED,
            AccessPin.Status.USED_UP: Outcome.USED_UP,
        }.get(status)
        if refusal is None:
            return None
        RedemptionAttempt.objects.create(pin=pin, outcome=refusal, ip=ip, lesson_id=lesson_id)
    return Redemption(refusal, pin.series if pin else None)


def _redeem_locked(user, pin: AccessPin | None, now: datetime) -> Redemption:
    if pin is None:
        return Redemption(Outcome.UNKNOWN)
    status = pin.status(now)
    if status == AccessPin.Status.REVOKED:
        return Redemption(Outcome.REVOKED, pin.series)
    if status == AccessPin.Status.EXPIRED:
        return Redemption(Outcome.EXPIRED, pin.series)
    if _covers(user, pin, now):
        return Redemption(Outcome.ALREADY_UNLOCKED, pin.series)
    if Entitlement.objects.filter(user=user, pin=pin).exists():
        return Redemption(Outcome.REDEEMED_BEFORE, pin.series)
    taken = AccessPin.objects.filter(pk=pin.pk, use_count__lt=F("max_uses")).update(
        use_count=F("use_count") + 1
    )
    if not taken:
        return Redemption(Outcome.USED_UP, pin.series)
    entitlement = Entitlement.objects.create(
        user=user,
        series=pin.series,
        whole_series=pin.whole_series,
        source=Entitlement.Source.PIN,
        pin=pin,
        granted_at=now,
        expires_at=pin.access_ends(now),
    )
    if not pin.whole_series:
        entitlement.lessons.set(pin.lessons.values_list("pk", flat=True))
    return Redemption(Outcome.UNLOCKED, pin.series, entitlement)


def redeem_issued(*, user, pin: AccessPin, lesson_id: int | None = None) -> Redemption:
    """Redeem for `user` a PIN the site issued for them (a payment, or a PIN held for their
    address): the same redemption, under the PIN's row lock, and logged, as a typed PIN, but
    never throttled, since nothing was guessed."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            AccessPin.objects.select_for_update(of=("self",))
            .select_related("series")
            .get(pk=pin.pk)
        )
        result = _redeem_locked(user, locked, now)
        RedemptionAttempt.objects.create(
            user=user, pin=locked, outcome=result.outcome, lesson_id=lesson_id
        )
    return result


def hold_pin(*, pin: AccessPin, email: str, next_url: str = "") -> HeldPin:
    """Keep `pin` for whoever logs in with `email` (verified): see HeldPin."""
    return HeldPin.objects.create(pin=pin, email=email.strip().lower(), next_url=next_url)


@dataclass(frozen=True)
class IssuedPin:
    pin: str
    record: AccessPin


CSV_HEADER = ["pin", "hint", "series", "uses", "expires", "buyer", "note", "batch"]


def issue_pins(
    *,
    series: Series,
    lessons: list[Lesson] | tuple = (),
    count: int = 1,
    max_uses: int = 1,
    expires_at: datetime | None = None,
    access_days: int | None = None,
    buyer: str = "",
    note: str = "",
    batch: str = "",
    issued_by=None,
    kind: str | None = None,
) -> list[IssuedPin]:
    """Create `count` PINs in one transaction and return them with their plaintext, which is
    not stored anywhere and cannot be shown again. Their `kind`, unless given: a sale when it
    is one PIN of one use for a buyer, without a batch label; else a promotion or batch."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if kind is None:
        sale = count == 1 and max_uses == 1 and buyer.strip() and not batch
        kind = AccessPin.Kind.SALE if sale else AccessPin.Kind.PROMOTION
    if any(lesson.series_id != series.pk for lesson in lessons):
        raise ValueError("every lesson must belong to the series")
    plaintexts: set[str] = set()
    while len(plaintexts) < count:
        plaintexts.add(pins.generate())
    ordered = sorted(plaintexts)
    records = []
    for plaintext in ordered:
        normalised = pins.normalise(plaintext)
        records.append(
            AccessPin(
                pin_hash=pins.digest(normalised),
                hint=pins.hint(normalised),
                series=series,
                whole_series=not lessons,
                max_uses=max_uses,
                expires_at=expires_at,
                access_days=access_days,
                buyer=buyer,
                note=note,
                batch=batch,
                issued_by=issued_by,
                kind=kind,
            )
        )
    with transaction.atomic():
        # SQLite and PostgreSQL both return the new primary keys from a bulk insert.
        created = AccessPin.objects.bulk_create(records, batch_size=1000)
        if lessons:
            through = AccessPin.lessons.through
            through.objects.bulk_create(
                [
                    through(accesspin_id=record.pk, lesson_id=lesson.pk)
                    for record in created
                    for lesson in lessons
                ],
                batch_size=1000,
            )
    return [
        IssuedPin(plaintext, record) for plaintext, record in zip(ordered, created, strict=True)
    ]


def pins_csv(issued: list[IssuedPin]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for item in issued:
        record = item.record
        writer.writerow(
            [
                item.pin,
                record.hint,
                record.series.slug,
                record.max_uses,
                record.expires_at.isoformat() if record.expires_at else "",
                csv_safe(record.buyer),
                csv_safe(record.note),
                csv_safe(record.batch),
            ]
        )
    return out.getvalue()


def csv_safe(value: str) -> str:
    """Keep spreadsheet programs from reading a note as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def revoke_pins(queryset, *, reason: str, revoke_access: bool = False) -> tuple[int, int]:
    """Stop PINs from being redeemed; with `revoke_access`, also end what they granted.
    Returns (PINs revoked, entitlements revoked)."""
    now = timezone.now()
    with transaction.atomic():
        pin_ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        revoked = AccessPin.objects.filter(pk__in=pin_ids).update(
            revoked_at=now, revoked_reason=reason
        )
        ended = 0
        if revoke_access:
            ended = revoke_entitlements(Entitlement.objects.filter(pin__in=queryset), reason=reason)
    return revoked, ended


def replace_pin(*, pin: AccessPin, issued_by=None, reason: str = "") -> IssuedPin:
    """A buyer lost their PIN: revoke it (what it already unlocked stays unlocked) and issue
    a new one with the same scope, uses and access for the same buyer, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        old = AccessPin.objects.select_for_update().get(pk=pin.pk)
        lessons = list(old.lessons.all()) if not old.whole_series else []
        if not old.whole_series and not lessons:
            raise ValueError("the PIN's lessons were deleted; it has nothing left to replace")
        issued = issue_pins(
            series=old.series,
            lessons=lessons,
            max_uses=max(1, old.max_uses - old.use_count),
            expires_at=old.expires_at if old.expires_at and old.expires_at > now else None,
            access_days=old.access_days,
            buyer=old.buyer,
            note=old.note,
            batch=old.batch,
            issued_by=issued_by,
            kind=AccessPin.Kind.REPLACEMENT,
        )[0]
        if old.revoked_at is None:
            old.revoked_at = now
            old.revoked_reason = reason or gettext("Replaced by PIN …%(hint)s") % {
                "hint": issued.record.hint
            }
            old.save(update_fields=["revoked_at", "revoked_reason"])
    return issued


def revoke_entitlements(queryset, *, reason: str) -> int:
    return queryset.filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def grant(*, user, series: Series, lessons=(), expires_at=None, granted_by=None, note=""):
    """Give a reader access by hand (staff)."""
    with transaction.atomic():
        entitlement = Entitlement.objects.create(
            user=user,
            series=series,
            whole_series=not lessons,
            source=Entitlement.Source.STAFF,
            granted_by=granted_by,
            expires_at=expires_at,
            note=note,
        )
        if lessons:
            entitlement.lessons.set(lessons)
    return entitlement


def record_paywall_view(*, user, lesson_id: int) -> bool:
    """Remember that `user` reached the paywall of this lesson (a published premium one),
    once per reader and lesson: one read and at most one small insert, which does nothing
    when the reader had reached it before. Returns whether the lesson qualified."""
    if not (Lesson.objects.published().filter(pk=lesson_id, access=Lesson.Access.PREMIUM).exists()):
        return False
    PaywallView.objects.bulk_create(
        [PaywallView(user=user, lesson_id=lesson_id)], ignore_conflicts=True
    )
    return True


def count_offer_event(*, event: str, series_id: int, lesson_id: int | None) -> bool:
    """Count one anonymous meeting with a series' offer (OfferCount) on today's row: the
    paywall of a published premium lesson came into view, or its DM or WhatsApp button was
    tapped there, on a published lesson's page, or (no lesson) on the series or home page.
    One read and one increment (an insert the first time that day). Returns whether it
    counted (False for a lesson or series readers cannot see)."""
    lessons = Lesson.objects.published().filter(series=series_id)
    if event == OfferCount.Event.PAYWALL:
        found = lesson_id is not None and (
            lessons.filter(pk=lesson_id, access=Lesson.Access.PREMIUM).exists()
        )
    elif lesson_id is not None:
        found = lessons.filter(pk=lesson_id).exists()
    else:
        found = Series.objects.published().filter(pk=series_id).exists()
    if not found:
        return False
    key = {"series_id": series_id, "lesson_id": lesson_id, "day": timezone.localdate()}
    counted = OfferCount.objects.filter(**key, event=event).update(count=F("count") + 1)
    if not counted:
        # Two first counts of the day at once may make two rows; the dashboard adds rows up.
        OfferCount.objects.create(**key, event=event, count=1)
    return True


def renew_feed_token(*, user) -> FeedToken:
    """A new private feed address for the reader; any previous one stops working."""
    token, _ = FeedToken.objects.update_or_create(user=user, defaults={"token": new_feed_token()})
    return token


def delete_feed_token(*, user) -> None:
    FeedToken.objects.filter(user=user).delete()


def feed_token_ended(feed_token: FeedToken, *, entitlements=None, now=None) -> bool:
    """Whether this private feed address has ended: its reader is no longer active, or was
    without access (staff, or an active entitlement) at any moment since it was made. An
    address found ended is deleted: it never works again, whatever is granted later (the
    reader, with access again, makes a new one). `entitlements`: the reader's
    (granted_at, expires_at, revoked_at), when already read."""
    now = now or timezone.now()
    user = feed_token.user
    if user.is_active and user.is_staff:
        return False
    if user.is_active:
        if entitlements is None:
            entitlements = Entitlement.objects.filter(user=user, granted_at__lte=now).values_list(
                "granted_at", "expires_at", "revoked_at"
            )
        periods = [
            (granted_at, min((t for t in (expires_at, revoked_at) if t), default=None))
            for granted_at, expires_at, revoked_at in entitlements
        ]
        if policy.held_throughout(periods, since=feed_token.issued_at, until=now):
            return False
    FeedToken.objects.filter(pk=feed_token.pk).delete()
    return True
