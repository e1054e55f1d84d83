"""Questions about many PINs and entitlements, asked in SQL: the PINs in each state and
their counts, the active entitlements, and the grants the access policy is given."""

import functools
from datetime import UTC, datetime

from django.db import connections, models
from django.db.models import Q
from django.utils import timezone

from access import policy


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
        when given): `active_for()` in one plain query, since every logged-in request asks and
        building it through the ORM costs about ten times running it (a test holds the two to
        the same answers)."""
        now = now or timezone.now()
        connection = connections[self.db]
        sql = _grants_sql(self.model, self.db, by_series=series_id is not None)
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
def _grants_sql(model, alias: str, *, by_series: bool) -> str:
    """`grants_for()`'s statement, worked out once per database."""
    name = connections[alias].ops.quote_name
    meta, through = model._meta, model.lessons.through._meta
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
