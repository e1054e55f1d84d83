"""Staff issuing PINs: the command, the admin page and its CSV, revoking, granting."""

import base64
import csv
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from access import services
from access.models import AccessPin, Entitlement, RedemptionAttempt
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
PIN = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_pins", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TestCommand:
    def test_prints_one_pin_a_line_that_redeem(self, series, reader):
        out, err = command("--series", series.slug, "--count", "3", "--note", "IG @buyer")
        lines = out.split()
        assert len(lines) == 3 and all(PIN.match(line) for line in lines)
        assert "Issued 3 PIN(s)" in err
        assert set(AccessPin.objects.values_list("note", flat=True)) == {"IG @buyer"}
        assert services.redeem(user=reader, typed_pin=lines[0]).ok

    def test_all_options(self, series):
        two = make_lesson(series, number=2, access="premium")
        three = make_lesson(series, number=3, access="premium")
        command(
            "--series", series.slug, "--lessons", "2,3", "--uses", "50", "--expires-days", "7",
            "--access-days", "30", "--batch", "promo",
        )  # fmt: skip
        pin = AccessPin.objects.get()
        assert set(pin.lessons.all()) == {two, three}
        assert (pin.max_uses, pin.access_days, pin.batch) == (50, 30, "promo")
        assert pin.expires_at is not None

    def test_csv(self, series):
        out, _ = command("--series", series.slug, "--count", "2", "--csv", "--batch", "b1")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert list(rows[0]) == [
            "pin", "hint", "series", "uses", "expires", "buyer", "note", "batch",
        ]  # fmt: skip
        assert len(rows) == 2
        assert rows[0]["hint"] == rows[0]["pin"][-4:]
        assert rows[0]["series"] == series.slug
        assert rows[0]["batch"] == "b1"

    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            (["--series", "nope"], "No series with slug 'nope'"),
            (["--lessons", "9"], "has no lesson numbered 9"),
            (["--lessons", "two"], "is not a lesson number"),
            (["--count", "10001"], "less than or equal to 10000"),
            (["--count", "0"], "--count: Ensure this value is greater than or equal to 1"),
            (["--uses", "many"], "--uses: Enter a whole number"),
        ],
    )
    def test_bad_options_are_explained_and_nothing_is_issued(self, series, args, problem):
        args = args if args[0] == "--series" else ["--series", series.slug, *args]
        with pytest.raises(CommandError, match=problem):
            command(*args)
        assert not AccessPin.objects.exists()

    def test_ten_thousand_pins_in_one_batch(self, series):
        out, _ = command("--series", series.slug, "--count", "10000", "--batch", "big")
        pins = out.split()
        assert len(set(pins)) == 10000
        assert AccessPin.objects.filter(batch="big").count() == 10000


def test_csv_neutralises_spreadsheet_formulas(series):
    issued = services.issue_pins(series=series, note="=HYPERLINK(1)")
    assert "'=HYPERLINK(1)" in services.pins_csv(issued)


@pytest.fixture
def issuer_client(client):
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name="PIN issuers"))
    client.force_login(user)
    return client


@pytest.fixture
def author_client(client):
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    client.force_login(user)
    return client


