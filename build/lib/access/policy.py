"""The access decision: may this reader read this lesson in full, or only its teaser?

A pure function of plain facts, with no ORM and no request, so that it can be read in one
sitting and tested as a table. Every place that shows lesson text asks it.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class Outcome(enum.Enum):
    FULL = "full"
    TEASER = "teaser"


class Reason(enum.Enum):
    FREE = "free lesson"
    STAFF = "staff"
    ENTITLED = "entitlement covers it"
    NO_ENTITLEMENT = "no active entitlement covers it"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: Reason

    @property
    def full(self) -> bool:
        return self.outcome is Outcome.FULL


@dataclass(frozen=True)
class Grant:
    """One entitlement, as the policy sees it.

    `lesson_ids` is None when the grant covers every lesson of the series.
    """

    series_id: int
    lesson_ids: frozenset[int] | None = None
    expires_at: datetime | None = None
    revoked: bool = False

    def is_active(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

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
        return Decision(Outcome.FULL, Reason.FREE)
    if is_staff:
        return Decision(Outcome.FULL, Reason.STAFF)
    for grant in grants:
        if grant.is_active(now) and grant.covers(series_id=series_id, lesson_id=lesson_id):
            return Decision(Outcome.FULL, Reason.ENTITLED)
    return Decision(Outcome.TEASER, Reason.NO_ENTITLEMENT)
