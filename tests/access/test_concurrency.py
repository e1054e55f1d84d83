"""A PIN with N uses is never redeemed more than N times, even by concurrent requests."""

import threading

import pytest
from django.db import connection

from access import services
from access.models import AccessPin, Entitlement, RedemptionAttempt
from tests.factories import make_series, make_user
from tests.postgres import require_postgres


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("uses", "readers"), [(1, 8), (3, 12)])
def test_concurrent_redemptions_never_exceed_the_uses(uses, readers):
    require_postgres()
    pin = services.issue_pins(series=make_series(), max_uses=uses)[0].pin
    users = [make_user() for _ in range(readers)]
    barrier = threading.Barrier(readers)
    outcomes, errors = [], []

    def attempt(user):
        try:
            barrier.wait()
            outcomes.append(services.redeem(user=user, typed_pin=pin).outcome)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes.count(RedemptionAttempt.Outcome.UNLOCKED) == uses
    assert outcomes.count(RedemptionAttempt.Outcome.USED_UP) == readers - uses
    assert Entitlement.objects.count() == uses
    assert AccessPin.objects.get().use_count == uses
