"""Midtrans through its official client, driven over HTTP against the simulator: the base URLs
from the settings, the server key checked as Midtrans checks it, time limits, and the
notification's signature."""

import json
import socket
import threading
import time
from decimal import Decimal

import pytest
import requests

from payments import gateways
from payments.gateways import GatewayError, GatewayUnavailable, State
from payments.gateways.midtrans import signature, state_of
from payments.models import Order
from tests.payments.conftest import SERVER_KEY

pytestmark = pytest.mark.django_db


def make_order(series, **fields) -> Order:
    from django.utils import timezone

    defaults = {
        "order_id": f"sim-test-{time.monotonic_ns()}",
        "email": "buyer@example.com",
        "series": series,
        "amount": 149000,
        "currency": "IDR",
        "gateway": "midtrans",
        "language": "id",
        "site_url": "http://testserver/",
        "expires_at": timezone.now() + timezone.timedelta(minutes=60),
    }
    return Order.objects.create(**{**defaults, **fields})


def checkout(order):
    return gateways.get_gateway().create_checkout(
        order=order,
        item_name="Became an AI Engineer",
        finish_url="http://testserver/pay/orders/x/",
        notification_url="http://testserver/pay/notify/t/",
    )


def test_the_client_is_pointed_at_the_configured_base_urls(gateway, settings):
    """midtransclient keeps its base URLs on ApiConfig; each client made gets the settings'."""
    made = gateways.get_gateway()
    for client in (made.snap, made.core):
        assert client.api_config.get_snap_base_url() == settings.MIDTRANS_SNAP_URL
        assert client.api_config.get_core_api_base_url() == settings.MIDTRANS_API_URL
    settings.MIDTRANS_IS_PRODUCTION = True  # the production pair is pointed there too
    assert gateways.get_gateway().snap.api_config.get_snap_base_url() == settings.MIDTRANS_SNAP_URL


def test_snap_gives_a_payment_page_and_the_status_api_knows_no_payment_until_one_is_chosen(
    gateway, selling
):
    order = make_order(selling)
    page = checkout(order)
    assert page.redirect_url.startswith(f"{gateway.url}/snap/v2/vtweb/")
    assert gateway.transactions[order.order_id]["notify"] == ["http://testserver/pay/notify/t/"]
    assert gateways.get_gateway().status(order.order_id) is None
    gateway.retry_delays, gateway.post = (), lambda url, payload: 200
    gateway.pay(order.order_id, "qris")
    txn = gateways.get_gateway().status(order.order_id)
    assert (txn.state, txn.amount, txn.currency, txn.payment_type) == (
        State.PAID, Decimal("149000.00"), "IDR", "qris",
    )  # fmt: skip


def test_the_simulator_refuses_a_wrong_server_key_as_midtrans_does(gateway, selling, settings):
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-someone-else"
    with pytest.raises(GatewayError) as refused:
        checkout(make_order(selling))
    assert not isinstance(refused.value, GatewayUnavailable)
    answer = requests.get(f"{gateway.url}/v2/anything/status", timeout=5)
    assert answer.status_code == 401
    assert gateways.get_gateway().ping() == "refused"


def test_the_same_order_id_cannot_be_paid_twice(gateway, selling):
    order = make_order(selling)
    checkout(order)
    with pytest.raises(GatewayError):
        checkout(order)


@pytest.fixture
def silent_gateway(settings):
    """A server that accepts connections and never answers: a hung gateway."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.PAYMENTS_SIMULATOR = True
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_SNAP_URL, settings.MIDTRANS_API_URL = f"{url}/snap/v1", url
    settings.PAYMENTS_GATEWAY_TIMEOUT_SECONDS = 1
    yield url
    stop.set()
    for conn in held:
        conn.close()
    listener.close()


def test_a_hung_gateway_is_given_up_on_at_creation_and_at_status(silent_gateway, selling):
    order = make_order(selling)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        checkout(order)
    with pytest.raises(GatewayUnavailable):
        gateways.get_gateway().status(order.order_id)
    assert time.monotonic() - started < 10  # two calls of a 1 s limit, not forever
    assert gateways.get_gateway().ping() == "down"


def test_a_gateway_that_is_not_there_is_unavailable(settings, selling):
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_API_URL = settings.MIDTRANS_SNAP_URL = "http://127.0.0.1:9"
    with pytest.raises(GatewayUnavailable):
        gateways.get_gateway().status("sim-x")


def test_a_notification_is_verified_by_its_sha512_signature(settings):
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.PAYMENTS_SIMULATOR = True
    signed = {
        "order_id": "sim-abc",
        "status_code": "200",
        "gross_amount": "149000.00",
        "transaction_status": "settlement",
    }
    signed["signature_key"] = signature("sim-abc", "200", "149000.00", SERVER_KEY)
    reader = gateways.get_gateway()
    notice = reader.read_notification(json.dumps(signed).encode())
    assert (notice.verified, notice.environment, notice.order_id) == (True, "sim", "sim-abc")
    for field, value in [
        ("gross_amount", "1000.00"),
        ("status_code", "201"),
        ("order_id", "sim-b"),
    ]:
        tampered = {**signed, field: value}
        assert not reader.read_notification(json.dumps(tampered).encode()).verified


@pytest.mark.parametrize(
    ("status", "fraud", "state"),
    [
        ("settlement", None, State.PAID),
        ("settlement", "accept", State.PAID),
        ("capture", "accept", State.PAID),
        ("capture", "challenge", State.PENDING),
        ("capture", "deny", State.DENIED),
        ("pending", None, State.PENDING),
        ("expire", None, State.EXPIRED),
        ("deny", None, State.DENIED),
        ("cancel", None, State.CANCELLED),
        ("refund", None, State.REFUNDED),
        ("partial_refund", None, State.PARTLY_REFUNDED),
        ("chargeback", None, State.CHARGED_BACK),
        ("something new", None, State.UNKNOWN),
    ],
)
def test_midtrans_statuses_as_the_flow_reads_them(status, fraud, state):
    assert state_of(status, fraud) == state
