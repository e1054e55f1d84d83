"""Every reader page laid out at 360, 390 and 1280 px, light and dark: the page never scrolls
sideways; code, tables and diagrams wider than their column scroll inside themselves and take
the keyboard's focus; every diagram shows a drawing; the paywall, the call to action, the header
and the footer fit the screen; every tap target is 44 px at least; no text is smaller than
12 px.

Each page is opened once; the six looks are set on it (viewport and colour scheme) in turn."""

import json

import pytest

from access import services
from lessons.models import Lesson
from tests.e2e.people import log_in
from tests.e2e.test_browser import browser, demo  # noqa: F401 (fixtures)
from tests.e2e.test_buyer import SMALL_TARGETS
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
LOOKS = [(width, scheme) for width in (360, 390, 1280) for scheme in ("light", "dark")]

# What does not fit, as sentences; [] when everything does.
PROBLEMS = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
    ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  }
  const inside = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";
  const focusable = (el) => el.tabIndex >= 0 || el.querySelector(inside);
  for (const el of document.querySelectorAll(".prose pre, .prose table, figure.diagram")) {
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    if (!["auto", "scroll"].includes(getComputedStyle(el).overflowX)) {
      problems.push(`${name(el)} is wider than its box and does not scroll`);
    } else if (!focusable(el)) {
      problems.push(`${name(el)} scrolls but the keyboard cannot reach it`);
    }
  }
  for (const figure of document.querySelectorAll("figure.diagram")) {
    const shown = [...figure.querySelectorAll("svg")].filter((svg) => {
      const box = svg.getBoundingClientRect();
      return getComputedStyle(svg).display !== "none" && box.width > 16 && box.height > 16;
    });
    if (shown.length !== 1) problems.push(`a diagram shows ${shown.length} drawings`);
  }
  const boxes = ".paywall, aside.offer, .site-header, .site-footer, .pager, .breadcrumbs";
  for (const el of document.querySelectorAll(boxes)) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.left < -0.5 || box.right > width + 0.5)) {
      problems.push(`${name(el)} does not fit: ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const el = text.parentElement;
    const aside = "svg, script, style, [hidden], .skip-link";
    if (!text.textContent.trim() || el.closest(aside)) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) small.add(`${name(el)} "${text.textContent.trim().slice(0, 20)}" ${size}px`);
  }
  if (small.size) problems.push(`text below 12 px: ${[...small].join("; ")}`);
  return problems;
}"""


def check(context, base, paths) -> dict:
    page = context.new_page()
    found = {}
    for path in paths:
        page.set_viewport_size({"width": 1280, "height": 900})
        assert page.goto(base + path).status == 200, path
        for width, scheme in LOOKS:
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            problems = page.evaluate(PROBLEMS)
            problems += [f"tap target {t}" for t in page.evaluate(SMALL_TARGETS)]
            if problems:
                found[f"{path} at {width} px {scheme}"] = problems
    page.close()
    return found


def lesson_path(number):
    return Lesson.objects.select_related("series").get(number=number).get_absolute_url()


def test_a_visitors_pages_fit_every_screen(demo, browser):  # noqa: F811
    paths = [
        "/",
        Lesson.objects.get(number=1).series.get_absolute_url(),
        *[lesson_path(n) for n in range(1, 8)],
        "/search/?q=engineer",
        "/access/redeem/",
        "/accounts/signup/",
        "/accounts/login/",
    ]
    context = browser.new_context()
    found = check(context, demo, paths)
    context.close()
    assert found == {}, json.dumps(found, indent=1)


def test_a_buyers_pages_fit_every_screen(demo, browser):  # noqa: F811
    reader = make_user(email="buyer@example.com")
    services.grant(user=reader, series=Lesson.objects.get(number=2).series)
    paths = [*[lesson_path(n) for n in range(1, 8)], "/access/mine/", "/id/access/mine/"]
    context = browser.new_context()
    log_in(context, demo, reader)
    found = check(context, demo, paths)
    context.close()
    assert found == {}, json.dumps(found, indent=1)
