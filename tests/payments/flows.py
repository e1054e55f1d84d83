"""Helpers the payment tests share: an order started as a reader starts one, and the
notifications the gateway would send about it."""

import json

from config.languages import address
from payments import gateways
from payments.gateways.midtrans import signature
from payments.models import Order
from tests.payments.conftest import SERVER_KEY


def start_order(client, lesson, language="en", **data) -> Order:
    """The pay button, pressed (on a page in `language`): the order it made (or resumed)."""
    path = address(f"/pay/series/{lesson.series.slug}/", language)
    response = client.post(path, {"lesson": lesson.pk, **data})
    assert response.status_code == 303, response.content[:500]
    return Order.objects.order_by("-created_at", "-pk").first()


def notify_url() -> str:
    return f"/pay/notify/{gateways.notification_token()}/"


def signed(order_id: str, status: str, *, code: str = "200", amount: str = "149000.00", **more):
    """A notification body as Midtrans signs one (with the tests' server key)."""
    return {
        "order_id": order_id,
        "status_code": code,
        "gross_amount": amount,
        "transaction_status": status,
        "fraud_status": "accept",
        "currency": "IDR",
        "signature_key": signature(order_id, code, amount, SERVER_KEY),
        **more,
    }


def post(client, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(notify_url(), data, content_type="application/json", **extra)
