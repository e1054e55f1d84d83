"""In a real browser at 390 px, in Indonesian: readers pay on lesson 2's paywall through the
gateway simulator (over real HTTP, both ways) and read lesson 2 in full, with no staff action.
With PAYMENTS_SCREENSHOTS=<folder> each step is kept as a PNG there (docs/screenshots/)."""

import os
from pathlib import Path

import pytest
from django.utils.csp import CSP

from access.models import Entitlement
from lessons.models import Lesson
from payments.models import Order
from payments.simulator import Simulator
from tests.accounts.flows import emailed_code
from tests.e2e.test_browser import (  # noqa: F401 (browser and demo are fixtures)
    CHROMIUM,
    Page,
    browser,
    demo,
    lesson_url,
    sign_up,
)

if not Path(CHROMIUM).exists():  # test_browser.py says why, or fails under REQUIRE_BROWSER
    pytest.skip(f"no browser at {CHROMIUM}", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("PAYMENTS_SCREENSHOTS")
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "id-ID", "device_scale_factor": 1}
PREMIUM_TEXT = "What a model actually does"  # lesson 2, after its <!-- more -->
# Taps and fields from the paywall to lesson 2 in full, for a reader not logged in: the
# button, the address and its button, the QRIS button, then signing up (the button, the
# address and its button, the code and its button).
STEPS_LOGGED_OUT = 9


@pytest.fixture
def gateway(settings):
    simulator = Simulator("SB-Mid-server-e2e", retry_delays=())
    simulator.serve()
    settings.PAYMENTS_SIMULATOR = True
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-e2e"
    settings.MIDTRANS_SNAP_URL = f"{simulator.url}/snap/v1"
    settings.MIDTRANS_API_URL = simulator.url
    settings.SECURE_CSP = {**settings.SECURE_CSP, "form-action": [CSP.SELF, simulator.url]}
    yield simulator
    simulator.stop()


def shot(page, name):
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_reader_not_logged_in_pays_by_qris_and_reads_lesson_2(demo, browser, gateway):  # noqa: F811 (fixtures)
    site = f"{demo}/id"  # the Indonesian addresses
    tab = Page(browser, **PHONE)
    page, steps = tab.page, 0
    page.goto(lesson_url(site, 2))
    assert PREMIUM_TEXT not in page.content()
    pay = page.locator(".paywall .offer__pay-button")
    assert pay.inner_text() == "Bayar sekarang (QRIS, e-wallet, transfer)"
    assert page.locator(".paywall .offer__dm").is_visible()  # the DM stays
    shot(page, "pay-paywall-id-390")
    pay.click()
    steps += 1
    page.wait_for_load_state()
    page.fill("input[name=email]", "pembeli@example.com")
    shot(page, "pay-checkout-id-390")
    page.click(".checkout__form button[type=submit]")
    steps += 2
    page.wait_for_url(f"{gateway.url}/**")
    shot(page, "pay-simulator-390")
    page.click("text=Pay by QRIS")
    steps += 1
    page.wait_for_url(f"{site}/pay/orders/**")
    order = Order.objects.get()
    assert order.status == Order.Status.PAID and order.user is None
    assert page.locator("h1").inner_text() == "Lunas: tinggal satu langkah"
    assert f"…\u2060{order.pin_hint}" in page.content()
    shot(page, "pay-anonymous-paid-id-390")
    page.click(".order__actions >> text=Daftar")
    page.wait_for_load_state()
    page.fill("input[name=email]", "pembeli@example.com")
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", emailed_code("pembeli@example.com"))
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    steps += 5
    assert page.url == lesson_url(site, 2)
    assert PREMIUM_TEXT in page.content() and page.locator(".paywall").count() == 0
    shot(page, "pay-anonymous-lesson-2-id-390")
    assert Entitlement.objects.get().user.email == "pembeli@example.com"
    assert steps == STEPS_LOGGED_OUT
    assert tab.errors == []
    tab.close()


def test_a_logged_in_reader_pays_in_fewer_steps(demo, browser, gateway):  # noqa: F811 (fixtures)
    site = f"{demo}/id"  # the Indonesian addresses
    tab = Page(browser, **PHONE)
    page, steps = tab.page, 0
    sign_up(page, site, "pembaca@example.com")
    page.goto(lesson_url(site, 2))
    page.click(".paywall .offer__pay-button")  # one tap: the payment page
    steps += 1
    page.wait_for_url(f"{gateway.url}/**")
    page.click("text=Pay by QRIS")
    steps += 1
    page.wait_for_url(f"{site}/pay/orders/**")
    assert page.locator("h1").inner_text() == "Terbuka"
    shot(page, "pay-logged-in-unlocked-id-390")
    page.click("text=Baca pelajaran 2")
    steps += 1
    page.wait_for_load_state()
    assert page.url == lesson_url(site, 2)
    assert PREMIUM_TEXT in page.content() and page.locator(".paywall").count() == 0
    assert Lesson.objects.get(number=2).series.offer.takes_payments
    assert steps == 3 < STEPS_LOGGED_OUT
    assert tab.errors == []
    tab.close()


def test_the_order_page_shows_the_payment_when_it_arrives_without_a_reload(demo, browser, gateway):  # noqa: F811 (fixtures)
    site = f"{demo}/id"  # the Indonesian addresses
    tab = Page(browser, **PHONE)
    page = tab.page
    sign_up(page, site, "menunggu@example.com")
    page.goto(lesson_url(site, 2))
    page.click(".paywall .offer__pay-button")
    page.wait_for_url(f"{gateway.url}/**")
    order = Order.objects.get()
    page.goto(f"{site}/pay/orders/{order.order_id}/")
    assert page.locator("h1").inner_text() == "Menunggu pembayaranmu"
    shot(page, "pay-waiting-id-390")
    gateway.pay(order.order_id, "qris")  # paid on another device: the notification comes
    page.wait_for_selector("text=Terbuka", timeout=15000)  # js/order.js saw it
    assert tab.errors == []
    tab.close()
