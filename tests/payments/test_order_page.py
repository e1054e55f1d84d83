"""The page the gateway sends the reader back to: only theirs, waiting, then what they got."""

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client, RequestFactory

from access import pending
from access.models import Entitlement, HeldPin
from accounts.models import User
from tests.accounts.flows import sign_up
from tests.factories import make_user
from tests.payments.flows import start_order

pytestmark = pytest.mark.django_db


def page(client, order, query=""):
    return client.get(f"/pay/orders/{order.order_id}/{query}")


def test_waiting_for_the_payment_the_page_asks_by_itself(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    response = page(reader_client, order)
    text = response.content.decode()
    assert response.status_code == 200 and "Waiting for your payment" in text
    assert f'data-order-status="/pay/orders/{order.order_id}/status/"' in text
    assert "js/order.js" in text and "Check now" in text  # the script, or by hand
    assert order.redirect_url in text  # back to the payment page
    assert "no-cache" in response["Cache-Control"]
    status = reader_client.get(f"/pay/orders/{order.order_id}/status/")
    assert status.json() == {"status": "pending"}


def test_paid_logged_in_the_page_says_unlocked_read_lesson_n(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    gateway.change(order.order_id, "settlement")
    text = page(reader_client, order).content.decode()
    assert "Unlocked" in text and "Read lesson 2" in text and "js/order.js" not in text
    assert premium.get_absolute_url() in text


def test_back_from_the_gateway_the_page_asks_it_once_in_case_its_notification_is_late(
    gateway, premium, reader_client
):
    order = start_order(reader_client, premium)
    gateway.post = lambda url, payload: None  # the notification has not come
    gateway.change(order.order_id, "settlement")
    assert "Waiting" in page(reader_client, order).content.decode()
    query = f"?order_id={order.order_id}&status_code=200&transaction_status=settlement"
    assert "Unlocked" in page(reader_client, order, query).content.decode()


def test_the_gateway_s_query_alone_is_never_believed(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    query = f"?order_id={order.order_id}&status_code=200&transaction_status=settlement"
    assert "Waiting" in page(reader_client, order, query).content.decode()
    assert Entitlement.objects.count() == 0


def test_another_reader_s_order_is_not_found(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    stranger = Client()
    stranger.force_login(make_user())
    assert page(stranger, order).status_code == 404
    assert stranger.get(f"/pay/orders/{order.order_id}/status/").status_code == 404
    assert page(Client(), order).status_code == 404  # logged out, another browser
    assert Client().get("/pay/orders/sim-made-up/").status_code == 404


def test_logged_out_paid_the_page_shows_the_pin_s_end_and_the_next_step(gateway, premium, client):
    order = start_order(client, premium, email="buyer@example.com")
    gateway.change(order.order_id, "settlement")
    order.refresh_from_db()
    text = page(client, order).content.decode()
    assert "Paid: one step left" in text and f"…\u2060{order.pin_hint}" in text
    assert "buyer@example.com" in text and "Lesson 2 opens by itself" in text
    assert f"/accounts/signup/?next={premium.get_absolute_url()}" in text.replace("%2F", "/")


def test_logged_out_signing_up_with_that_address_later_unlocks_the_lesson(
    gateway, premium, client, mailoutbox, django_capture_on_commit_callbacks
):
    order = start_order(client, premium, email="buyer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        gateway.change(order.order_id, "settlement")
    assert "buyer@example.com" in mailoutbox[0].to
    # another day, another browser: sign up with the address, type the e-mailed code
    browser = Client()
    response = sign_up(browser, "buyer@example.com")
    assert response.status_code == 302 and response["Location"] == premium.get_absolute_url()
    user = User.objects.get(email="buyer@example.com")
    assert Entitlement.objects.get().user == user and HeldPin.objects.count() == 0
    assert b"SECRET-PREMIUM-SENTENCE" in browser.get(premium.get_absolute_url()).content


def test_a_held_pin_is_not_given_to_an_unverified_address(gateway, premium, client):
    order = start_order(client, premium, email="buyer@example.com")
    gateway.change(order.order_id, "settlement")
    someone = make_user(email="buyer@example.com", verified=False)
    request = RequestFactory().get("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    assert pending.redeem_held(request, someone) is None
    assert Entitlement.objects.count() == 0 and HeldPin.objects.count() == 1


def test_a_held_pin_typed_from_the_email_first_ends_its_hold_quietly(
    gateway, premium, client, mailoutbox, django_capture_on_commit_callbacks
):
    from access import services

    order = start_order(client, premium, email="buyer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        gateway.change(order.order_id, "settlement")
    pin = mailoutbox[0].body.split("PIN:")[1].split()[0]
    other = make_user(email="elsewhere@example.com")
    assert services.redeem(user=other, typed_pin=pin).ok
    buyer = make_user(email="buyer@example.com")
    browser = Client()
    browser.post(
        "/accounts/login/", {"login": "buyer@example.com", "password": "correct horse battery"}
    )
    assert HeldPin.objects.count() == 0
    assert not Entitlement.objects.filter(user=buyer).exists()


def test_a_failed_payment_offers_to_try_again_and_the_dm(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    gateway.change(order.order_id, "deny")
    text = page(reader_client, order).content.decode()
    assert "did not go through" in text and "Try again" in text and "ig.me/m/seller" in text
    again = reader_client.post(f"/pay/series/{premium.series.slug}/", {"lesson": premium.pk})
    assert again.status_code == 303 and again["Location"] != order.redirect_url


def test_the_page_speaks_indonesian(gateway, premium, reader_client):
    order = start_order(reader_client, premium, language="id")
    text = reader_client.get(f"/id/pay/orders/{order.order_id}/").content.decode()
    assert "Menunggu pembayaranmu" in text and "Rp149.000" in text
