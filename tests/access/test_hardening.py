"""Edge cases found in review: each one once leaked access, lost a PIN, or answered 500."""

import time

import pytest
from django.core.exceptions import ValidationError

from access import http, pending, services
from access.desk.forms import parse_lesson_numbers
from access.models import AccessPin, Entitlement, RedemptionAttempt
from tests.access.helpers import REDEEM, issue
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db
Outcome = RedemptionAttempt.Outcome


def test_deleting_the_only_lesson_of_a_narrowed_pin_unlocks_nothing_more(reader, series):
    two = make_lesson(series, number=2, access="premium")
    three = make_lesson(series, number=3, access="premium")
    pin = issue(series, lessons=[two])
    services.redeem(user=reader, typed_pin=pin)
    two.delete()
    grant = Entitlement.objects.grants_for(reader)[0]
    assert not grant.covers(series_id=series.pk, lesson_id=three.pk)
    assert AccessPin.objects.get().whole_series is False


def test_a_narrowed_pin_whose_lessons_are_gone_still_unlocks_nothing(reader, series):
    two = make_lesson(series, number=2, access="premium")
    three = make_lesson(series, number=3, access="premium")
    pin = issue(series, lessons=[two])
    two.delete()
    services.redeem(user=reader, typed_pin=pin)
    grants = Entitlement.objects.grants_for(reader)
    assert not any(g.covers(series_id=series.pk, lesson_id=three.pk) for g in grants)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("5-2", "runs backwards"),
        ("\u00b2", "is not a lesson number"),
        ("1-100000000", "go from 1 to"),
        ("0", "go from 1 to"),
        ("2,x", "is not a lesson number"),
    ],
)
def test_lesson_numbers_that_cannot_be_meant_are_refused(text, problem):
    with pytest.raises(ValidationError, match=problem):
        parse_lesson_numbers(text)


def test_lesson_number_lists_and_ranges():
    assert parse_lesson_numbers(" 2, 5-7,3 ") == [2, 3, 5, 6, 7]


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_redeeming_a_pin_again_after_its_access_ended_is_refused_clearly(
    reader_client, reader, series, how
):
    pin = issue(series, max_uses=3)
    result = services.redeem(user=reader, typed_pin=pin)
    entitlement = Entitlement.objects.filter(pk=result.entitlement.pk)
    if how == "revoked":
        services.revoke_entitlements(entitlement, reason="refund")
    else:
        entitlement.update(expires_at=result.entitlement.granted_at)
    response = reader_client.post(REDEEM, {"pin": pin})
    assert response.status_code == 409
    assert "You have redeemed this PIN before" in response.text
    assert AccessPin.objects.get().use_count == 1


def test_the_redeem_page_never_links_to_an_unsafe_next(client):
    for next_url in [
        "javascript:alert(document.domain)",
        "https://evil.example/",
        "//evil.example",
    ]:
        page = client.get(REDEEM, {"next": next_url}).text
        assert next_url not in page
        page = client.post(REDEEM, {"pin": "", "next": next_url}).text
        assert next_url not in page


def test_a_pending_pin_is_kept_as_a_hash_never_in_clear(client, premium_lesson):
    pin = issue(premium_lesson.series)
    client.post(REDEEM, {"pin": pin, "next": premium_lesson.get_absolute_url()})
    stored = str(dict(client.session))
    assert pin not in stored
    assert pin.replace("-", "") not in stored
    assert "digest" in stored


def test_a_pending_pin_expires_after_half_an_hour(client, reader, premium_lesson, monkeypatch):
    pin = issue(premium_lesson.series)
    login_url = client.post(REDEEM, {"pin": pin})["Location"]
    later = time.time() + pending.PENDING_SECONDS + 1
    monkeypatch.setattr(pending.time, "time", lambda: later)
    client.post(login_url, {"login": reader.email, "password": "correct horse battery"})
    assert not Entitlement.objects.exists()


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.5", "", 0, "203.0.113.5"),
        ("10.0.0.1", "1.2.3.4:5678", 1, None),
        ("10.0.0.1", "unknown", 1, None),
        ("10.0.0.1", "198.51.100.1, 203.0.113.9", 1, "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "", 0, "2001:db8:1:2::"),
        ("", "", 0, None),
    ],
)
def test_client_ip_is_a_valid_address_and_ipv6_counts_by_network(
    rf, settings, remote, forwarded, proxies, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert http.client_ip(request) == expected


def test_a_garbage_forwarded_header_does_not_break_redemption(reader_client, settings, series):
    settings.TRUSTED_PROXY_COUNT = 1
    response = reader_client.post(REDEEM, {"pin": issue(series)}, HTTP_X_FORWARDED_FOR="not-an-ip")
    assert response.status_code == 302
    assert RedemptionAttempt.objects.get().ip is None


def test_the_pin_is_hidden_from_error_reports(rf, reader):
    from django.views.debug import SafeExceptionReporterFilter

    request = rf.post(REDEEM, {"pin": "ABCD-EFGH-JKMN"})
    request.user = reader
    from access.views import redeem

    redeem(request)  # marks the parameter as sensitive on the request
    filtered = SafeExceptionReporterFilter().get_post_parameters(request)
    assert filtered["pin"] != "ABCD-EFGH-JKMN"
