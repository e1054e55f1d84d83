"""In a real browser: an anonymous reader from Instagram, on a phone, is counted when the
paywall comes into view and when they tap the DM button, by static/js/offer.js, and the DM
button still leads to Instagram."""

import os
from pathlib import Path

import pytest

from access.models import OfferCount
from tests.factories import make_lesson, make_series

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    reason = f"no browser at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131 Mobile Safari"


@pytest.fixture
def phone(live_server):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            locale="id-ID",
            # a phone's browser, as readers have (headless Chromium says so, and is not counted)
            user_agent=PHONE,
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield live_server.url, page, errors
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def test_an_anonymous_readers_paywall_view_and_dm_tap_are_counted(phone):
    base, page, errors = phone
    series = make_series(title="S", slug="s", instagram_handle="seller")
    make_lesson(series, number=1, slug="one")
    two = make_lesson(
        series, number=2, slug="two", access="premium", body="Teaser.\n\n" + "Words. " * 900
    )
    leaving = []
    page.route("https://ig.me/**", lambda route: (leaving.append(route.request.url), route.abort()))
    with page.expect_request(lambda r: r.url.endswith("/access/counted/")) as view:
        page.goto(base + two.get_absolute_url())
        page.locator("aside.paywall").scroll_into_view_if_needed()
    assert b"paywall" in view.value.post_data_buffer
    with page.expect_request(lambda r: r.url.endswith("/access/counted/")):
        page.locator("aside.paywall a.offer__dm").click()
    page.wait_for_timeout(300)
    counts = dict(OfferCount.objects.filter(lesson=two).values_list("event", "count"))
    assert counts == {"paywall": 1, "dm": 1}
    assert leaving == ["https://ig.me/m/seller"]  # the button still opens the DM
    assert errors == []
