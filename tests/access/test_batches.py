"""Batches and buyers: the batch list, a batch's status as CSV (hints only), revoking a batch
behind a confirmation page, PINs without a batch, and the readers with access as CSV."""

import csv
import io

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from access import services
from access.models import AccessPin, Entitlement
from tests.factories import make_user

pytestmark = pytest.mark.django_db
BATCHES = "/admin/access/accesspin/batches/"


@pytest.fixture
def seller(db):
    user = make_user(is_staff=True, email="seller@example.com")
    user.groups.add(Group.objects.get(name="PIN issuers"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def promo(series, premium_lesson):
    """A promotion of 50 PINs, three redeemed by three readers; one PIN without a batch."""
    issued = services.issue_pins(series=series, count=50, batch="black-friday")
    readers = [make_user(email=f"buyer{n}@example.com") for n in range(3)]
    for reader, item in zip(readers, issued, strict=False):
        assert services.redeem(user=reader, typed_pin=item.pin).ok
    loose = services.issue_pins(series=series, buyer="@solo")[0]
    return {"issued": issued, "readers": readers, "loose": loose}


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_batch_list_counts_each_batch_and_names_pins_without_one(seller, promo):
    page = seller.get(BATCHES)
    text = page.text
    assert page.status_code == 200
    batches = {row["batch"]: row for row in page.context["rows"]}
    assert (batches["black-friday"]["issued"], batches["black-friday"]["redeemed"]) == (50, 3)
    assert batches["black-friday"]["unused"] == 47
    assert batches[""]["issued"] == 1
    assert "No batch" in text


def test_the_batch_list_is_one_query_whatever_the_number_of_pins(
    seller, promo, django_assert_max_num_queries
):
    seller.get(BATCHES)
    with django_assert_max_num_queries(6):
        seller.get(BATCHES)


def test_the_pin_list_filters_pins_without_a_batch(seller, promo):
    url = reverse("admin:access_accesspin_changelist")
    response = seller.get(url, {"batch": "__none__"})
    assert response.context["cl"].result_count == 1
    assert "No batch" in response.text
    assert "(2)" not in response.text


def test_the_batch_csv_has_hints_and_statuses_never_pins(seller, promo):
    response = seller.get(BATCHES + "csv/", {"batch": "black-friday"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = rows(response)
    assert len(lines) == 50
    assert {line["status"] for line in lines} == {"Active", "Used up"}
    redeemed = {line["redeemed by"] for line in lines if line["redeemed by"]}
    assert redeemed == {r.email for r in promo["readers"]}
    body = response.content.decode()
    assert not any(item.pin in body for item in promo["issued"])
    assert all(len(line["hint"]) == 4 for line in lines)


def test_the_no_batch_csv(seller, promo):
    lines = rows(seller.get(BATCHES + "csv/", {"batch": ""}))
    assert [line["buyer"] for line in lines] == ["'@solo"]  # kept from being a formula


def test_revoking_says_what_it_touches_before_doing_anything(seller, promo):
    page = seller.get(BATCHES + "revoke/", {"batch": "black-friday"})
    assert page.status_code == 200
    assert "50 PINs will be revoked" in page.text
    assert "3 active entitlements came from them (3 reader(s))" in page.text
    assert not AccessPin.objects.filter(revoked_at__isnull=False).exists()


def test_revoking_a_batch_and_its_access_locks_its_readers_out(
    seller, promo, premium_lesson, reader
):
    url = BATCHES + "revoke/?batch=black-friday"
    response = seller.post(url, {"revoke_access": "on", "reason": "promotion over"})
    assert response.status_code == 302
    assert AccessPin.objects.filter(batch="black-friday", revoked_at__isnull=True).count() == 0
    assert AccessPin.objects.get(pk=promo["loose"].record.pk).revoked_at is None
    assert Entitlement.objects.active().count() == 0
    buyer = Client()
    buyer.force_login(promo["readers"][0])
    assert "SECRET-PREMIUM-SENTENCE" not in buyer.get(premium_lesson.get_absolute_url()).text
    history = LogEntry.objects.filter(action_flag=CHANGE, user__email="seller@example.com")
    assert history.filter(content_type__model="accesspin").count() == 50
    assert history.filter(content_type__model="entitlement").count() == 3
    assert "promotion over" in history.first().change_message


def test_revoking_only_the_pins_keeps_what_they_unlocked(seller, promo):
    seller.post(BATCHES + "revoke/?batch=black-friday", {})
    assert AccessPin.objects.filter(batch="black-friday", revoked_at__isnull=True).count() == 0
    assert Entitlement.objects.active().count() == 3


def test_staff_who_may_only_look_cannot_revoke(promo):
    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_accesspin"))
    client = Client()
    client.force_login(viewer)
    assert client.get(BATCHES).status_code == 200
    assert client.post(BATCHES + "revoke/?batch=black-friday", {}).status_code == 403
    assert not AccessPin.objects.filter(revoked_at__isnull=False).exists()


def test_the_buyers_csv_lists_readers_with_access_and_how(seller, promo, series):
    staff = make_user(is_staff=True, email="owner@example.com")
    services.grant(user=make_user(email="friend@example.com"), series=series, granted_by=staff)
    gone = Entitlement.objects.get(user=promo["readers"][2])
    services.revoke_entitlements(Entitlement.objects.filter(pk=gone.pk), reason="refund")
    response = seller.get("/admin/access/entitlement/buyers.csv", {"series": series.pk})
    lines = rows(response)
    assert list(lines[0]) == [
        "email", "instagram", "since", "until", "how", "PIN hint", "batch", "buyer",
        "granted by", "lessons",
    ]  # fmt: skip
    by_email = {line["email"]: line for line in lines}
    assert set(by_email) == {"buyer0@example.com", "buyer1@example.com", "friend@example.com"}
    assert by_email["friend@example.com"]["how"] == "Granted by staff"
    assert by_email["friend@example.com"]["granted by"] == "owner@example.com"
    assert by_email["buyer0@example.com"]["how"] == "Redeemed a PIN"
    assert by_email["buyer0@example.com"]["batch"] == "black-friday"
    assert by_email["buyer0@example.com"]["until"] == ""


def test_the_entitlement_list_offers_the_export(seller, series):
    page = seller.get(reverse("admin:access_entitlement_changelist")).text
    assert 'action="/admin/access/entitlement/buyers.csv"' in page


@pytest.mark.parametrize(
    ("query", "says"),
    [({}, "Choose a batch"), ({"batch": "black\x00friday"}, "no filter or search can contain")],
)
def test_a_missing_or_impossible_batch_is_a_400_that_says_what_to_do(seller, promo, query, says):
    for name in ("admin:access_accesspin_batch_csv", "admin:access_accesspin_batch_revoke"):
        response = seller.get(reverse(name), query)
        assert response.status_code == 400
        assert says in response.text


@pytest.mark.parametrize("series", ["abc", "²", "-1", "", "9" * 30])
def test_the_buyers_csv_of_no_such_series_is_a_404(seller, series):
    response = seller.get("/admin/access/entitlement/buyers.csv", {"series": series})
    assert response.status_code == 404
