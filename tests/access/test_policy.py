"""The access decision as a table: lesson kind by who is reading."""

from datetime import UTC, datetime, timedelta

import pytest

from access.policy import (
    Grant,
    Reason,
    Show,
    decide,
    held_throughout,
    is_active,
    premium_scope,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SERIES, OTHER_SERIES, LESSON, OTHER_LESSON = 1, 2, 10, 11

READERS = {
    "no entitlement (anonymous or not)": {"is_staff": False, "grants": ()},
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
    "staff": {"is_staff": True, "grants": ()},
}

TABLE = [
    # reader, free lesson, premium lesson
    ("no entitlement (anonymous or not)", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("entitled", Reason.FREE, Reason.ENTITLED),
    ("entitled to this lesson", Reason.FREE, Reason.ENTITLED),
    ("entitled to another lesson", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("entitled to another series", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("expired", Reason.FREE, Reason.NO_ENTITLEMENT),
    ("expiring later", Reason.FREE, Reason.ENTITLED),
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
        assert decision.show is (Show.FULL if decision.full else Show.TEASER)


def test_expiry_is_exclusive():
    grant = Grant(series_id=SERIES, expires_at=NOW)
    assert not grant.is_active(NOW)
    assert grant.is_active(NOW - timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("expires_at", "revoked_at", "active"),
    [
        (None, None, True),
        (NOW + timedelta(days=1), None, True),
        (NOW, None, False),
        (NOW - timedelta(days=1), None, False),
        (None, NOW - timedelta(days=1), False),
        (NOW + timedelta(days=1), NOW, False),
    ],
    ids=["no end", "ends later", "ends now", "ended", "revoked", "revoked before its end"],
)
def test_the_active_rule(expires_at, revoked_at, active):
    assert is_active(expires_at=expires_at, revoked_at=revoked_at, now=NOW) is active


def test_grants_are_the_active_entitlements_exactly(reader, series):
    """grants_for() runs its own SQL: it must answer as `active_for()` does."""
    from access import services
    from access.models import Entitlement
    from tests.factories import make_lesson, make_series

    two, three = (make_lesson(series, access="premium") for _ in range(2))
    now = datetime.now(UTC)
    services.grant(user=reader, series=series)
    services.grant(user=reader, series=make_series(), lessons=())
    services.grant(user=reader, series=series, lessons=[two, three], expires_at=now + timedelta(1))
    services.grant(user=reader, series=series, expires_at=now - timedelta(seconds=1))
    revoked = services.grant(user=reader, series=series)
    services.revoke_entitlements(Entitlement.objects.filter(pk=revoked.pk), reason="x")
    expected = {
        (e.series_id, None if e.whole_series else frozenset(e.lessons.values_list("pk", flat=True)),
         e.expires_at)
        for e in Entitlement.objects.active_for(reader)
    }  # fmt: skip
    grants = Entitlement.objects.grants_for(reader)
    assert {(g.series_id, g.lesson_ids, g.expires_at) for g in grants} == expected
    assert len(grants) == 3
    in_series = Entitlement.objects.grants_for(reader, series_id=series.pk)
    assert {(g.series_id, g.lesson_ids, g.expires_at) for g in in_series} == {
        grant for grant in expected if grant[0] == series.pk
    }
    assert len(in_series) == 2


@pytest.mark.parametrize("who", READERS)
def test_the_premium_scope_holds_exactly_the_premium_lessons_decide_opens(who):
    """Search looks at text after a cut only within premium_scope(): it must name every
    premium lesson decide() opens to the reader, and no other."""
    reader = READERS[who]
    scope = premium_scope(**reader, now=NOW)
    # LESSON in OTHER_SERIES: a lesson moved to another series after a grant named it
    cases = [(SERIES, LESSON), (SERIES, OTHER_LESSON), (OTHER_SERIES, 12), (OTHER_SERIES, LESSON)]
    for series_id, lesson_id in cases:
        opens = decide(
            is_free=False, series_id=series_id, lesson_id=lesson_id, **reader, now=NOW
        ).full
        in_scope = scope is None or (
            series_id in scope.series_ids or (series_id, lesson_id) in scope.lessons
        )
        assert in_scope == opens, (series_id, lesson_id)
        # and what the scope says of itself, which search results kept by it are made from
        assert (scope is None or scope.opens(series_id=series_id, lesson_id=lesson_id)) == opens


def hours(n: float) -> datetime:
    return NOW + timedelta(hours=n)


@pytest.mark.parametrize(
    ("periods", "held"),
    [
        ([], False),
        ([(hours(-5), None)], True),
        ([(hours(-5), hours(1))], True),
        ([(hours(-5), hours(0))], False),  # ended at the very moment asked about
        ([(hours(-3), None)], False),  # began after the address was made
        ([(hours(-5), hours(-3)), (hours(-3), None)], True),  # one ends as the next begins
        ([(hours(-5), hours(-3)), (hours(-2), None)], False),  # an hour without
        ([(hours(-2), None), (hours(-5), hours(-1))], True),  # in any order
        ([(hours(-5), hours(-2)), (hours(-4), hours(-1)), (hours(-1.5), hours(2))], True),
        ([(hours(-5), hours(-4.5)), (hours(-4.5), hours(-4.5)), (hours(-3), None)], False),
    ],
)
def test_access_held_throughout_a_time(periods, held):
    """From an address's making (4 hours ago) to now, with no moment uncovered."""
    assert held_throughout(periods, since=hours(-4), until=NOW) is held