class TestAdmin:
    def test_issue_page_shows_the_pins_once_with_a_csv(self, issuer_client, series):
        url = reverse("admin:access_accesspin_issue")
        assert issuer_client.get(url).status_code == 200
        response = issuer_client.post(
            url, {"series": series.slug, "count": 3, "max_uses": 1, "note": "IG @a", "batch": "x"}
        )
        assert response.status_code == 200
        pins = re.findall(r"<code[^>]*>([0-9A-Z-]{14})</code>", response.text)
        assert len(pins) == 3
        assert "no-store" in response["Cache-Control"]
        data_url = re.search(r'href="data:text/csv;base64,([^"]+)"', response.text)[1]
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(data_url).decode())))
        assert [row["pin"] for row in rows] == pins
        assert AccessPin.objects.filter(batch="x").count() == 3
        list_page = issuer_client.get(reverse("admin:access_accesspin_changelist")).text
        assert all(pin not in list_page for pin in pins)

    def test_issue_page_explains_bad_input_and_issues_nothing(self, issuer_client, series):
        response = issuer_client.post(
            reverse("admin:access_accesspin_issue"),
            {"series": series.slug, "count": 0, "max_uses": 1, "lesson_numbers": "42"},
        )
        assert response.status_code == 200
        assert "has no lesson numbered 42" in response.text
        assert "greater than or equal to 1" in response.text
        assert not AccessPin.objects.exists()

    def test_add_button_leads_to_the_page_for_one_buyer(self, issuer_client):
        response = issuer_client.get(reverse("admin:access_accesspin_add"))
        assert response["Location"] == reverse("admin:access_accesspin_for_buyer")

    def test_pin_list_shows_hint_buyer_status_uses_and_who_redeemed(
        self, issuer_client, series, reader
    ):
        issued = services.issue_pins(series=series, max_uses=3, buyer="@buyer", batch="b")
        services.redeem(user=reader, typed_pin=issued[0].pin)
        page = issuer_client.get(reverse("admin:access_accesspin_changelist")).text
        assert f"••••-••••-{issued[0].record.hint}" in page
        assert "2 of 3" in page
        assert "Active" in page and "@buyer" in page
        assert reader.email in page

    @pytest.mark.parametrize(
        "value",
        ["bogus", "", "ACTIVE", "used+up", "x" * 500],
        ids=["bogus", "empty", "upper", "plus", "long"],
    )
    def test_an_unknown_status_filter_lists_every_pin(self, issuer_client, series, value):
        issued = services.issue_pins(series=series, count=2)
        url = reverse("admin:access_accesspin_changelist")
        response = issuer_client.get(url, {"status": value})
        assert response.status_code == 200
        assert all(f"••••-••••-{pin.record.hint}" in response.text for pin in issued)

    def test_pin_page_lists_its_redemptions(self, issuer_client, series, reader):
        issued = services.issue_pins(series=series)[0]
        services.redeem(user=reader, typed_pin=issued.pin, ip="203.0.113.1")
        page = issuer_client.get(
            reverse("admin:access_accesspin_change", args=[issued.record.pk])
        ).text
        assert reader.email in page and "203.0.113.1" in page
        assert issued.pin not in page
        log_url = re.search(r"href='([^']+pin__id__exact=\d+)'", page)[1]
        log = issuer_client.get(log_url)
        assert log.status_code == 200
        assert log.context["cl"].result_count == 1

    def test_revoke_actions(self, issuer_client, series, reader):
        keep, cut = services.issue_pins(series=series, count=2)
        services.redeem(user=reader, typed_pin=cut.pin)
        changelist = reverse("admin:access_accesspin_changelist")
        issuer_client.post(changelist, {"action": "revoke", "_selected_action": [keep.record.pk]})
        assert AccessPin.objects.get(pk=keep.record.pk).revoked_at is not None
        assert Entitlement.objects.active().count() == 1
        issuer_client.post(
            changelist, {"action": "revoke_with_access", "_selected_action": [cut.record.pk]}
        )
        assert Entitlement.objects.active().count() == 0

    def test_grant_and_revoke_an_entitlement_by_hand(self, issuer_client, series, reader):
        response = issuer_client.post(
            reverse("admin:access_entitlement_add"),
            {"user": reader.pk, "series": series.pk, "whole_series": "on", "note": "refund test"},
        )
        assert response.status_code == 302
        entitlement = Entitlement.objects.get()
        assert entitlement.source == "staff" and entitlement.granted_by is not None
        issuer_client.post(
            reverse("admin:access_entitlement_changelist"),
            {"action": "revoke", "_selected_action": [entitlement.pk]},
        )
        assert not Entitlement.objects.active().exists()

    def test_a_narrowed_entitlement_is_never_widened_by_an_admin_save(
        self, issuer_client, series, reader
    ):
        two = make_lesson(series, number=2, access="premium")
        three = make_lesson(series, number=3, access="premium")
        entitlement = services.grant(user=reader, series=series, lessons=[two])
        two.delete()
        response = issuer_client.post(
            reverse("admin:access_entitlement_change", args=[entitlement.pk]),
            {"note": "just a note"},
        )
        assert response.status_code == 200
        assert "Choose the lessons, or tick" in response.text
        grants = Entitlement.objects.grants_for(reader)
        assert not any(g.covers(series_id=series.pk, lesson_id=three.pk) for g in grants)

    def test_redemption_log_is_read_only(self, issuer_client, reader, series):
        services.redeem(user=reader, typed_pin="ZZZZ-ZZZZ-ZZZZ")
        url = reverse("admin:access_redemptionattempt_changelist")
        assert "Unknown PIN" in issuer_client.get(url).text
        assert issuer_client.get(reverse("admin:access_redemptionattempt_add")).status_code == 403


class TestGroups:
    def test_pin_issuers_cannot_edit_lessons(self, issuer_client, premium_lesson):
        url = reverse("admin:lessons_lesson_change", args=[premium_lesson.pk])
        response = issuer_client.post(url, {"title": "Hacked"})
        assert response.status_code == 403

    def test_authors_cannot_issue_pins_or_see_the_log(self, author_client, series):
        assert author_client.get(reverse("admin:access_accesspin_issue")).status_code == 403
        assert (
            author_client.get(reverse("admin:access_redemptionattempt_changelist")).status_code
            == 403
        )
        assert author_client.get(reverse("admin:lessons_lesson_add")).status_code == 200


def test_the_log_survives_the_readers_account_being_deleted(series, reader):
    issued = services.issue_pins(series=series)[0]
    services.redeem(user=reader, typed_pin=issued.pin, ip="203.0.113.5")
    reader.delete()
    attempt = RedemptionAttempt.objects.get()
    assert (attempt.user, attempt.pin, attempt.ip) == (None, issued.record, "203.0.113.5")


@pytest.mark.parametrize("status", ["active", "used up", "expired", "revoked"])
def test_the_status_filter_agrees_with_each_pins_status(series, reader, status):
    from datetime import timedelta

    from django.utils import timezone

    _active, used, expired, revoked = services.issue_pins(series=series, count=4)
    services.redeem(user=reader, typed_pin=used.pin)
    AccessPin.objects.filter(pk=expired.record.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    services.revoke_pins(AccessPin.objects.filter(pk=revoked.record.pk), reason="test")
    expected = {pin.pk for pin in AccessPin.objects.all() if pin.status() == status}
    assert set(AccessPin.objects.with_status(status).values_list("pk", flat=True)) == expected
    assert len(expected) == 1
