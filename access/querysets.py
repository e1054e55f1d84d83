"""The rules about PINs and entitlements that are asked of many rows at once, in SQL: a PIN's
status (written once, in Python and in SQL side by side), the counts of a batch, the active
entitlements (`policy.is_active()` in SQL), and the grants the access policy is given.
tests/access/test_rules.py holds each SQL form to its Python one over the boundary cases."""

import functools
from collections.abc import Callable
from datetime import datetime

from django.db import models
from django.db.models import F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access import policy
from access.mailing import Follow
from config import plainsql


class PinStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    USED_UP = "used up", _("Used up")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


def pin_status_rule(now: datetime) -> tuple[tuple[PinStatus, Callable, Q], ...]:
    """The one rule for a PIN's status at `now`: the first of these that holds names it (a
    PIN revoked after it expired is revoked; one expired after it was used up is expired);
    a PIN none of them holds for is active and can still be redeemed. Each as a test of one
    PIN and as a condition on many, side by side."""
    return (
        (PinStatus.REVOKED, lambda pin: pin.revoked_at is not None, Q(revoked_at__isnull=False)),
        (
            PinStatus.EXPIRED,
            lambda pin: pin.expires_at is not None and pin.expires_at <= now,
            Q(expires_at__lte=now),
        ),
        (
            PinStatus.USED_UP,
            lambda pin: pin.use_count >= pin.max_uses,
            Q(use_count__gte=F("max_uses")),
        ),
    )


def status_of(pin, now: datetime) -> PinStatus:
    """`pin`'s status at `now` (AccessPin.status())."""
    for status, holds, _condition in pin_status_rule(now):
        if holds(pin):
            return status
    return PinStatus.ACTIVE


def status_conditions(now: datetime) -> dict[PinStatus, Q]:
    """Each status as a condition on PINs: its own test, and none of those before it."""
    conditions, earlier = {}, Q()
    for status, _holds, condition in pin_status_rule(now):
        conditions[status] = earlier & condition
        earlier &= ~condition
    conditions[PinStatus.ACTIVE] = earlier
    return conditions


def pin_status_counts(now=None) -> dict[str, models.Aggregate]:
    """Aggregates counting PINs once each, as a seller reads a batch: revoked; else redeemed
    (used at least once, whatever came after); else, never used, expired or unused (can
    still be redeemed), as their status says."""
    status = status_conditions(now or timezone.now())
    never_used = Q(use_count=0)
    return {
        "issued": models.Count("pk"),
        "revoked": models.Count("pk", filter=status[PinStatus.REVOKED]),
        "redeemed": models.Count("pk", filter=~status[PinStatus.REVOKED] & ~never_used),
        "expired": models.Count("pk", filter=status[PinStatus.EXPIRED] & never_used),
        "unused": models.Count("pk", filter=status[PinStatus.ACTIVE] & never_used),
        "uses": models.Sum("use_count", default=0),
        "capacity": models.Sum("max_uses", default=0),
    }


class AccessPinQuerySet(models.QuerySet):
    def status_counts(self, now=None) -> dict[str, int]:
        """How many of these PINs are issued, revoked, redeemed, expired and unused (see
        `pin_status_counts`), with their uses and capacity, in one query."""
        return self.aggregate(**pin_status_counts(now))

    def with_status(self, status: str, now=None):
        """PINs in this state at `now` (pin_status_rule)."""
        return self.filter(status_conditions(now or timezone.now())[PinStatus(status)])


