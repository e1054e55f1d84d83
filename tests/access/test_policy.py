"""The access decision as a table: lesson kind by who is reading."""

from datetime import UTC, datetime, timedelta

import pytest

from access.policy import Grant, Outcome, Reason, decide

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SERIES, OTHER_SERIES, LESSON, OTHER_LESSON = 1, 2, 10, 11

READERS = {
    "anonymous": {"is_staff": False, "grants": ()},
    "reader": {"is_staff": False, "grants": ()},
    "entitled": {"is_staff": False, "grants": (Grant(series_id=SERIES),)},
    "entitled to this lesson": {
        "is_staff": False,
        "grants": (Grant(series_id=SERIES, lesson_ids=frozenset({LESSON})),),
    },
    "entitled to another lesson": {
        "is_staff": False,
        "grants": (Grant(series_id=SERIES, lesson_ids=frozenset({OTHER_LESSON})),),
    },
    "entitled to another series": {"is_staff": False, "grants": (Grant(series_id=OTHER_SERIES),)},
    "expired": {
        "is_staff": False,
        "grants": (Grant(series_id=SERIES, expires_at=NOW - timedelta(seconds=1)),),
    },
    "expiring later": {
        "is_staff": False,
        "grants": (Grant(series_id=SERIES, expires_at=NOW + timedelta(days=1)),),
    },
    "revoked": {"is_staff": False, "grants": (Grant(series_id=SERIES, revoked=True),)},
    "staff": {"is_staff": True, "grants": ()},
}

TABLE = [
    # reader, free lesson, premium lesson
    ("anonymous", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("reader", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("entitled", Reason.FREE, Reason.ENTITLED),
    ("entitled to this lesson", Reason.FREE, Reason.ENTITLED),
    ("entitled to another lesson", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("entitled to another series", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("expired", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("expiring later", Reason.FREE, Reason.ENTITLED),
    ("revoked", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("staff", Reason.FREE, Reason.STAFF),
]


@pytest.mark.parametrize(("who", "free", "premium"), TABLE, ids=[row[0] for row in TABLE])
def test_decision_table(who, free, premium):
    for is_free, expected in ((True, free), (False, premium)):
        decision = decide(
            is_free=is_free, series_id=SERIES, lesson_id=LESSON, now=NOW, **READERS[who]
        )
        assert decision.reason is expected
        assert decision.full is (expected is not Reason.NO_ENTITLEMENT)
        assert decision.outcome is (Outcome.FULL if decision.full else Outcome.TEASER)


def test_expiry_is_exclusive():
    grant = Grant(series_id=SERIES, expires_at=NOW)
    assert not grant.is_active(NOW)
    assert grant.is_active(NOW - timedelta(microseconds=1))
