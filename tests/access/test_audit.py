"""Audit: the admin history records who issued, revoked, granted and edited what; the
redemption log filters by reader, PIN hint, outcome, IP and time."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import services
from access.models import AccessPin, Entitlement, RedemptionAttempt
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db):
    user = make_user(is_staff=True, is_superuser=True, email="boss@example.com")
    client = Client()
    client.force_login(user)
    return client


def history(model: str, flag: int):
    return LogEntry.objects.filter(
        content_type__model=model, action_flag=flag, user__email="boss@example.com"
    )


def test_issuing_a_batch_is_recorded_per_pin(boss, series):
    boss.post(
        reverse("admin:access_accesspin_issue"),
        {"series": series.slug, "count": 3, "max_uses": 1, "batch": "spring"},
    )
    entries = history("accesspin", ADDITION)
    assert entries.count() == 3
    assert set(entries.values_list("object_id", flat=True)) == {
        str(pk) for pk in AccessPin.objects.values_list("pk", flat=True)
    }
    assert "batch spring" in entries.first().change_message


def test_a_pin_for_a_buyer_and_its_replacement_are_recorded(boss, series):
    boss.post(reverse("admin:access_accesspin_for_buyer"), {"series": series.pk, "buyer": "@ani"})
    pin = AccessPin.objects.get()
    assert "buyer @ani" in history("accesspin", ADDITION).get().change_message
    boss.post(reverse("admin:access_accesspin_replace", args=[pin.pk]))
    assert "replaced by PIN" in history("accesspin", CHANGE).get(object_id=pin.pk).change_message
    assert history("accesspin", ADDITION).count() == 2


def test_revoking_pins_and_entitlements_is_recorded(boss, series, reader):
    pin = services.issue_pins(series=series)[0]
    services.redeem(user=reader, typed_pin=pin.pin)
    boss.post(
        reverse("admin:access_accesspin_changelist"),
        {"action": "revoke_with_access", "_selected_action": [pin.record.pk]},
    )
    assert "Revoked by boss@example.com" in history("accesspin", CHANGE).get().change_message
    assert history("entitlement", CHANGE).count() == 1


def test_granting_and_editing_are_recorded(boss, series, reader, premium_lesson):
    boss.post(
        reverse("admin:access_entitlement_add"),
        {"user": reader.pk, "series": series.pk, "whole_series": "on"},
    )
    assert history("entitlement", ADDITION).count() == 1
    entitlement = Entitlement.objects.get()
    boss.post(
        reverse("admin:access_entitlement_changelist"),
        {"action": "revoke", "_selected_action": [entitlement.pk]},
    )
    assert history("entitlement", CHANGE).count() == 1


def test_the_admin_history_is_listed_for_staff_to_read(boss, series):
    services.issue_pins(series=series)
    boss.post(
        reverse("admin:access_accesspin_issue"), {"series": series.slug, "count": 1, "max_uses": 1}
    )
    page = boss.get(reverse("admin:admin_logentry_changelist"))
    assert page.status_code == 200
    assert "boss@example.com" in page.text
    assert boss.post(reverse("admin:admin_logentry_changelist"), {}).status_code in (200, 302)
    entry = LogEntry.objects.first()
    assert boss.get(reverse("admin:admin_logentry_delete", args=[entry.pk])).status_code == 403


class TestRedemptionLog:
    @pytest.fixture
    def log(self, series):
        ani, budi = make_user(email="ani@example.com"), make_user(email="budi@example.com")
        pin = services.issue_pins(series=series)[0]
        services.redeem(user=ani, typed_pin=pin.pin, ip="198.51.100.7")
        services.redeem(user=budi, typed_pin="WRNG-WRNG-WRNG", ip="203.0.113.9")
        old = RedemptionAttempt.objects.create(user=budi, outcome="unknown", ip="203.0.113.10")
        RedemptionAttempt.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=40)
        )
        return pin.record.hint

    @pytest.mark.parametrize(
        ("query", "count"),
        [
            ({"reader": "ani@"}, 1),
            ({"reader": "BUDI"}, 2),
            ({"outcome__exact": "unknown"}, 2),
            ({"ip": "203.0.113."}, 2),
            ({"ip": "198.51.100.7"}, 1),
            ({"created_at__gte": "2000-01-01T00:00:00+00:00"}, 3),
            ({"reader": "budi", "ip": "203.0.113.9"}, 1),
        ],
    )
    def test_filters(self, boss, log, query, count):
        url = reverse("admin:access_redemptionattempt_changelist")
        response = boss.get(url, query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == count

    @pytest.mark.parametrize(
        "query", [{"reader": "ani\x00@"}, {"ip": "\x00"}, {"hint": "\x00\x1f"}]
    )
    def test_control_characters_are_a_400_never_a_500(self, boss, log, query):
        """PostgreSQL refuses NUL in a query (tests/config/test_admin_filters.py)."""
        url = reverse("admin:access_redemptionattempt_changelist")
        assert boss.get(url, query).status_code == 400

    def test_by_pin_hint_as_typed(self, boss, log):
        url = reverse("admin:access_redemptionattempt_changelist")
        assert boss.get(url, {"hint": log.lower()}).context["cl"].result_count == 1

    def test_by_time(self, boss, log):
        url = reverse("admin:access_redemptionattempt_changelist")
        since = (timezone.now() - timedelta(days=7)).isoformat()
        assert boss.get(url, {"created_at__gte": since}).context["cl"].result_count == 2

    def test_a_typed_filter_keeps_the_others(self, boss, log):
        page = boss.get(
            reverse("admin:access_redemptionattempt_changelist"),
            {"outcome__exact": "unknown", "reader": "budi"},
        ).text
        assert '<input type="hidden" name="outcome__exact" value="unknown">' in page