class EntitlementQuerySet(models.QuerySet):
    def active(self, now=None):
        """`policy.is_active()` in SQL: not revoked, and not yet at its end."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True
        )

    def active_for(self, user, now=None):
        return self.active(now).filter(user=user)


class EntitlementManager(models.Manager.from_queryset(EntitlementQuerySet)):
    """What the pages ask of a reader's entitlements on every logged-in request, each a
    statement compiled once (config/plainsql.py) and run on the table. They are the
    manager's own, not the QuerySet's: a QuerySet's method reached through the manager makes
    a QuerySet first, which none of these filters (with Progress's, three made for nothing on
    every logged-in series page: 5% of its profile)."""

    def grants_for(self, user, now=None, *, series_id=None) -> tuple[policy.Grant, ...]:
        """The user's active entitlements as the policy sees them (only those for `series_id`
        when given): `active_for()`, compiled once and run as plain SQL (config/plainsql.py),
        since every logged-in request asks and building it through the ORM costs about ten
        times running it. Its SQL is `active()`'s own."""
        values = {"user": user.pk, "now": now or timezone.now()}
        if series_id is not None:
            values["series"] = series_id
        rows = _grants(self.model, by_series=series_id is not None).rows(using=self.db, **values)
        return _as_grants(rows)

    def grants_and_progress(
        self, user, *, lesson, progress_model, now=None
    ) -> tuple[tuple[policy.Grant, ...], datetime | None]:
        """What a lesson page asks of a logged-in reader, in one query: their grants in the
        lesson's series (`grants_for(user, series_id=…)`), and when they read the lesson to
        the end (None: not yet, or never opened), from `progress_model` (lessons' Progress).
        Each part is its own QuerySet (`active()` and the reader's progress row), joined by
        UNION ALL and compiled once (config/plainsql.py)."""
        rows = _grants_and_progress(self.model, progress_model).rows(
            using=self.db,
            user=user.pk,
            now=now or timezone.now(),
            series=lesson.series_id,
            lesson=lesson.pk,
        )
        return _grants_and_finished(rows)

    def grants_and_progress_with_session(
        self, session, *, lesson, progress_model
    ) -> tuple[tuple[policy.Grant, ...], datetime | None] | None:
        """`grants_and_progress()` of the user `session`'s row names, read in one statement
        with the session itself (`session.load_with()`: accounts' session store), for a page
        that knows its lesson before it asks who the reader is. The caller uses them only if
        that user is the one the session logs in (`session.row_user_pk`). None when the
        session was loaded already or has no key: ask `grants_and_progress()`."""
        read = _grants_and_progress_with_session(self.model, progress_model, session.model)
        rows = session.load_with(read, series=lesson.series_id, lesson=lesson.pk)
        if rows is None:
            return None
        return _grants_and_finished(rows)

    def series_reading(
        self, user, *, series_id: int, lessons, progress_model, now=None
    ) -> tuple[tuple[policy.Grant, ...], tuple[set[int], set[int]], bool]:
        """What a series page asks of a logged-in reader, in one query: their grants in the
        series (`grants_for(user, series_id=…)`), their marks on its listed `lessons`
        ((opened, done), as `progress_model.objects.marks_for()` reads them: lessons'
        Progress), and whether they follow it (access.follows.follows). Each part is its own
        QuerySet (`active()`, the reader's progress in the lessons' span, their follow),
        joined by UNION ALL and compiled once (config/plainsql.py)."""
        progress = progress_model.objects
        rows = _series_reading(self.model, progress_model).rows(
            using=self.db,
            user=user.pk,
            now=now or timezone.now(),
            series=series_id,
            **progress.span(lessons),
        )
        return _grants_marks_and_follow(rows, progress, lessons)

    def series_reading_with_session(
        self, session, *, series_id: int, lessons, progress_model
    ) -> tuple[tuple[policy.Grant, ...], tuple[set[int], set[int]], bool] | None:
        """`series_reading()` of the user `session` names, read in one statement with the
        session itself, as `grants_and_progress_with_session()` reads a lesson page's."""
        progress = progress_model.objects
        read = _series_reading_with_session(self.model, progress_model, session.model)
        rows = session.load_with(read, series=series_id, **progress.span(lessons))
        if rows is None:
            return None
        return _grants_marks_and_follow(rows, progress, lessons)


def _grants_marks_and_follow(rows, progress, lessons):
    """`_series_branches()`'s rows as the grants, the marks on `lessons` and the follow."""
    grants, marks, following = [], [], False
    for row in rows:
        if row[0] is not None:
            grants.append(row[:5])
        elif row[4] is not None:
            marks.append(row[4:])
        else:
            following = True
    return _as_grants(grants), progress.marks_from(marks, lessons), following


def _grants_and_finished(rows) -> tuple[tuple[policy.Grant, ...], datetime | None]:
    """`_lesson_reading()`'s rows as the grants, and when the lesson was finished."""
    finished = next((row[5] for row in rows if row[0] is None), None)
    return _as_grants(row[:5] for row in rows if row[0] is not None), finished


def _as_grants(rows) -> tuple[policy.Grant, ...]:
    """Rows of (entitlement, series, ends, whole series, one lesson it names or None) as the
    policy's grants."""
    grants: dict[int, tuple[int, object, bool, set[int]]] = {}
    for pk, series_id, expires_at, whole_series, lesson_id in rows:
        entry = grants.setdefault(pk, (series_id, expires_at, whole_series, set()))
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
def _grants(model, *, by_series: bool) -> plainsql.Prepared:
    """`grants_for()`'s query: the active entitlements of a user (of a series), one row per
    lesson they name (none: one row)."""

    def build(user, now, series=None):
        found = model.objects.active(now).filter(user=user)
        if by_series:
            found = found.filter(series=series)
        return found.order_by().values_list("pk", "series", "expires_at", "whole_series", "lessons")

    field = model._meta.get_field
    slots = {"user": lambda: field("user"), "now": lambda: field("expires_at")}
    if by_series:
        slots["series"] = lambda: field("series")
    return plainsql.Prepared(build, **slots)


def _lesson_reading(model, progress_model, user, now, series, lesson) -> list[tuple]:
    """What a lesson page asks of a reader (`user`: a value, or an expression for one), as
    branches of one query, each a QuerySet and its columns (entitlement, series, ends, whole
    series, lesson, finished at): `_grants()`'s rows for one series with an empty last column,
    and the reader's progress row on one lesson as a row of empty columns ending with when
    they finished it."""
    no_number, no_time = models.BigIntegerField(), models.DateTimeField()
    nothing = {
        "no_entitlement": Value(None, output_field=no_number),
        "no_series": Value(None, output_field=no_number),
        "no_end": Value(None, output_field=no_time),
        "no_whole": Value(None, output_field=models.BooleanField()),
        "no_lesson": Value(None, output_field=no_number),
    }
    progress = progress_model.objects.filter(user=user, lesson=lesson).annotate(**nothing)
    return [_grants_branch(model, user, now, series), (progress, (*nothing, "finished_at"))]


