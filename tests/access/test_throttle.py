"""Brute force: failed redemptions are throttled per account and per client IP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import services
from access.models import RedemptionAttempt
from tests.access.helpers import REDEEM, issue
from tests.factories import make_user

pytestmark = pytest.mark.django_db
Outcome = RedemptionAttempt.Outcome


def fail(user, times, ip=None):
    return [services.redeem(user=user, typed_pin="ZZZZ-ZZZZ-ZZZZ", ip=ip) for _ in range(times)]


def test_five_failures_then_the_sixth_attempt_is_throttled(reader_client, reader, series):
    for _ in range(5):
        assert reader_client.post(REDEEM, {"pin": "WRONG-PIN1-ZZZ"}).status_code == 400
    response = reader_client.post(REDEEM, {"pin": "WRONG-PIN1-ZZZ"})
    assert response.status_code == 429
    assert "Too many wrong PINs" in response.text
    assert "try again in 15 minutes" in response.text
    assert 890 <= int(response["Retry-After"]) <= 901


def test_a_throttled_account_cannot_redeem_even_a_good_pin(reader, series):
    fail(reader, 5)
    result = services.redeem(user=reader, typed_pin=issue(series))
    assert result.outcome == Outcome.THROTTLED


def test_the_account_throttle_lifts_when_failures_age_out(reader, series):
    fail(reader, 5)
    RedemptionAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert services.redeem(user=reader, typed_pin=issue(series)).outcome == Outcome.UNLOCKED


def test_successes_and_throttled_attempts_do_not_count_as_failures(reader, series):
    fail(reader, 4)
    services.redeem(user=reader, typed_pin=issue(series))
    services.redeem(user=reader, typed_pin=issue(series))  # already unlocked
    assert services.redeem(user=reader, typed_pin="ZZZZ").outcome == Outcome.UNKNOWN
    assert services.redeem(user=reader, typed_pin="ZZZZ").outcome == Outcome.THROTTLED


def test_other_accounts_are_not_throttled_by_one_account(reader, series):
    fail(reader, 5)
    assert services.redeem(user=make_user(), typed_pin="ZZZZ").outcome == Outcome.UNKNOWN


def test_twenty_failures_from_one_ip_throttle_every_account_there(series):
    for _ in range(5):
        fail(make_user(), 4, ip="198.51.100.7")
    newcomer = make_user()
    result = services.redeem(user=newcomer, typed_pin=issue(series), ip="198.51.100.7")
    assert result.outcome == Outcome.THROTTLED
    other_ip = services.redeem(user=newcomer, typed_pin=issue(series), ip="198.51.100.8")
    assert other_ip.outcome == Outcome.UNLOCKED


def test_limits_are_settings(settings, reader):
    settings.PIN_FAILURES_PER_USER = 2
    fail(reader, 2)
    assert fail(reader, 1)[0].outcome == Outcome.THROTTLED


def test_client_ip_comes_from_the_trusted_proxy_only(rf, settings):
    from access.http import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"


def test_attempts_without_a_client_address_share_one_unknown_address(series):
    for _ in range(5):
        fail(make_user(), 4, ip=None)
    newcomer = make_user()
    assert services.redeem(user=newcomer, typed_pin=issue(series)).outcome == Outcome.THROTTLED
    known = services.redeem(user=newcomer, typed_pin=issue(series), ip="198.51.100.8")
    assert known.outcome == Outcome.UNLOCKED


@pytest.mark.parametrize("forwarded", ["unknown", "1.2.3.4:5678", "not-an-ip"], ids=repr)
def test_an_unusable_forwarded_address_does_not_switch_the_ip_limit_off(
    client, settings, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = []
    for _ in range(5):
        client.force_login(make_user())
        for _ in range(4):
            response = client.post(
                REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}, HTTP_X_FORWARDED_FOR=forwarded
            )
            statuses.append(response.status_code)
    assert statuses == [400] * 20
    client.force_login(make_user())
    response = client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 429
    assert RedemptionAttempt.objects.filter(ip__isnull=True).count() == 21


def test_each_account_and_address_has_one_bucket_to_lock(reader, series):
    from access.models import ThrottleBucket

    fail(reader, 2, ip="198.51.100.7")
    fail(reader, 1)
    assert set(ThrottleBucket.objects.values_list("key", flat=True)) == {
        f"user:{reader.pk}",
        "ip:198.51.100.7",
        "ip:unknown",
    }
