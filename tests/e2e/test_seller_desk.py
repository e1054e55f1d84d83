"""The seller's admin in a real browser, on a phone (390 px) in Indonesian: what to act on is
on the first screen, and every link, box and button is a 44 px target."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from access import services
from tests.factories import make_lesson, make_series, make_user

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    reason = f"no browser at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.django_db(transaction=True)

# Everything a thumb may need in a list: row links and boxes, the actions, the object tools,
# the batch list's buttons.
TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((element) => element.getClientRects().length)
  .map((element) => {
    const box = element.getBoundingClientRect();
    return {what: element.outerHTML.slice(0, 80), width: box.width, height: box.height,
            right: box.right};
  })"""
LIST_TARGETS = (
    "#result_list tbody a, #result_list input[type=checkbox], #changelist .actions select, "
    "#changelist .actions button, .object-tools a"
)


@pytest.fixture
def phone(live_server):
    """A seller's phone, logged in, in Indonesian; a promotion and PINs sold one by one."""
    series = make_series(title="Became an AI Engineer", slug="ai")
    make_lesson(series, number=2, access="premium")
    services.issue_pins(series=series, count=3, batch="promo-ramadan")
    for buyer in ("@budi.dev", "siti.rahma", "https://www.instagram.com/andi_p/"):
        services.issue_pins(series=series, buyer=buyer)
    seller = make_user(email="seller@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(seller)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="id-ID", has_touch=True
        )
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        yield live_server.url, context.new_page()
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def small(targets) -> list:
    return [t for t in targets if t["height"] < 44 or t["width"] < 44]


def test_the_pin_list_on_a_phone(phone):
    base, page = phone
    page.goto(base + reverse("admin:access_accesspin_changelist"))
    headers = [h.strip() for h in page.locator("#result_list thead th").all_inner_texts()]
    assert headers[1:4] == ["PIN AKSES", "STATUS", "PEMBELI"]
    # the status and the buyer are on the first screen, without scrolling sideways
    buyer = page.locator("#result_list thead th.column-buyer").bounding_box()
    assert buyer["x"] < 390
    assert (
        page.locator("#result_list tbody td.field-status_display").first.bounding_box()["x"] + 40
        < 390
    )
    assert small(page.evaluate(TARGETS, LIST_TARGETS)) == []
    assert "- Pilih salah satu -" in page.locator("#changelist .actions select").inner_text()


def test_the_batch_list_on_a_phone(phone):
    base, page = phone
    page.goto(base + reverse("admin:access_accesspin_batches"))
    buttons = page.evaluate(TARGETS, ".desk__actions a, .desk__table tbody th a")
    assert len(buttons) == 2 + 1 + 2  # CSV for both rows, revoke for the promotion; two names
    assert small(buttons) == []
    assert all(button["right"] <= 390 for button in buttons)  # no scrolling to reach them
    assert page.locator("text=Cabut…").count() == 1  # never on the "No batch" row