def _grants_branch(model, user, now, series) -> tuple:
    """`_grants()`'s rows for one series with an empty last column (finished at), as a branch
    of `_lesson_reading()`'s or `_series_branches()`' query."""
    return (
        model.objects.active(now)
        .filter(user=user, series=series)
        .annotate(no_finish=Value(None, output_field=models.DateTimeField())),
        ("pk", "series", "expires_at", "whole_series", "lessons", "no_finish"),
    )


def _lesson_reading_slots(model, progress_model) -> dict:
    field = model._meta.get_field
    return {
        "now": lambda: field("expires_at"),
        "series": lambda: field("series"),
        "lesson": lambda: progress_model._meta.get_field("lesson"),
    }


@functools.cache
def _grants_and_progress(model, progress_model) -> plainsql.Prepared:
    """`grants_and_progress()`'s query: `_lesson_reading()`'s branches joined by UNION ALL."""

    def build(user, now, series, lesson):
        (grants, grant_names), (progress, progress_names) = _lesson_reading(
            model, progress_model, user, now, series, lesson
        )
        return (
            grants.order_by()
            .values_list(*grant_names)
            .union(progress.order_by().values_list(*progress_names), all=True)
            .order_by()
        )

    return plainsql.Prepared(
        build,
        user=lambda: model._meta.get_field("user"),
        **_lesson_reading_slots(model, progress_model),
    )


@functools.cache
def _grants_and_progress_with_session(model, progress_model, session_model):
    """`grants_and_progress()`'s rows of the user a session names, read with the session
    (config.plainsql.ReadWithSession)."""
    return plainsql.ReadWithSession(
        session_model,
        lambda user, now, series, lesson: _lesson_reading(
            model, progress_model, user, now, series, lesson
        ),
        # `now` is the session's too: the same moment for both
        **{
            name: slot
            for name, slot in _lesson_reading_slots(model, progress_model).items()
            if name != "now"
        },
    )


def _series_branches(model, progress_model, user, now, series, low, high) -> list[tuple]:
    """What a series page asks of a reader (`user`: a value, or an expression for one), as
    branches of one query in `_lesson_reading()`'s columns (entitlement, series, ends, whole
    series, lesson, finished at): `_grants()`'s rows for one series with an empty last column;
    the reader's progress rows in a span of the series' lessons
    (`progress_model.objects.in_span()`) as (…, lesson, finished at) with the rest empty; and
    their follow of the series, if any, as a row with only its series."""
    no_number, no_time = models.BigIntegerField(), models.DateTimeField()

    def empty(*names, kind=no_number):
        return {name: Value(None, output_field=kind) for name in names}

    nothing = {
        **empty("no_entitlement", "no_series"),
        **empty("no_end", kind=no_time),
        **empty("no_whole", kind=models.BooleanField()),
    }
    progress = progress_model.objects.in_span(user=user, series=series, low=low, high=high)
    follow = Follow.objects.filter(user=user, series=series).annotate(
        **empty("no_entitlement"),
        **empty("no_end", kind=no_time),
        **empty("no_whole", kind=models.BooleanField()),
        **empty("no_lesson"),
        **empty("no_finish", kind=no_time),
    )
    return [
        _grants_branch(model, user, now, series),
        (progress.annotate(**nothing), (*nothing, "lesson_id", "finished_at")),
        (follow, ("no_entitlement", "series", "no_end", "no_whole", "no_lesson", "no_finish")),
    ]


def _series_slots(model, progress_model) -> dict:
    number = progress_model._meta.get_field("lesson").related_model._meta.get_field("number")
    return {
        "now": lambda: model._meta.get_field("expires_at"),
        "series": lambda: model._meta.get_field("series"),
        "low": lambda: number,
        "high": lambda: number,
    }


@functools.cache
def _series_reading(model, progress_model) -> plainsql.Prepared:
    """`series_reading()`'s query: `_series_branches()` joined by UNION ALL."""

    def build(user, now, series, low, high):
        first, *rest = (
            queryset.order_by().values_list(*names)
            for queryset, names in _series_branches(
                model, progress_model, user, now, series, low, high
            )
        )
        return first.union(*rest, all=True).order_by()

    return plainsql.Prepared(
        build, user=lambda: model._meta.get_field("user"), **_series_slots(model, progress_model)
    )


@functools.cache
def _series_reading_with_session(model, progress_model, session_model):
    """`series_reading()`'s rows of the user a session names, read with the session
    (config.plainsql.ReadWithSession)."""
    return plainsql.ReadWithSession(
        session_model,
        lambda user, now, series, low, high: _series_branches(
            model, progress_model, user, now, series, low, high
        ),
        **{
            name: slot
            for name, slot in _series_slots(model, progress_model).items()
            if name != "now"
        },
    )
