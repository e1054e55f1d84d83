import json
import threading
from urllib.parse import urlsplit

import pytest
from django.test import Client

from access.offer.services import save_offer
from payments.simulator import Simulator
from tests.factories import make_lesson, make_series

SERVER_KEY = "SB-Mid-server-tests-only"


class Gateway(Simulator):
    """The simulator on a port of its own, for one test. Its notifications go to the site
    through a test client of their own, in the test's thread (so in its transaction); those
    it sends from its own threads (a refund asked over HTTP) wait in `queued`."""

    def __init__(self):
        self.site = Client()
        self.queued = []
        super().__init__(SERVER_KEY, retry_delays=(), post=self.deliver)

    def deliver(self, url, payload) -> int | None:
        if threading.current_thread() is not threading.main_thread():
            self.queued.append((url, payload))
            return None
        return self.notify_site(urlsplit(url).path, json.dumps(payload)).status_code

    def notify_site(self, path, body, **extra):
        return self.site.post(path, body, content_type="application/json", **extra)


@pytest.fixture
def gateway(settings):
    simulator = Gateway()
    simulator.serve()
    settings.PAYMENTS_SIMULATOR = True
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_SNAP_URL = f"{simulator.url}/snap/v1"
    settings.MIDTRANS_API_URL = simulator.url
    settings.PAYMENTS_GATEWAY_TIMEOUT_SECONDS = 2
    yield simulator
    simulator.stop()


@pytest.fixture
def selling(series):
    """The series for sale on the site, for Rp 149.000, with its DM channel."""
    selling = series.offer
    selling.takes_payments = True
    selling.price_amount = 149000
    selling.price_line = "{price} · lessons {first_premium}–{last_premium}"
    selling.instagram_handle = "seller"
    save_offer(selling)
    return series


@pytest.fixture
def premium(selling):
    return make_lesson(
        selling, number=2, slug="premium-two", title="Premium two", access="premium",
        body="Public opening.\n\n<!-- more -->\n\nSECRET-PREMIUM-SENTENCE lives here.",
    )  # fmt: skip


@pytest.fixture
def other_series(db):
    return make_series(takes_payments=True, price_amount=50000)
