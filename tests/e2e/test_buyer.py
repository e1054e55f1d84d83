"""In a real browser, at 390 px: a buyer's way from a PIN in a DM to lesson 2, and tap
targets a thumb can hit on every reader page."""

import pytest

from access import services
from lessons.models import Lesson
from tests.accounts.flows import emailed_code
from tests.e2e.test_browser import Page, browser, demo, lesson_url  # noqa: F401 (fixtures)
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}

# Every visible tap target smaller than 44 by 44 px, with what it is. A checkbox counts with
# its label (tapping either ticks it); a link inside a sentence is exempt, as WCAG 2.5.8 has
# it (its size is the line's), and so is a heading's anchor, shown on focus.
SMALL_TARGETS = """() => {
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && box.width > 0 && box.height > 0
      && box.bottom > 0 && box.right > 0 && !el.closest("[hidden]");
  };
  const block = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith("inline")) node = node.parentElement;
    return node;
  };
  const inSentence = (el) =>
    getComputedStyle(el).display === "inline"
    && block(el).textContent.trim().length > el.textContent.trim().length + 1;
  const small = [];
  const targets = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el) || el.matches(".skip-link, .headerlink") || inSentence(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.matches("input[type=checkbox], input[type=radio]") && el.labels.length) {
      const label = el.labels[0].getBoundingClientRect();
      const top = Math.min(box.top, label.top), bottom = Math.max(box.bottom, label.bottom);
      const left = Math.min(box.left, label.left), right = Math.max(box.right, label.right);
      box = { width: right - left, height: bottom - top };
    }
    if (box.width < 43.5 || box.height < 43.5) {
      const name = (el.textContent || el.name || el.type).trim().slice(0, 30);
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name}" ${size}`);
    }
  }
  return small;
}"""


@pytest.mark.parametrize("returning", [False, True], ids=["new reader", "returning reader"])
def test_from_the_pin_in_a_dm_to_reading_lesson_2_logged_out(demo, browser, returning):  # noqa: F811
    """Screens: the redeem page (PIN filled in), sign-up, the code, lesson 2. Taps: the link,
    Buka akses, the e-mail address and Daftar, the code and Lanjut."""
    lesson = Lesson.objects.get(number=2)
    pin = services.issue_pins(series=lesson.series)[0].pin
    email = "sari@example.com"
    if returning:
        make_user(email=email)
    tab = Page(browser, viewport=PHONE, locale="id-ID")
    page = tab.page
    response = page.goto(f"{demo}/access/redeem/#pin={pin}")
    assert pin not in response.request.url  # the fragment never went to the server
    field = page.locator("form.redeem-form input[name=pin]")
    assert field.input_value() == pin
    assert page.url == f"{demo}/access/redeem/"  # nor stays in the address
    page.locator("form.redeem-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/signup/" in page.url
    page.fill("input[name=email]", email)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/code/confirm/" in page.url
    assert page.locator("input[name=code]").get_attribute("inputmode") == "numeric"
    page.fill("input[name=code]", emailed_code(email))
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == lesson_url(demo, 2)
    assert page.locator(".paywall").count() == 0
    assert page.locator(".message").count() == 1
    assert tab.errors == []
    tab.close()


def test_a_pasted_dm_is_read_for_its_pin(demo, browser):  # noqa: F811
    lesson = Lesson.objects.get(number=2)
    pin = services.issue_pins(series=lesson.series)[0].pin
    tab = Page(browser, viewport=PHONE, locale="id-ID")
    page = tab.page
    page.goto(lesson_url(demo, 2))
    dm = f"Halo! Makasih sudah membeli.\n\nPIN akses kamu: {pin.lower()}\n\nBuka {demo}/access/"
    page.fill(".paywall input[name=pin]", dm)  # the field takes what a paste gives it
    page.click(".paywall button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/signup/" in page.url
    assert tab.errors == []
    tab.close()


def reader_pages(base):
    return {
        "home": "/",
        "series": Lesson.objects.get(number=1).series.get_absolute_url(),
        "lesson 1": lesson_url(base, 1)[len(base) :],
        "lesson 2": lesson_url(base, 2)[len(base) :],
        "search": "/search/?q=engineer",
        "redeem": "/access/redeem/",
        "sign-up": "/accounts/signup/",
        "log in": "/accounts/login/",
        "code log-in": "/accounts/login/code/",
        "not found": "/no-such-page/",
    }


def test_every_tap_target_on_a_readers_pages_is_44_px_at_least(demo, browser):  # noqa: F811
    tab = Page(browser, viewport=PHONE)
    page = tab.page
    small = {}
    for name, path in reader_pages(demo).items():
        page.goto(demo + path)
        small[name] = page.evaluate(SMALL_TARGETS)
    reader = make_user(email="buyer@example.com")
    services.grant(user=reader, series=Lesson.objects.get(number=2).series)
    page.goto(f"{demo}/accounts/login/")
    page.fill("input[name=login]", reader.email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state()
    logged_in = {
        "home, logged in": "/",
        "lesson 2, unlocked": lesson_url(demo, 2)[len(demo) :],
        "my access": "/access/mine/",
        "e-mail addresses": "/accounts/email/",
        "password": "/accounts/password/change/",
    }
    for name, path in logged_in.items():
        page.goto(demo + path)
        small[name] = page.evaluate(SMALL_TARGETS)
    failures = {name: found for name, found in small.items() if found}
    assert not failures, "\n".join(f"{name}: {found}" for name, found in failures.items())
    tab.close()
