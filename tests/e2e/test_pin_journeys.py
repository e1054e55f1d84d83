"""The PIN's whole life in a real browser: a reader's mistakes, each answered next to the field
with what they typed still in it, up to the throttle and past it; and a PIN handed off by a
PIN issuer, redeemed, then revoked with its access, which locks the reader out at once, while
staff who may only look can do none of it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from access import services
from access.models import AccessPin, Entitlement, RedemptionAttempt
from lessons.models import Lesson
from tests.e2e.people import PIN_ISSUER, VIEW_ONLY, log_in, staff
from tests.e2e.test_browser import Page, browser, demo, lesson_url  # noqa: F401 (fixtures)
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
PREMIUM_TEXT = "What a model actually does"  # lesson 2, after its <!-- more -->


def unexpected(errors):
    """The errors of a tab, but for the console's note of each refused PIN's status (4xx)."""
    return [e for e in errors if not re.match(r"console: Failed to load resource: .* 4\d\d", e)]


def try_pin(page, typed):
    """Types `typed` in the PIN field of the page and sends it; the field, as it then is."""
    field = page.locator("form.redeem-form input[name=pin]")
    field.fill(typed)
    field.press("Enter")
    page.wait_for_load_state()
    return page.locator("form.redeem-form input[name=pin]")


def said_next_to(field) -> str:
    """The error the form shows for the field: between its label and the field, named by the
    field's aria-describedby, the field marked invalid."""
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    errors = [i for i in described if field.page.locator(f"#{i}.errorlist").count()]
    assert len(errors) == 1, described
    error = field.page.locator(f"#{errors[0]}")
    label = field.page.locator("form.redeem-form label[for=id_pin]").bounding_box()
    box, field_box = error.bounding_box(), field.bounding_box()
    assert label["y"] < box["y"] < field_box["y"]  # between the label and the field
    assert box["y"] + box["height"] <= field_box["y"] + 1
    return error.inner_text()


def test_mistakes_are_told_next_to_the_field_until_the_throttle_and_the_right_pin_opens_after(
    demo,  # noqa: F811
    browser,  # noqa: F811
):
    series = Lesson.objects.get(number=2).series
    pin = services.issue_pins(series=series)[0].pin
    reader = make_user(email="reader@example.com")
    tab = Page(browser, viewport=PHONE)
    log_in(tab.context, demo, reader)
    page = tab.page
    page.goto(lesson_url(demo, 2))

    field = try_pin(page, "HELLO")
    assert "A PIN has 12 letters and digits" in said_next_to(field)
    assert field.input_value() == "HELLO"
    assert page.url == f"{demo}/access/redeem/"

    for _ in range(5):  # five wrong PINs in a quarter of an hour...
        field = try_pin(page, "WRNG-PIN0-0000")
        assert said_next_to(field) == "That PIN is not valid. Check it and try again."
        assert field.input_value() == "WRNG-PIN0-0000"
    field = try_pin(page, "WRNG-PIN0-0001")  # ...and the form waits
    assert "Too many wrong PINs" in said_next_to(field)
    assert field.input_value() == "WRNG-PIN0-0001"

    field = try_pin(page, pin)  # even the right one waits
    assert "Too many wrong PINs" in said_next_to(field)
    assert field.input_value() == pin
    assert not Entitlement.objects.filter(user=reader).exists()

    # A quarter of an hour later the reader may try again.
    RedemptionAttempt.objects.update(created_at=RedemptionAttempt.objects.first().created_at
                                     - timedelta(minutes=16))  # fmt: skip
    try_pin(page, pin)
    assert page.locator(".message").inner_text().startswith("Unlocked")
    page.goto(lesson_url(demo, 2))
    assert PREMIUM_TEXT in page.content() and page.locator(".paywall").count() == 0
    assert unexpected(tab.errors) == []
    tab.close()


def test_a_handed_off_pin_is_redeemed_then_revoked_with_its_access_and_view_only_staff_cannot(
    demo,  # noqa: F811
    browser,  # noqa: F811
):
    issuer = staff("issuer@example.com", PIN_ISSUER)
    seller = Page(browser, viewport=PHONE)
    log_in(seller.context, demo, issuer)
    desk = seller.page
    desk.goto(demo + reverse("admin:access_accesspin_for_buyer"))
    desk.fill("input[name=buyer]", "@sari.codes")
    desk.click("input[type=submit]")
    pin = desk.locator("#handoff-pin").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", pin)

    reader = make_user(email="sari@example.com")
    buyer = Page(browser, viewport=PHONE)
    log_in(buyer.context, demo, reader)
    page = buyer.page
    page.goto(f"{demo}/access/redeem/")
    try_pin(page, pin)
    assert page.locator(".message").inner_text().startswith("Unlocked")
    page.goto(lesson_url(demo, 2))
    assert PREMIUM_TEXT in page.content()

    # The issuer revokes the PIN and the access it gave, from the PIN list.
    desk.goto(demo + reverse("admin:access_accesspin_changelist"))
    row = desk.locator("#result_list tbody tr", has_text="sari.codes")  # PINs show masked
    row.locator("input[name=_selected_action]").check()
    desk.select_option("#changelist .actions select[name=action]", "revoke_with_access")
    desk.click("#changelist .actions button[type=submit]")
    desk.wait_for_load_state()
    assert "Revoked 1 PIN(s) and 1 entitlement(s)." in desk.locator(".messagelist").inner_text()

    page.reload()  # the reader's very next page
    assert PREMIUM_TEXT not in page.content()
    assert page.locator(".paywall").is_visible()
    page.goto(f"{demo}/access/redeem/")
    field = try_pin(page, pin)
    assert said_next_to(field) == "That PIN has been withdrawn. Ask the seller for a new one."
    assert seller.errors == [] and unexpected(buyer.errors) == []
    seller.close()

    # Staff who may only look: no hand-off, no revoking, no PIN.
    watcher = staff("watcher@example.com", VIEW_ONLY)
    look = Page(browser, viewport=PHONE)
    log_in(look.context, demo, watcher)
    view = look.page
    assert view.goto(demo + reverse("admin:access_accesspin_for_buyer")).status == 403
    assert view.goto(demo + reverse("admin:access_accesspin_issue")).status == 403
    view.goto(demo + reverse("admin:access_accesspin_changelist"))
    assert view.locator("#result_list tbody tr", has_text="sari.codes").count() == 1  # it sees it
    assert view.locator("#changelist .actions").count() == 0  # and has nothing to act with
    record = AccessPin.objects.get()
    response = view.goto(demo + reverse("admin:access_accesspin_replace", args=[record.pk]))
    assert response.status == 403
    view.goto(demo + reverse("admin:access_accesspin_change", args=[record.pk]))
    assert view.locator("#content-main input[name=buyer]").count() == 0  # shown, not editable
    assert view.locator("#content-main [type=submit]").count() == 0
    assert AccessPin.objects.filter(revoked_at__isnull=True).count() == 0
    assert AccessPin.objects.count() == 1  # nothing was issued by the watcher
    look.close()
    buyer.close()
