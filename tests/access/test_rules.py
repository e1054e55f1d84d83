"""One rule, one place: whether an entitlement is active and what state a PIN is in are each
written once in Python (policy.is_active, access.querysets.pin_status_rule) and asked in SQL
of many rows; every SQL form (the QuerySet, the plain SQL each logged-in request runs, a
batch's counts) answers as the Python rule does, at the boundaries too."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from access import pins, policy
from access.models import AccessPin, Entitlement
from lessons.models import Progress
from tests.factories import make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 2, 0, 0, 500_000, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY = timedelta(days=1)
_numbers = count()


# An entitlement: (ends at, revoked at) relative to NOW (None: no end, not revoked) → active?
ENTITLEMENTS = {
    "no end": (None, None, True),
    "ends a microsecond after now": (MICROSECOND, None, True),
    "ends a day after now": (DAY, None, True),
    "ends exactly now": (timedelta(0), None, False),
    "ended a microsecond before now": (-MICROSECOND, None, False),
    "revoked, no end": (None, -DAY, False),
    "revoked, ends later": (DAY, -DAY, False),
    "revoked exactly now": (None, timedelta(0), False),
    "revoked after now": (None, DAY, False),
}


def at(offset):
    return None if offset is None else NOW + offset


@pytest.mark.parametrize(("ends", "revoked", "active"), ENTITLEMENTS.values(), ids=ENTITLEMENTS)
def test_an_entitlement_is_active_by_one_rule_in_python_the_queryset_and_plain_sql(
    series, ends, revoked, active
):
    reader = make_user()
    entitlement = Entitlement.objects.create(
        user=reader, series=series, expires_at=at(ends), revoked_at=at(revoked)
    )
    rule = policy.is_active(expires_at=at(ends), revoked_at=at(revoked), now=NOW)
    answers = {
        "the rule": rule,
        "the model": entitlement.is_active(NOW),
        "the queryset": Entitlement.objects.active(NOW).filter(pk=entitlement.pk).exists(),
        "active_for": Entitlement.objects.active_for(reader, NOW).exists(),
        "plain SQL": bool(Entitlement.objects.grants_for(reader, NOW)),
        "plain SQL, by series": bool(
            Entitlement.objects.grants_for(reader, NOW, series_id=series.pk)
        ),
        "plain SQL, with a series page's marks and follow": bool(
            Entitlement.objects.series_reading(
                reader, series_id=series.pk, lessons=[], progress_model=Progress, now=NOW
            )[0]
        ),
    }
    assert answers == dict.fromkeys(answers, active)


# A PIN: (revoked at, expires at, times used, uses) → its status, and where a batch counts it.
PINS = {
    "fresh": (None, None, 0, 1, "active", "unused"),
    "used once of three": (None, None, 1, 3, "active", "redeemed"),
    "used up": (None, None, 1, 1, "used up", "redeemed"),
    "expires a microsecond after now": (None, MICROSECOND, 0, 1, "active", "unused"),
    "expires exactly now": (None, timedelta(0), 0, 1, "expired", "expired"),
    "expired, never used": (None, -DAY, 0, 1, "expired", "expired"),
    "expired after it was used up": (None, -DAY, 1, 1, "expired", "redeemed"),
    "expired, used once of two": (None, -DAY, 1, 2, "expired", "redeemed"),
    "revoked": (-DAY, None, 0, 1, "revoked", "revoked"),
    "revoked after it expired": (-DAY, -2 * DAY, 0, 1, "revoked", "revoked"),
    "revoked after it was used up": (-DAY, None, 1, 1, "revoked", "revoked"),
    "revoked exactly now": (timedelta(0), None, 0, 1, "revoked", "revoked"),
}
BUCKETS = ("revoked", "redeemed", "expired", "unused")


def make_pin(series, *, revoked_at=None, expires_at=None, use_count=0, max_uses=1):
    plaintext = pins.normalise(pins.generate())
    return AccessPin.objects.create(
        pin_hash=pins.digest(plaintext),
        hint=pins.hint(plaintext),
        series=series,
        revoked_at=revoked_at,
        expires_at=expires_at,
        use_count=use_count,
        max_uses=max_uses,
        batch=f"case-{next(_numbers)}",
    )


@pytest.mark.parametrize(
    ("revoked", "expires", "used", "uses", "status", "bucket"), PINS.values(), ids=PINS
)
def test_a_pins_status_is_one_rule_for_one_pin_a_filter_and_a_batchs_counts(
    series, revoked, expires, used, uses, status, bucket
):
    pin = make_pin(
        series, revoked_at=at(revoked), expires_at=at(expires), use_count=used, max_uses=uses
    )
    assert pin.status(NOW) == status
    assert AccessPin.objects.get(pk=pin.pk).status(NOW) == status
    found = {s for s in AccessPin.Status.values if AccessPin.objects.with_status(s, NOW).exists()}
    assert found == {status}
    counts = AccessPin.objects.filter(pk=pin.pk).status_counts(NOW)
    assert {name: counts[name] for name in BUCKETS} == {
        name: int(name == bucket) for name in BUCKETS
    }
    assert (counts["issued"], counts["uses"], counts["capacity"]) == (1, used, uses)


def test_a_batchs_counts_add_up_to_its_pins_as_each_pins_status_reads(series):
    """All the cases in one batch: every PIN counted once, where its own status puts it."""
    for revoked, expires, used, uses, _status, _bucket in PINS.values():
        make_pin(
            series, revoked_at=at(revoked), expires_at=at(expires), use_count=used, max_uses=uses
        )
    AccessPin.objects.update(batch="all")
    counts = AccessPin.objects.filter(batch="all").status_counts(NOW)
    expected = dict.fromkeys(BUCKETS, 0)
    for *_facts, bucket in PINS.values():
        expected[bucket] += 1
    assert {name: counts[name] for name in BUCKETS} == expected
    assert sum(expected.values()) == counts["issued"] == len(PINS)
