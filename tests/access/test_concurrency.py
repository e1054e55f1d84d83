"""A PIN with N uses is never redeemed more than N times, even by concurrent requests; a
hand-off form issues one PIN however many posts of it arrive at once."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from access import services
from access.models import AccessPin, Entitlement, HandoffToken, RedemptionAttempt
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


def race(users, attempt):
    """Start `attempt(user)` for every user at once, in threads; return outcomes and errors."""
    barrier = threading.Barrier(len(users))
    outcomes, errors = [], []

    def run(user):
        try:
            barrier.wait()
            outcomes.append(attempt(user))
        except Exception as error:  # reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ip", ["198.51.100.7", None], ids=["one address", "unknown address"])
def test_the_per_ip_limit_is_exact_under_concurrency(settings, ip):
    require_postgres()
    settings.PIN_FAILURES_PER_IP = 20
    users = [make_user() for _ in range(40)]
    outcomes, errors = race(
        users, lambda user: services.redeem(user=user, typed_pin="ZZZZ-ZZZZ-ZZZZ", ip=ip).outcome
    )
    assert errors == []
    assert outcomes.count(RedemptionAttempt.Outcome.UNKNOWN) == 20
    assert outcomes.count(RedemptionAttempt.Outcome.THROTTLED) == 20


@pytest.mark.django_db(transaction=True)
def test_the_per_ip_limit_is_exact_for_readers_not_logged_in_too(settings):
    """Their PINs are checked before sign-up under the same lock on the address's bucket."""
    require_postgres()
    settings.PIN_FAILURES_PER_IP = 20
    outcomes, errors = race(
        range(40),
        lambda _: services.check(typed_pin="ZZZZ-ZZZZ-ZZZZ", ip="198.51.100.7").outcome,
    )
    assert errors == []
    assert outcomes.count(RedemptionAttempt.Outcome.UNKNOWN) == 20
    assert outcomes.count(RedemptionAttempt.Outcome.THROTTLED) == 20


@pytest.mark.django_db(transaction=True)
def test_one_hand_off_form_posted_at_the_same_moment_issues_one_pin(monkeypatch, cache_outage):
    """Six posts of the same form, each of which has issued its PIN inside its transaction
    before any of them writes the form's token, while the shared cache is away: the first to
    write the token keeps its PIN, the others wait for it, roll theirs back and name it."""
    require_postgres()
    series = make_series()
    seller = make_user(is_staff=True, is_superuser=True)
    url = reverse("admin:access_accesspin_for_buyer")
    taps = [Client() for _ in range(6)]
    for tap in taps:
        tap.force_login(seller)
    once = re.search(r'name="once" value="([^"]+)"', taps[0].get(url).text)[1]
    all_issued = threading.Barrier(len(taps), timeout=20)
    issue_pins = services.issue_pins

    def issue_then_wait(**kwargs):
        issued = issue_pins(**kwargs)
        all_issued.wait()
        return issued

    monkeypatch.setattr(services, "issue_pins", issue_then_wait)
    cache_outage.start()
    outcomes, errors = race(
        taps,
        lambda tap: tap.post(url, {"series": series.pk, "buyer": "@budi", "once": once}),
    )
    assert errors == []
    assert sorted(answer.status_code for answer in outcomes) == [200] + [409] * 5
    pin = AccessPin.objects.get()
    assert HandoffToken.objects.get().pin == pin
    refused = [answer for answer in outcomes if answer.status_code == 409]
    assert all(f"••••-••••-{pin.hint}" in answer.text for answer in refused)
