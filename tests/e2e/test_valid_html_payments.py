"""The pages of paying on the site are valid HTML too, in either language (the W3C Nu
validator; skipped without it, as tests/e2e/test_valid_html.py says)."""

import json
import subprocess

import pytest
from django.test import Client

from payments.models import Order
from tests.e2e.test_valid_html import INVALID, validator
from tests.factories import make_lesson, make_series, make_user
from tests.payments.conftest import SERVER_KEY, Gateway


@pytest.fixture
def gateway(settings):
    simulator = Gateway()
    simulator.serve()
    settings.PAYMENTS_SIMULATOR = True
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_SNAP_URL = f"{simulator.url}/snap/v1"
    settings.MIDTRANS_API_URL = simulator.url
    yield simulator
    simulator.stop()


def payment_pages(gateway, language):
    series = make_series(takes_payments=True, price_amount=149000, instagram_handle="seller")
    lesson = make_lesson(series, number=2, access="premium", body="Open.\n\n<!-- more -->\n\nX")
    headers = {"accept-language": language}
    reader, anonymous = Client(headers=headers), Client(headers=headers)
    reader.force_login(make_user())
    checkout = f"/pay/series/{series.slug}/"
    yield "checkout", anonymous, f"{checkout}?lesson={lesson.pk}"
    yield "paywall with the pay button, logged in", reader, lesson.get_absolute_url()
    reader.post(checkout, {"lesson": lesson.pk})
    anonymous.post(checkout, {"lesson": lesson.pk, "email": f"{language}@example.com"})
    mine, theirs = Order.objects.order_by("pk")[:2]
    yield "order waiting", reader, f"/pay/orders/{mine.order_id}/"
    gateway.change(mine.order_id, "settlement")
    gateway.change(theirs.order_id, "settlement")
    yield "order paid, logged in", reader, f"/pay/orders/{mine.order_id}/"
    yield "order paid, logged out", anonymous, f"/pay/orders/{theirs.order_id}/"
    failed = make_series(takes_payments=True, price_amount=10000)
    reader.post(f"/pay/series/{failed.slug}/")
    gateway.change(Order.objects.get(series=failed).order_id, "deny")
    yield "order failed", reader, f"/pay/orders/{Order.objects.get(series=failed).order_id}/"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "id"])
def test_the_payment_pages_are_valid_html(gateway, tmp_path, language):
    command = validator()
    (tmp_path / "control.html").write_bytes(INVALID)
    names = {"control.html": "control"}
    for number, (name, client, url) in enumerate(payment_pages(gateway, language)):
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        path = tmp_path / f"{number:02}.html"
        path.write_bytes(response.content)
        names[path.name] = name
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", *map(str, sorted(tmp_path.glob("*.html")))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = {}
    for message in json.loads(result.stderr or result.stdout)["messages"]:
        name = names.get(message.get("url", "").rsplit("/", 1)[-1], "?")
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']}")
    assert errors.pop("control", None), "the validator found no error in the control"
    assert len(names) == 7 and errors == {}
