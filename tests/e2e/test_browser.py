"""In a real browser (Debian's Chromium, driven by Playwright): what a reader sees and does."""

import os
import re
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from access import services
from lessons.models import Lesson, Progress
from tests.accounts.flows import emailed_code
from tests.factories import make_user

CHROMIUM = "/usr/bin/chromium"
DEMO = Path(__file__).resolve().parents[2] / "content" / "became-ai-engineer"

if not Path(CHROMIUM).exists():
    reason = f"no browser at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # tests make from here are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def requests_in_flight():
    """The live server's threads still answering a request (one thread per request)."""
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


@pytest.fixture
def demo(live_server):
    call_command("import_series", str(DEMO), stdout=open(os.devnull, "w"))  # noqa: SIM115
    yield live_server.url
    # A closed tab may still have a request on its way (a page's beacon sent as it is left): the
    # live server shares the test's SQLite connection, so the database is emptied only once the
    # server has answered it.
    deadline = time.monotonic() + 30
    while requests_in_flight() and time.monotonic() < deadline:
        time.sleep(0.05)


class Page:
    """A browser tab that records every console error and failed request."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on(
            "console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}")
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page: {e}"))
        self.page.on("requestfailed", self._request_failed)

    def _request_failed(self, request):
        # A request cancelled because the page moved on (a favicon, say) is not an error.
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request: {request.url} {request.failure}")

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser):
    tab = Page(browser)
    yield tab
    tab.close()


def sign_up(page, base, email, next_url="/"):
    page.goto(f"{base}/accounts/signup/?next={next_url}")
    finish_sign_up(page, email)


def finish_sign_up(page, email):
    """On the sign-up page: the email address, then the code the site emailed."""
    page.fill("input[name=email]", email)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", emailed_code(email))
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def lesson_url(base, number):
    lesson = Lesson.objects.select_related("series").get(number=number)
    return base + lesson.get_absolute_url()


DIAGRAM_FACTS = """() => {
  const figure = document.querySelector("figure.diagram");
  const drawings = [...figure.querySelectorAll("svg")];
  const svg = drawings.find((s) => s.getBoundingClientRect().width > 0);
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll("text")];
  const byId = (id) => document.getElementById(id);
  const fill = (label, selector) => {
    const text = texts.find((t) => t.textContent === label);  // in the drawing shown
    return getComputedStyle(text.parentNode.querySelector(selector)).fill;
  };
  return {
    drawings: drawings.length,
    shown: svg.getAttribute("class"),
    smallestTextPx: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale)),
    overflowX: getComputedStyle(figure).overflowX,
    scrollWidth: figure.scrollWidth,
    clientWidth: figure.clientWidth,
    pageWidth: document.documentElement.scrollWidth,
    // Structured data (never run) and the site's own copy-button, progress, paywall and offer
    // scripts aside, no script: none draws diagrams.
    scripts: [...document.scripts]
      .filter((s) => s.type !== "application/ld+json")
      .filter((s) => !/[/]static[/]js[/](copy|progress|paywall|offer)[.]/.test(s.src)).length,
    colouredNode: fill("AI engineers", "rect"),
    colouredText: fill("AI engineers", "text"),
    plainNode: fill("ML researchers", "rect"),
    plainText: fill("ML researchers", "text"),
    name: svg.getAttribute("role") + ": " + byId(svg.getAttribute("aria-labelledby")).textContent,
    description: byId(svg.getAttribute("aria-describedby")).textContent,
  };
}"""


def test_a_desktop_shows_the_diagram_as_the_author_drew_it_in_full(demo, tab):
    tab.page.set_viewport_size({"width": 1280, "height": 900})
    tab.page.goto(lesson_url(demo, 1))
    facts = tab.page.evaluate(DIAGRAM_FACTS)
    assert "diagram__svg--wide" in facts["shown"]
    assert facts["scrollWidth"] <= facts["clientWidth"]  # fits: nothing to scroll
    assert facts["smallestTextPx"] >= 11.99
    assert tab.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_lesson_one_shows_its_server_drawn_diagram_readable_on_a_phone(demo, browser, scheme):
    tab = Page(browser, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    response = tab.page.goto(lesson_url(demo, 1))
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    # One drawing is shown, and it alone is an image to assistive technology.
    assert tab.page.get_by_role("img", name="Flowchart").is_visible()
    facts = tab.page.evaluate(DIAGRAM_FACTS)
    assert facts["scripts"] == 0  # drawn at save: the page needs no diagram script
    # The left-to-right flowchart comes drawn top to bottom too; a phone shows that one.
    assert facts["drawings"] == 2 and "diagram__svg--narrow" in facts["shown"]
    assert facts["smallestTextPx"] >= 11.99
    # Still wider than a phone: the figure scrolls sideways, the page does not.
    assert facts["overflowX"] == "auto" and facts["scrollWidth"] > facts["clientWidth"]
    assert facts["pageWidth"] <= 390
    # The author's colours stay in both schemes, with dark text on them; the rest follows it.
    assert facts["colouredNode"] == "rgb(215, 240, 233)"
    assert facts["colouredText"] == "rgb(11, 61, 51)"
    plain = [int(c) for c in re.findall(r"\d+", facts["plainNode"])[:3]]
    assert (sum(plain) / 3 < 80) is (scheme == "dark")
    assert facts["plainText"] != facts["plainNode"]
    assert facts["name"] == "img: Flowchart"
    assert "ML researchers to ML engineers and model builders: new methods." in facts["description"]
    last_node = tab.page.locator("figure.diagram text:visible", has_text=re.compile("^End users$"))
    box = last_node.bounding_box()
    assert box["x"] + box["width"] > 390  # out of view at first...
    tab.page.locator("figure.diagram").evaluate("f => { f.scrollLeft = f.scrollWidth; }")
    box = last_node.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # ...and scrolled into it
    tab.page.wait_for_load_state("networkidle")
    assert tab.errors == []  # console errors include every CSP violation
    tab.close()


def test_a_new_reader_unlocks_premium_lessons_with_a_lowercase_pin(demo, browser):
    pin = services.issue_pins(series=Lesson.objects.get(number=2).series)[0].pin
    first = Page(browser)
    page = first.page
    sign_up(page, demo, "first@example.com")
    page.goto(lesson_url(demo, 2))
    assert page.locator(".paywall").is_visible()
    full_text = Lesson.objects.get(number=2).body_html
    assert "Exercise" in full_text and "Exercise" not in page.content()

    page.fill(".paywall input[name=pin]", pin.lower().replace("-", ""))
    page.click(".paywall button[type=submit]")
    page.wait_for_load_state()
    assert page.url == lesson_url(demo, 2)
    assert "Unlocked" in page.content()
    assert page.locator(".paywall").count() == 0
    assert "Exercise" in page.content()
    page.goto(lesson_url(demo, 7))
    assert page.locator(".paywall").count() == 0
    assert first.errors == []
    first.close()

    second = Page(browser)
    page = second.page
    sign_up(page, demo, "second@example.com")
    page.goto(lesson_url(demo, 2))
    page.fill(".paywall input[name=pin]", pin)
    page.click(".paywall button[type=submit]")
    page.wait_for_load_state()
    assert "That PIN has already been used" in page.content()
    for _ in range(5):
        page.fill("input[name=pin]", "WRONG-PIN0-000")
        page.click("form.redeem-form button[type=submit]")
        page.wait_for_load_state()
    assert "Too many wrong PINs" in page.content()
    assert page.locator(".paywall").count() == 0  # still on the redeem page, not the lesson
    second.close()


def test_an_anonymous_reader_is_sent_to_sign_up_and_lands_back_unlocked(demo, tab):
    pin = services.issue_pins(series=Lesson.objects.get(number=3).series)[0].pin
    page = tab.page
    page.goto(lesson_url(demo, 3))
    page.fill(".paywall input[name=pin]", pin)
    page.click(".paywall button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/signup/" in page.url
    assert page.locator("text=Your access PIN is ready").is_visible()
    finish_sign_up(page, "late@example.com")
    assert page.url == lesson_url(demo, 3)
    assert page.locator(".paywall").count() == 0
    assert page.locator(".message").all_inner_texts() == [
        "Unlocked: you can now read the premium lessons of “Became an AI Engineer”."
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_lessons_fit_a_phone_in_light_and_dark(demo, browser, scheme):
    tab = Page(browser, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    tab.page.goto(lesson_url(demo, 1))
    tab.page.wait_for_selector("figure.diagram svg:visible")
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    background = tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) / 3 < 60) is (scheme == "dark")
    assert tab.errors == []
    tab.close()


def test_the_skip_link_is_the_first_stop_for_keyboard_readers(demo, tab):
    tab.page.goto(lesson_url(demo, 1))
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    assert tab.page.locator("h1").count() == 1


def test_the_seller_copies_a_fresh_pin_and_its_message_on_a_phone(demo, browser):
    # (A transactional test database has no groups; the owner is a superuser.)
    seller = make_user(
        email="seller@example.com", password="a-long-pass-phrase-9", is_staff=True,
        is_superuser=True,
    )  # fmt: skip
    tab = Page(
        browser,
        viewport={"width": 390, "height": 844},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = tab.page
    page.goto(f"{demo}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", seller.email)
    page.fill("input[name=password]", "a-long-pass-phrase-9")
    page.click("form:has(input[name=password]) button[type=submit]")
    page.click("text=Issue a PIN for a buyer")
    page.fill("input[name=buyer]", "@sari.codes")
    page.click("input[type=submit]")
    pin = page.locator("#handoff-pin").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#handoff-pin").bounding_box()
    assert box["height"] < 60  # the PIN sits on one line
    page.click("text=Copy message")
    message = page.evaluate("navigator.clipboard.readText()")
    assert pin in message and f"{demo}/access/redeem/" in message
    assert page.locator("text=Message copied").is_visible()
    assert tab.errors == []
    tab.close()


def test_a_new_reader_on_a_phone_meets_the_call_to_action_after_lesson_one(demo, browser):
    tab = Page(browser, viewport={"width": 390, "height": 844}, locale="id-ID")
    page = tab.page
    page.goto(demo + "/id" + lesson_url(demo, 1)[len(demo) :])
    assert page.locator("html").get_attribute("lang") == "id"
    offer = page.locator("aside.offer")
    offer.scroll_into_view_if_needed()
    dm = offer.locator("a.offer__dm")
    assert dm.is_visible() and dm.get_attribute("href") == "https://ig.me/m/became.ai.engineer"
    assert "Kirim DM di Instagram" in dm.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert tab.errors == []
    tab.close()


def log_in_as_owner(page, demo):
    owner = make_user(
        email="owner@example.com", password="a-long-pass-phrase-9", is_staff=True,
        is_superuser=True,
    )  # fmt: skip
    page.goto(f"{demo}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", "a-long-pass-phrase-9")
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{demo}/admin/")
    return owner


def test_the_live_preview_follows_the_author_and_shows_the_teaser_end(demo, tab):
    page = tab.page
    log_in_as_owner(page, demo)
    lesson = Lesson.objects.get(number=2)
    page.goto(f"{demo}/admin/lessons/lesson/{lesson.pk}/change/")
    frame = page.frame_locator("iframe.writing__frame")
    frame.locator(".teaser-cut").wait_for()
    body = page.locator("textarea#id_body")
    body.press("Control+End")
    body.type("\n\nA brand new closing paragraph, typed live.\n\n")
    body.type("```mermaid\nflowchart LR\n  A --> B\n```\n")
    frame.locator("text=A brand new closing paragraph, typed live.").wait_for(timeout=10_000)
    frame.locator("figure.diagram svg").last.wait_for()
    assert "min read" in frame.locator(".live-preview__facts").inner_text()
    assert tab.errors == []


def test_a_logged_in_readers_paywall_view_is_counted_once_after_the_page_loads(demo, tab):
    from access.models import PaywallView

    reader = make_user(email="reader@example.com", password="a-long-pass-phrase-9")
    page = tab.page
    page.goto(f"{demo}/accounts/login/")
    page.fill("input[name=login]", reader.email)
    page.fill("input[name=password]", "a-long-pass-phrase-9")
    page.click("form:has(input[name=password]) button[type=submit]")
    with page.expect_request(lambda r: r.url.endswith("/access/seen/")):
        page.goto(lesson_url(demo, 2))
        page.locator("aside.paywall").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.reload()
    page.locator("aside.paywall").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    assert PaywallView.objects.filter(user=reader, lesson__number=2).count() == 1
    assert tab.errors == []


def test_code_blocks_get_a_copy_button_and_stay_selectable_without_javascript(demo, browser):
    tab = Page(
        browser,
        viewport={"width": 390, "height": 844},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = tab.page
    page.goto(lesson_url(demo, 1))
    block = page.locator(".lesson__body .highlight").first
    button = block.locator("button.code-copy")
    button.scroll_into_view_if_needed()
    button.click()
    code = block.locator("code").inner_text()
    assert page.evaluate("navigator.clipboard.readText()") == code.rstrip("\n")
    assert button.inner_text() == "Copied"
    assert tab.errors == []
    tab.close()

    plain = Page(browser, java_script_enabled=False)
    plain.page.goto(lesson_url(demo, 1))
    assert plain.page.locator("button.code-copy").count() == 0
    assert plain.page.locator(".lesson__body pre code").first.inner_text().strip()
    plain.close()


def test_reaching_the_end_of_a_lesson_records_it_and_the_series_shows_progress(demo, browser):
    tab = Page(browser, viewport={"width": 390, "height": 844})
    page = tab.page
    sign_up(page, demo, "progress@example.com")
    page.goto(lesson_url(demo, 1))
    assert Progress.objects.count() == 0  # the page itself records nothing
    page.locator("#site-lesson-end").scroll_into_view_if_needed()
    page.wait_for_selector(".lesson-end__done:visible")
    for _ in range(50):  # the beacon is on its way
        if Progress.objects.filter(finished_at__isnull=False).exists():
            break
        page.wait_for_timeout(100)
    assert Progress.objects.get().lesson.number == 1
    page.goto(lesson_url(demo, 2))  # a premium lesson: opened, not finished
    page.goto(demo + Lesson.objects.get(number=1).series.get_absolute_url())
    assert "1 of 7 lessons read" in page.content()
    assert page.locator(".lesson-list__item--done").count() == 1
    page.goto(demo + "/")
    assert (
        page.locator(".resume__link")
        .get_attribute("href")
        .endswith(Lesson.objects.get(number=2).get_absolute_url())
    )
    assert tab.errors == []
    tab.close()


def test_a_keyboard_reader_on_mark_as_done_keeps_their_place_when_the_lesson_is_recorded(
    demo, browser
):
    """Tabbing to "Mark as done" brings the lesson's end into view, which records it and puts
    the note in the form's place: the focus goes to the note, not back to the page's top."""
    tab = Page(browser, viewport={"width": 390, "height": 844})
    page = tab.page
    sign_up(page, demo, "keyboard-end@example.com")
    page.goto(lesson_url(demo, 1))
    page.locator(".lesson-end__form button").focus()
    page.wait_for_selector(".lesson-end__done:visible")
    assert page.evaluate("document.activeElement.className") == "lesson-end__done"
    page.keyboard.press("Tab")  # on from where they were
    assert page.evaluate(
        "document.querySelector('#site-lesson-end').compareDocumentPosition("
        "document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert tab.errors == []
    tab.close()


def test_mark_as_done_works_without_javascript(demo, browser):
    reader = make_user(email="nojs@example.com", password="a-long-pass-phrase-9")
    tab = Page(browser, java_script_enabled=False)
    page = tab.page
    page.goto(f"{demo}/accounts/login/")
    page.fill("input[name=login]", reader.email)
    page.fill("input[name=password]", "a-long-pass-phrase-9")
    page.click("form:has(input[name=password]) button[type=submit]")
    page.goto(lesson_url(demo, 1))
    page.click("text=Mark as done")
    page.wait_for_load_state()
    assert page.url == lesson_url(demo, 1) + "#site-lesson-end"
    assert page.locator(".lesson-end__done").is_visible()
    tab.close()
