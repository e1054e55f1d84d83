"""Questions about many PINs and entitlements, asked in SQL: the PINs in each state and
their counts, the active entitlements, and the grants the access policy is given."""

import functools

from django.db import models
from django.db.models import Q
from django.utils import timezone

from access import policy
from config import plainsql


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
        when given): `active_for()`, compiled once and run as plain SQL (config/plainsql.py),
        since every logged-in request asks and building it through the ORM costs about ten
        times running it. Its SQL is `active()`'s own."""
        values = {"user": user.pk, "now": now or timezone.now()}
        if series_id is not None:
            values["series"] = series_id
        rows = _grants(self.model, by_series=series_id is not None).rows(using=self.db, **values)
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
