"""The access decision: may this reader read this lesson in full, or only its teaser?

A pure function of plain facts, with no ORM and no request, so that it can be read in one
sitting and tested as a table. Every place that shows lesson text asks it.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class Show(enum.Enum):
    """What of a lesson a reader gets."""

    FULL = "full"
    TEASER = "teaser"


class Reason(enum.Enum):
    FREE = "free lesson"
    STAFF = "staff"
    ENTITLED = "entitlement covers it"
    NO_ENTITLEMENT = "no active entitlement covers it"


@dataclass(frozen=True)
class Decision:
    show: Show
    reason: Reason

    @property
    def full(self) -> bool:
        return self.show is Show.FULL


def is_active(*, expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """The one rule for "active": not revoked, and `now` is before the end (if there is
    one; the end itself is excluded). `EntitlementQuerySet.active()` is this rule in SQL,
    and the plain query of `grants_for()` is compiled from it (tests/access/test_rules.py
    holds the three to the same answers)."""
    return revoked_at is None and (expires_at is None or now < expires_at)


@dataclass(frozen=True)
class Grant:
    """One entitlement that is not revoked, as the policy sees it (revoked ones never reach
    it). `lesson_ids` is None when the grant covers every lesson of the series.
    """

    series_id: int
    lesson_ids: frozenset[int] | None = None
    expires_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return is_active(expires_at=self.expires_at, revoked_at=None, now=now)

    def covers(self, *, series_id: int, lesson_id: int) -> bool:
        return self.series_id == series_id and (
            self.lesson_ids is None or lesson_id in self.lesson_ids
        )


def decide(
    *,
    is_free: bool,
    series_id: int,
    lesson_id: int,
    is_staff: bool,
    grants: Iterable[Grant],
    now: datetime,
) -> Decision:
    """Free lesson → full; staff → full; premium with an active grant covering it → full;
    otherwise the teaser."""
    if is_free:
        return Decision(Show.FULL, Reason.FREE)
    if is_staff:
        return Decision(Show.FULL, Reason.STAFF)
    for grant in grants:
        if grant.is_active(now) and grant.covers(series_id=series_id, lesson_id=lesson_id):
            return Decision(Show.FULL, Reason.ENTITLED)
    return Decision(Show.TEASER, Reason.NO_ENTITLEMENT)


def covers_whole_series(
    *, series_id: int, is_staff: bool, grants: Iterable[Grant], now: datetime
) -> bool:
    """Whether every lesson of the series is open to the reader: staff, or an active grant of
    the whole series. Readers for whom it is not are the ones a call to action is for."""
    return is_staff or any(
        grant.is_active(now) and grant.series_id == series_id and grant.lesson_ids is None
        for grant in grants
    )


@dataclass(frozen=True)
class PremiumScope:
    """The premium lessons that may be open to a reader: every lesson of `series_ids`, and
    the single lessons of grants narrowed to some, as (series id, lesson id) pairs: a lesson
    counts only in the series its grant is for, as in decide(). `held` is every series with
    either."""

    series_ids: frozenset[int]
    lessons: frozenset[tuple[int, int]]
    held: frozenset[int]

    def opens(self, *, series_id: int, lesson_id: int) -> bool:
        """Whether the premium lesson is open to the reader: what decide() says of their
        grants at the moment the scope was made (tests/access/test_policy.py holds the two
        to the same answers). So what is worked out from the scope alone (search results)
        may be kept by it."""
        return series_id in self.series_ids or (series_id, lesson_id) in self.lessons


NO_PREMIUM = PremiumScope(frozenset(), frozenset(), frozenset())


def premium_scope(*, is_staff: bool, grants: Iterable[Grant], now: datetime) -> PremiumScope | None:
    """Where premium lessons may be open to the reader (None: everywhere, for staff). Search
    looks at text after a cut only there, and still keeps a lesson found there only when
    `decide()` says FULL; the private feed exists only when it is not empty."""
    if is_staff:
        return None
    active = [grant for grant in grants if grant.is_active(now)]
    return PremiumScope(
        frozenset(grant.series_id for grant in active if grant.lesson_ids is None),
        frozenset(
            (grant.series_id, lesson_id)
            for grant in active
            if grant.lesson_ids is not None
            for lesson_id in grant.lesson_ids
        ),
        frozenset(grant.series_id for grant in active),
    )


Period = tuple[datetime, datetime | None]  # an entitlement's start and end (None: no end)


def held_throughout(periods: Iterable[Period], *, since: datetime, until: datetime) -> bool:
    """Whether the periods together cover every moment from `since` to `until`: access held
    without a break. A period covers its start and the moments before its end, as
    `is_active()` says (an entitlement revoked ends when it was revoked)."""
    reached = since  # every moment before this one is covered
    for start, end in sorted(periods, key=lambda period: period[0]):
        if reached > until:
            break
        if start > reached:
            return False
        if end is None:
            return True
        reached = max(reached, end)
    return reached > until
