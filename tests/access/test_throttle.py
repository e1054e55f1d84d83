"""Brute force: failed redemptions are throttled per account and per client IP."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from access import pins, services
from access.models import RedemptionAttempt
from tests.access.helpers import REDEEM, issue
from tests.factories import make_lesson, make_series, make_user

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
    assert "(in 15 minutes)" in response.text
    assert 890 <= int(response["Retry-After"]) <= 901


def test_the_block_names_the_time_to_try_again_in_the_sites_time_zone(settings, reader, series):
    settings.TIME_ZONE = "Asia/Jakarta"
    client = Client()
    client.force_login(reader)
    fail(reader, 5)
    last = RedemptionAttempt.objects.order_by("created_at").last().created_at
    until = timezone.localtime(last + timedelta(minutes=15), ZoneInfo("Asia/Jakarta"))
    until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    page = " ".join(client.post(f"/id{REDEEM}", {"pin": issue(series)}).text.split())
    # past midnight (in Jakarta), the day comes first: "7 Desember 0.11 WIB"
    today = timezone.localtime(timezone.now(), ZoneInfo("Asia/Jakarta")).date()
    with translation.override("id"):
        day = f"{date_format(until, 'j F')} " if until.date() != today else ""
    assert f"Coba lagi pukul {day}{until.hour}.{until:%M} WIB (15 menit lagi)." in page


def test_the_block_offers_the_sellers_dm_and_whatsapp(reader_client, reader):
    series = make_series(instagram_handle="became.ai.engineer", whatsapp_number="6281234567890")
    lesson = make_lesson(series, number=2, access="premium")
    fail(reader, 5)
    page = reader_client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ", "lesson": lesson.pk}).text
    help_box = page[page.index('class="redeem-help"') :]
    assert 'href="https://ig.me/m/became.ai.engineer"' in help_box
    assert 'href="https://wa.me/6281234567890?' in help_box


@pytest.mark.parametrize("typed", ["ZZZZ", "PIN: hello", "ZZZZ-ZZZZ-ZZZU", "Z" * 13])
def test_input_that_is_not_a_pin_is_never_a_failed_attempt(reader, series, typed):
    with pytest.raises(pins.NotAPin):
        services.redeem(user=reader, typed_pin=typed)
    with pytest.raises(pins.NotAPin):
        services.check(typed_pin=typed, ip="198.51.100.7")
    assert not RedemptionAttempt.objects.exists()


def test_four_wrong_pins_and_a_slip_of_the_finger_leave_the_right_pin_working(
    reader_client, reader, series
):
    fail(reader, 4)
    assert reader_client.post(REDEEM, {"pin": "7KQ2-M9XD"}).status_code == 400
    response = reader_client.post(REDEEM, {"pin": issue(series)})
    assert response.status_code == 302
    assert RedemptionAttempt.objects.filter(outcome=Outcome.UNLOCKED).count() == 1


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
    assert services.redeem(user=reader, typed_pin="ZZZZ-ZZZZ-ZZZZ").outcome == Outcome.UNKNOWN
    assert services.redeem(user=reader, typed_pin="ZZZZ-ZZZZ-ZZZZ").outcome == Outcome.THROTTLED


def test_other_accounts_are_not_throttled_by_one_account(reader, series):
    fail(reader, 5)
    assert services.redeem(user=make_user(), typed_pin="ZZZZ-ZZZZ-ZZZZ").outcome == Outcome.UNKNOWN


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


class TestReadersNotLoggedIn:
    """A PIN typed before logging in is checked at once; its failures count toward the limit
    of the client's address, the one a logged-in reader there shares."""

    def test_their_failures_count_toward_the_address_limit(self, client, series):
        for times in (4, 4, 4, 4, 3):
            fail(make_user(), times, ip="198.51.100.7")
        response = client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}, REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 400
        blocked = client.post(REDEEM, {"pin": issue(series)}, REMOTE_ADDR="198.51.100.7")
        assert blocked.status_code == 429
        assert "Too many wrong PINs" in blocked.text
        assert "/accounts/signup/" not in blocked.get("Location", "")
        newcomer = services.redeem(user=make_user(), typed_pin=issue(series), ip="198.51.100.7")
        assert newcomer.outcome == Outcome.THROTTLED

    def test_they_share_no_account_limit_across_addresses(self, client, series):
        for _ in range(5):
            services.check(typed_pin="ZZZZ-ZZZZ-ZZZZ", ip="198.51.100.7")
        assert services.check(typed_pin=issue(series), ip="198.51.100.8") is None
        assert set(RedemptionAttempt.objects.values_list("user", "ip", "outcome")) == {
            (None, "198.51.100.7", Outcome.UNKNOWN)
        }

    @pytest.mark.parametrize("origin", ["https://elsewhere.example", "null"])
    def test_another_sites_page_cannot_spend_their_address_on_wrong_pins(self, client, origin):
        response = client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}, HTTP_ORIGIN=origin)
        assert response.status_code == 403
        assert not RedemptionAttempt.objects.exists()
        ours = client.post(REDEEM, {"pin": "ZZZZ-ZZZZ-ZZZZ"}, HTTP_ORIGIN="http://testserver")
        assert ours.status_code == 400
        assert RedemptionAttempt.objects.count() == 1
