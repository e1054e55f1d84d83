"""A reader with a keyboard only, on a phone-sized window: Tab and Enter (and the arrow keys in
a code block) reach and use the table of contents, every code block (scrolled and copied), the
lesson navigation, the PIN form, the sign-up form and the language switcher, and every stop on
the way shows where the focus is."""

import pytest

from access import services
from lessons.models import Lesson
from tests.accounts.flows import emailed_code
from tests.e2e.test_browser import Page, browser, demo, lesson_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
PREMIUM_TEXT = "What a model actually does"  # lesson 2, after its <!-- more -->

# Where the focus is, and whether it shows: a ring (outline or shadow) of 2 px or more.
FOCUS = """(selector) => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  return {
    match: el.matches(selector),
    shown: ring && box.width > 0 && box.height > 0,
    what: el.outerHTML.slice(0, 90),
  };
}"""


class Keyboard:
    """Tab through a page, noting every stop where the focus could not be seen."""

    def __init__(self, page):
        self.page = page
        self.unseen = []

    def tab_to(self, selector: str, *, limit: int = 120) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            focus = self.page.evaluate(FOCUS, selector)
            if focus["what"].startswith("<body"):
                continue
            if not focus["shown"]:
                self.unseen.append(f"{self.page.url}: {focus['what']}")
            if focus["match"]:
                return
        raise AssertionError(f"{selector} not reached with Tab on {self.page.url}")

    def enter(self) -> None:
        """Enter on a link or in a form: the next page."""
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")


def test_a_keyboard_reads_scrolls_copies_navigates_unlocks_signs_up_and_switches_language(
    demo,  # noqa: F811
    browser,  # noqa: F811
):
    pin = services.issue_pins(series=Lesson.objects.get(number=2).series)[0].pin
    tab = Page(
        browser,
        viewport={"width": 390, "height": 844},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page, keys = tab.page, Keyboard(tab.page)
    page.goto(lesson_url(demo, 1))

    keys.tab_to(".toc a")  # the table of contents
    target = page.evaluate("document.activeElement.hash")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == target
    heading = page.locator(target).bounding_box()
    assert 0 <= heading["y"] < 844  # the section is on the screen

    blocks = page.locator(".lesson__body pre")
    wide = page.evaluate(
        "[...document.querySelectorAll('.lesson__body pre')]"
        ".findIndex((pre) => pre.scrollWidth > pre.clientWidth)"
    )
    assert blocks.count() >= 1 and wide >= 0  # one is wider than a phone
    for index in range(blocks.count()):  # each code block in turn, scrolled when it is wide
        page.evaluate(
            "(i) => document.querySelectorAll('.lesson__body pre')[i].dataset.kb = i", index
        )
        keys.tab_to(f".lesson__body pre[data-kb='{index}']")
        if index == wide:
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            blocks.nth(index).evaluate(  # the keys scroll it (smoothly: a moment)
                "pre => new Promise((done) => { const t = Date.now(); (function look() {"
                " if (pre.scrollLeft > 0 || Date.now() - t > 3000) done(); else"
                " requestAnimationFrame(look); })(); })"
            )
            assert blocks.nth(index).evaluate("pre => pre.scrollLeft") > 0
        code = blocks.nth(index).locator("code").inner_text()
        keys.tab_to(f".lesson__body pre[data-kb='{index}'] ~ button.code-copy, "
                    f".highlight:has(pre[data-kb='{index}']) button.code-copy")  # fmt: skip
        page.keyboard.press("Enter")
        assert page.evaluate("navigator.clipboard.readText()") == code.rstrip("\n")
        assert page.evaluate("document.activeElement.textContent") == "Copied"

    keys.tab_to(".pager__link--next")  # on to lesson 2
    keys.enter()
    assert page.url == lesson_url(demo, 2)

    keys.tab_to(".paywall input[name=pin]")
    page.keyboard.type(pin)
    keys.enter()
    assert "/accounts/signup/" in page.url

    keys.tab_to("input[name=email]")
    page.keyboard.type("keys@example.com")
    keys.enter()
    keys.tab_to("input[name=code]")
    page.keyboard.type(emailed_code("keys@example.com"))
    keys.enter()
    assert page.url == lesson_url(demo, 2)
    assert PREMIUM_TEXT in page.content()

    keys.tab_to(".lang-switch__option[hreflang=id]")
    keys.enter()
    assert page.url == lesson_url(f"{demo}/id", 2)
    assert page.locator("html").get_attribute("lang") == "id"
    assert keys.unseen == []
    assert tab.errors == []
    tab.close()
