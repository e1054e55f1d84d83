"""In a real browser, at 390 px: a buyer's way from a PIN in a DM to lesson 2, and tap
targets a thumb can hit on every reader page."""

import re

import pytest

from access import services
from lessons.models import Lesson
from tests.accounts.flows import emailed_code
from tests.e2e.test_browser import Page, browser, demo, lesson_url  # noqa: F401 (fixtures)
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}

# Every visible tap target smaller than 44 × 44 px, with what it is. A checkbox counts with
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
      small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


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
