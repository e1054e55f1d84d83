"""The reader's path: the pay button beside the DM, one tap logged in, an e-mail address first
logged out, the same order when they come back, and the DM when the gateway is down."""

import pytest
from django.test import Client
from django.utils import timezone

from access import offer
from access import services as access_services
from access.offer import actions
from access.offer.services import save_offer
from payments.models import Order
from tests.factories import make_lesson
from tests.payments.flows import start_order

pytestmark = pytest.mark.django_db


def test_the_paywall_offers_to_pay_beside_the_dm_when_payments_are_on(gateway, premium, client):
    page = client.get(premium.get_absolute_url()).content.decode()
    assert f'href="/pay/series/{premium.series.slug}/?lesson={premium.pk}"' in page
    assert "Pay now (QRIS, e-wallet, transfer)" in page
    assert "ig.me/m/seller" in page  # the DM button stays
    assert page.index("offer__pay") < page.index("offer__dm")


def test_the_button_is_one_that_payments_registers_with_access(
    gateway, premium, client, monkeypatch
):
    """access/'s templates name no template of payments/: the button is in the offer's actions
    that payments registers (access.offer.actions), and without it there is none."""
    assert "payments/_pay_button.html" in actions.templates()
    monkeypatch.setattr(actions, "_templates", [])
    page = client.get(premium.get_absolute_url()).content.decode()
    assert "/pay/series/" not in page and "ig.me/m/seller" in page


def test_logged_in_the_button_is_one_form_to_the_gateway(gateway, premium, reader_client):
    page = reader_client.get(premium.get_absolute_url()).content.decode()
    form = page[page.index(f'action="/pay/series/{premium.series.slug}/"') :][:600]
    assert 'name="csrfmiddlewaretoken"' in form and f'value="{premium.pk}"' in form


@pytest.mark.parametrize(
    "change",
    [{"takes_payments": False}, {"price_amount": None}, {"price_amount": 0}],
    ids=["payments off", "no price", "a price of nothing"],
)
def test_no_pay_button_unless_the_series_is_sold_here(gateway, premium, client, change):
    series = premium.series
    selling = offer.of(series)
    for name, value in change.items():
        setattr(selling, name, value)
    selling.price_line = ""
    save_offer(selling)
    page = client.get(premium.get_absolute_url()).content.decode()
    assert "/pay/series/" not in page and "ig.me/m/seller" in page
    assert client.get(f"/pay/series/{series.slug}/").status_code == 404


def test_no_pay_button_without_a_gateway(settings, premium, client):
    settings.MIDTRANS_SERVER_KEY = ""
    assert "/pay/series/" not in client.get(premium.get_absolute_url()).content.decode()


def test_the_call_to_action_offers_it_too(gateway, premium, client):
    free = make_lesson(premium.series, number=1, slug="free-one", title="Free one")
    page = client.get(free.get_absolute_url()).content.decode()
    assert f'href="/pay/series/{premium.series.slug}/"' in page


def test_logged_in_one_tap_goes_to_the_gateway(gateway, premium, reader, reader_client):
    response = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": premium.pk})
    order = Order.objects.get()
    assert response.status_code == 303 and response["Location"] == order.redirect_url
    assert response["Location"].startswith(gateway.url)
    assert (order.user, order.email, order.amount, order.currency) == (
        reader, reader.email, 149000, "IDR",
    )  # fmt: skip
    assert (order.lesson, order.status, order.language) == (premium, "pending", "en")
    txn = gateway.transactions[order.order_id]
    assert (txn["amount"], txn["email"], txn["finish"]) == (
        149000, reader.email, f"http://testserver/pay/orders/{order.order_id}/",
    )  # fmt: skip


def test_logged_out_the_order_is_tied_to_an_email_address_first(gateway, premium, client):
    page = client.get(f"/pay/series/{premium.series.slug}/?lesson={premium.pk}")
    assert page.status_code == 200 and b'type="email"' in page.content
    assert b"Rp 149,000" in page.content
    for bad in ["", "not-an-address"]:
        response = client.post(f"/pay/series/{premium.series.slug}/", {"email": bad})
        assert response.status_code == 400 and b"errorlist" in response.content
    assert Order.objects.count() == 0
    order = start_order(client, premium, email="Buyer@Example.com ")
    assert (order.user, order.email) == (None, "buyer@example.com")


def test_a_reader_who_comes_back_gets_the_same_order_never_a_second(
    gateway, premium, reader_client
):
    first = start_order(reader_client, premium)
    again = start_order(reader_client, premium)
    assert again == first and Order.objects.count() == 1 and len(gateway.transactions) == 1


def test_logged_out_the_same_address_gets_the_same_order_in_the_same_browser(
    gateway, premium, client
):
    first = start_order(client, premium, email="b@example.com")
    assert start_order(client, premium, email="B@example.com") == first
    assert Order.objects.count() == 1
    # someone else typing that address elsewhere gets an order of their own, not this one
    elsewhere = start_order(Client(), premium, email="b@example.com")
    assert elsewhere != first and Order.objects.count() == 2


def test_after_its_time_an_unpaid_order_is_closed_and_a_new_one_made(
    gateway, premium, reader_client
):
    first = start_order(reader_client, premium)
    Order.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    second = start_order(reader_client, premium)
    first.refresh_from_db()
    assert second != first and first.status == Order.Status.EXPIRED


def test_a_payment_in_the_last_minute_is_not_lost_when_a_new_order_is_asked_for(
    gateway, premium, reader_client
):
    first = start_order(reader_client, premium)
    gateway.post = lambda url, payload: None  # its notification is lost
    gateway.change(first.order_id, "settlement")
    Order.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    response = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": premium.pk})
    first.refresh_from_db()
    assert first.status == Order.Status.PAID and Order.objects.count() == 1
    assert response["Location"] == f"/pay/orders/{first.order_id}/"  # which says: unlocked


def test_a_reader_with_the_whole_series_is_not_charged(gateway, premium, reader, reader_client):
    access_services.grant(user=reader, series=premium.series)
    response = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": premium.pk})
    assert response.status_code == 302 and response["Location"] == premium.get_absolute_url()
    assert Order.objects.count() == 0


def test_when_the_gateway_is_down_the_button_answers_with_the_dm_and_no_order_is_left(
    settings, gateway, premium, reader_client
):
    settings.MIDTRANS_SNAP_URL = "http://127.0.0.1:9/snap/v1"  # nothing listens
    response = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": premium.pk})
    page = response.content.decode()
    assert response.status_code == 503
    assert "not answering" in page and "ig.me/m/seller" in page and "offer__pay" not in page
    assert Order.objects.count() == 0


def test_an_unknown_or_unpublished_series_is_not_found(gateway, premium, client):
    assert client.get("/pay/series/nothing-here/").status_code == 404
    premium.series.is_published = False
    premium.series.save()
    assert client.get(f"/pay/series/{premium.series.slug}/").status_code == 404


def test_a_lesson_of_another_series_in_the_form_is_ignored(
    gateway, premium, other_series, reader_client
):
    stranger = make_lesson(other_series, access="premium")
    response = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": stranger.pk})
    assert response.status_code == 303 and Order.objects.get().lesson is None


def test_the_anonymous_paywall_is_the_same_for_everyone_and_kept(
    gateway, premium, client, settings
):
    """The pay button adds nothing of a visitor to an anonymous page: still kept whole."""
    first = client.get(premium.get_absolute_url())
    other = type(client)().get(premium.get_absolute_url())
    assert first.content == other.content
    assert "csrftoken" not in first.cookies
