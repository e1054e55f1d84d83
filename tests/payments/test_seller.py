"""The seller's side: missed notifications reconciled, orders in the admin, a refund through
the gateway, the gateway's state for staff on /healthz, and the deployment check."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from access import dashboard
from access.models import AccessPin, Entitlement
from payments.models import Notification, Order
from tests.config.test_security import PRODUCTION_ENV, manage
from tests.factories import make_staff
from tests.payments.flows import start_order

pytestmark = pytest.mark.django_db


def reconcile(**options) -> str:
    out = io.StringIO()
    call_command("reconcile_orders", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_reconcile_applies_what_missed_notifications_would_have(gateway, premium, reader_client):
    paid = start_order(reader_client, premium)
    gateway.post = lambda url, payload: None  # every notification is lost
    gateway.change(paid.order_id, "settlement")
    assert reconcile(minutes=10) == "0 pending orders asked about\n"  # too recent
    Order.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=11))
    assert reconcile(minutes=10) == "1 pending orders asked about: 1 paid\n"
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID and Entitlement.objects.count() == 1
    assert reconcile(minutes=10) == "0 pending orders asked about\n"  # nothing asked twice


def test_reconcile_closes_orders_never_paid_in_their_time(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    Order.objects.update(
        created_at=timezone.now() - timezone.timedelta(hours=2), expires_at=timezone.now()
    )
    assert "1 expired" in reconcile(minutes=10)
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED


def test_reconcile_fails_loudly_while_the_gateway_is_down(
    gateway, premium, reader_client, settings
):
    order = start_order(reader_client, premium)
    Order.objects.update(created_at=timezone.now() - timezone.timedelta(hours=1))
    settings.MIDTRANS_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="did not answer for 1"):
        reconcile(minutes=10)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.fixture
def seller_client(db):
    seller = make_staff(email="seller@example.com")
    seller.groups.add(Group.objects.get(name="PIN issuers"))
    client = Client()
    client.force_login(seller)
    return client


def test_the_pin_issuers_see_orders_searchable_by_email_order_id_and_pin(
    gateway, premium, reader_client, seller_client, django_assert_max_num_queries
):
    order = start_order(reader_client, premium)
    gateway.change(order.order_id, "settlement")
    order.refresh_from_db()
    for term in ["reader@example", order.order_id, order.pin_hint]:
        with django_assert_max_num_queries(12):
            page = seller_client.get("/admin/payments/order/", {"q": term})
        assert page.status_code == 200 and order.order_id in page.content.decode()
    assert (
        order.order_id
        not in seller_client.get("/admin/payments/order/", {"q": "nobody@example"}).content.decode()
    )
    paid = seller_client.get("/admin/payments/order/", {"status__exact": "paid"})
    assert order.order_id in paid.content.decode()
    detail = seller_client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()
    assert order.pin_hint in detail and "Applied" in detail  # and its notifications
    assert seller_client.get("/admin/payments/notification/").status_code == 200


def test_a_refund_from_the_admin_goes_through_the_gateway_and_ends_the_access(
    gateway, premium, reader, reader_client, seller_client
):
    order = start_order(reader_client, premium)
    gateway.change(order.order_id, "settlement")
    action = {"action": "refund", "_selected_action": [order.pk]}
    confirm = seller_client.post("/admin/payments/order/", action)
    assert confirm.status_code == 200 and b"Refund" in confirm.content
    assert Order.objects.get().status == Order.Status.PAID  # asked first
    seller_client.post("/admin/payments/order/", {**action, "confirmed": "yes"})
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    ((url, notification),) = gateway.queued  # the gateway's notification of it, when it comes,
    assert gateway.deliver(url, notification) == 200  # changes nothing more
    assert Order.objects.get().status == Order.Status.REFUNDED
    assert gateway.transactions[order.order_id]["status"] == "refund"
    assert not Entitlement.objects.active_for(reader).exists()


def test_staff_without_the_permission_cannot_refund(gateway, premium, reader_client):
    order = start_order(reader_client, premium)
    gateway.change(order.order_id, "settlement")
    viewer = make_staff()
    viewer.user_permissions.add(*Group.objects.get(name="PIN issuers").permissions.exclude(
        codename="refund_order"
    ))  # fmt: skip
    client = Client()
    client.force_login(viewer)
    action = {"action": "refund", "_selected_action": [order.pk], "confirmed": "yes"}
    client.post("/admin/payments/order/", action)
    assert Order.objects.get().status == Order.Status.PAID


def test_healthz_tells_staff_the_gateway_s_state_and_no_one_else(
    gateway, premium, reader_client, seller_client
):
    start_order(reader_client, premium)
    assert "detail" not in Client().get("/healthz?detail=1").json()
    assert "detail" not in reader_client.get("/healthz?detail=1").json()
    payments = seller_client.get("/healthz?detail=1").json()["detail"]["payments"]
    assert payments["answers"] == "up" and payments["environment"] == "sim"
    assert payments["pending_orders"] == 1 and payments["flagged_orders"] == 0


def test_healthz_says_when_the_gateway_does_not_answer(gateway, seller_client, settings):
    settings.MIDTRANS_API_URL = "http://127.0.0.1:9"
    response = seller_client.get("/healthz?detail=1")
    assert response.status_code == 200
    assert response.json()["detail"]["payments"]["answers"] == "down"


def test_check_deploy_fails_while_the_simulator_is_on_without_debug():
    result = manage("check", "--deploy", env={**PRODUCTION_ENV, "PAYMENTS_SIMULATOR": "1"})
    assert result.returncode == 1 and "payments.E001" in result.stderr


def test_the_payment_page_s_origin_is_the_one_other_place_a_form_may_lead():
    from django.conf import settings

    assert settings.SECURE_CSP["form-action"][1:] == ["https://app.sandbox.midtrans.com"]
    assert "script-src" in settings.SECURE_CSP
    assert all(
        "midtrans" not in str(v) for k, v in settings.SECURE_CSP.items() if k != "form-action"
    )


def test_only_the_notification_address_skips_the_csrf_check():
    from django.urls import get_resolver

    from payments import urls

    exempt = [p.name for p in urls.urlpatterns if getattr(p.callback, "csrf_exempt", False)]
    assert exempt == ["notification"]
    assert get_resolver()  # the site's URLs load with payments in them
    assert Notification.MAX_BODY < 1024 * 1024


def test_the_sales_dashboard_counts_revenue_from_paid_orders(
    gateway, premium, reader_client, seller_client, other_series
):
    paid = start_order(reader_client, premium)
    gateway.change(paid.order_id, "settlement")
    refunded = start_order(Client(), premium, email="b@example.com")
    gateway.change(refunded.order_id, "settlement")
    gateway.refund(refunded.order_id, {})
    start_order(Client(), premium, email="c@example.com")  # never paid
    page = seller_client.get("/admin/access/accesspin/dashboard/").content.decode()
    section = page[page.index('id="desk-paid"') :][:900]
    figures = [dd.split("</dd>")[0] for dd in section.split("<dd>")[1:4]]
    assert figures == ["2", "Rp 149,000", "1"]
    other = seller_client.get(
        "/admin/access/accesspin/dashboard/", {"period": "30", "series": other_series.pk}
    ).content.decode()
    assert "<dd>Rp 0</dd>" in other


def test_a_paid_order_is_a_sale_on_the_site_in_the_headline_not_one_by_dm(
    gateway, premium, reader_client, seller_client
):
    """Its PIN is of its own kind, "paid on the site"; the headline counts it apart from the
    PINs sold by DM, and its revenue is what the orders paid (a refunded one left out), not
    the PINs counted times the price."""
    paid = start_order(reader_client, premium)
    gateway.change(paid.order_id, "settlement")
    refunded = start_order(Client(), premium, email="b@example.com")
    gateway.change(refunded.order_id, "settlement")
    gateway.refund(refunded.order_id, {})
    assert list(AccessPin.objects.values_list("kind", flat=True)) == ["paid", "paid"]
    headline = dashboard.figures(period=dashboard.Period.this_week()).headline
    assert (headline.sold, headline.paid) == (dashboard.Change(0, 0), dashboard.Change(2, 0))
    assert headline.revenue == [dashboard.Revenue("IDR", dashboard.Change(149000, 0))]
    page = seller_client.get("/admin/access/accesspin/dashboard/").content.decode()
    card = page[page.index("desk__card--paid") :][:300]
    assert "Paid on the site" in card and '<dd class="desk__value">2</dd>' in card


def test_the_simulator_command_starts_nothing_when_it_is_off(settings):
    settings.PAYMENTS_SIMULATOR = False
    out = io.StringIO()
    call_command("simulate_gateway", stdout=out)
    assert "no simulator started" in out.getvalue()
