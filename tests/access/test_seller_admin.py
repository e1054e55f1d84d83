"""The seller's admin as a seller meets it: in Indonesian (Django's own words included, and
every word in the CSV files), what matters first in the lists, nothing that revokes every
single buyer's PIN at once, forms that know the series, and a DM button for a buyer however
their Instagram account was written down."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from access import handoff, services
from access.models import AccessPin
from tests.factories import make_series, make_user

pytestmark = pytest.mark.django_db
BATCHES = reverse("admin:access_accesspin_batches")
PINS = reverse("admin:access_accesspin_changelist")


def seller_client(language="en") -> Client:
    user = make_user(is_staff=True, email=f"seller-{language}@example.com")
    user.groups.add(Group.objects.get(name="PIN issuers"))
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.fixture
def shop(series, premium_lesson, reader):
    """A promotion of three PINs (one redeemed), and two PINs sold one at a time."""
    promo = services.issue_pins(series=series, count=3, batch="promo")
    services.redeem(user=reader, typed_pin=promo[0].pin)
    sold = services.issue_pins(series=series, buyer="https://www.instagram.com/sari.codes/")[0]
    buyer = make_user(email="sari@example.com")
    services.redeem(user=buyer, typed_pin=sold.pin)
    services.issue_pins(series=series, buyer="ani@example.com")
    return {"promo": promo, "sold": sold}


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


class TestIndonesian:
    def test_djangos_own_words_in_the_pin_list(self, shop):
        page = seller_client("id").get(PINS).text
        assert "- Pilih salah satu -" in page and "Select an option" not in page
        assert "Saring menurut" in page and "Filter by" not in page

    def test_the_status_csv_has_no_english_word(self, shop):
        response = seller_client("id").get(BATCHES + "csv/", {"batch": "promo"})
        lines = rows(response)
        assert list(lines[0])[:5] == ["akhiran", "seri", "batch", "pembeli", "status"]
        assert {line["status"] for line in lines} == {"Aktif", "Habis terpakai"}
        assert "active" not in response.text and "used up" not in response.text

    def test_the_buyers_csv_has_no_english_word(self, shop, series):
        response = seller_client("id").get(
            reverse("admin:access_entitlement_buyers_csv"), {"series": series.pk}
        )
        lines = rows(response)
        assert {line["cara"] for line in lines} == {"Memasukkan PIN akses"}
        assert {line["pelajaran"] for line in lines} == {"semua"}


def test_the_buyers_csv_carries_the_instagram_username(shop, series):
    response = seller_client().get(
        reverse("admin:access_entitlement_buyers_csv"), {"series": series.pk}
    )
    by_email = {line["email"]: line for line in rows(response)}
    assert by_email["sari@example.com"]["instagram"] == "sari.codes"
    assert by_email["sari@example.com"]["buyer"] == "https://www.instagram.com/sari.codes/"
    assert by_email["reader@example.com"]["instagram"] == ""  # a promotion PIN: no buyer


@pytest.mark.parametrize(
    ("buyer", "dm"),
    [
        ("sari.codes", "https://ig.me/m/sari.codes"),
        ("@sari.codes", "https://ig.me/m/sari.codes"),
        (" @sari.codes ", "https://ig.me/m/sari.codes"),
        ("https://instagram.com/sari.codes", "https://ig.me/m/sari.codes"),
        ("https://www.instagram.com/sari.codes/", "https://ig.me/m/sari.codes"),
        ("www.instagram.com/sari.codes?igsh=MTc4MmM1", "https://ig.me/m/sari.codes"),
        ("http://m.instagram.com/sari_codes/?hl=id", "https://ig.me/m/sari_codes"),
        ("instagram.com/sari.codes/#", "https://ig.me/m/sari.codes"),
        ("sari@example.com", ""),
        ("Sari from the workshop", ""),
        ("https://www.instagram.com/p/C0dE/", ""),  # a post, not a profile
        ("https://evil.example/sari.codes", ""),
        ("@", ""),
    ],
)
def test_open_dm_from_a_name_an_at_name_or_a_profile_address(buyer, dm):
    assert handoff.instagram_dm_url(buyer) == dm


def test_the_hand_off_page_offers_the_dm_for_a_pasted_profile_address(series):
    page = seller_client().post(
        reverse("admin:access_accesspin_for_buyer"),
        {"series": series.pk, "buyer": "https://www.instagram.com/sari.codes/"},
    )
    assert 'href="https://ig.me/m/sari.codes"' in page.text


class TestPinsWithoutABatch:
    def test_their_row_offers_no_revoke(self, shop):
        page = seller_client().get(BATCHES)
        rows = {row["batch"]: row for row in page.context["rows"]}
        assert rows[""]["issued"] == 2
        revoke = reverse("admin:access_accesspin_batch_revoke")
        assert f"{revoke}?batch=promo" in page.text
        assert f'{revoke}?batch="' not in page.text

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_revoking_them_all_at_once_is_refused(self, shop, method):
        url = reverse("admin:access_accesspin_batch_revoke") + "?batch="
        data = {"revoke_access": "on"} if method == "post" else None
        response = getattr(seller_client(), method)(url, data)
        assert response.status_code == 400
        assert "one by one" in response.text
        assert not AccessPin.objects.filter(revoked_at__isnull=False).exists()


class TestTheBatchForm:
    def test_preselects_the_series_the_seller_used_last(self, series):
        client = seller_client()
        issue = reverse("admin:access_accesspin_issue")
        assert client.get(issue).context["form"]["series"].value() == series.slug
        other = make_series(title="Another", slug="another", position=1)
        client.post(issue, {"series": other.slug, "count": 1, "max_uses": 1})
        assert client.get(issue).context["form"]["series"].value() == other.slug

    def test_a_series_in_the_address_wins(self, series):
        other = make_series(title="Another", slug="another")
        issue = reverse("admin:access_accesspin_issue")
        form = seller_client().get(issue, {"series": other.slug}).context["form"]
        assert form["series"].value() == other.slug


def test_the_pin_list_shows_status_buyer_and_redeemer_first(shop):
    page = seller_client().get(PINS)
    assert page.context["cl"].list_display[:5] == [
        "action_checkbox",
        "masked",
        "status_display",
        "buyer",
        "redeemed_by",
    ]
