"""The site in each language with JavaScript turned off: a visitor finds the series from the
home page, reads lesson 1 with its diagram and code, goes on to lesson 2, types the PIN in its
paywall, signs up with the emailed code and reads lesson 2 in full; the switcher then shows the
same lesson in the other language. Each page is in the language of its address."""

import pytest

from access import services
from lessons.models import Lesson
from tests.e2e.test_browser import (  # noqa: F401 (fixtures)
    Page,
    browser,
    demo,
    finish_sign_up,
    lesson_url,
)

pytestmark = pytest.mark.django_db(transaction=True)
PREMIUM_TEXT = "What a model actually does"  # lesson 2, after its <!-- more -->
WORDS = {
    "en": {"toc": "In this lesson", "pin": "Access PIN", "unlocked": "Unlocked:", "other": "id"},
    "id": {"toc": "Di pelajaran ini", "pin": "PIN akses", "unlocked": "Terbuka!", "other": "en"},
}


@pytest.mark.parametrize("language", WORDS)
def test_reading_redeeming_navigating_and_signing_up_work_without_javascript(
    demo,  # noqa: F811
    browser,  # noqa: F811
    language,
):
    words = WORDS[language]
    site = demo if language == "en" else f"{demo}/id"
    pin = services.issue_pins(series=Lesson.objects.get(number=2).series)[0].pin
    tab = Page(browser, java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = tab.page
    page.goto(site + "/")
    assert page.locator("html").get_attribute("lang") == language
    page.click(".card__title a")
    page.wait_for_load_state()
    page.click(".lesson-list__link >> nth=0")
    page.wait_for_load_state()
    assert page.url == lesson_url(site, 1)

    assert page.locator(".toc summary").inner_text() == words["toc"]
    assert page.locator("figure.diagram svg:visible").count() == 1  # drawn, no script
    assert page.locator(".lesson__body pre code").first.inner_text().strip()
    page.click(".pager__link--next")
    page.wait_for_load_state()
    assert page.url == lesson_url(site, 2)
    assert PREMIUM_TEXT not in page.content()

    assert page.locator(".paywall label[for=id_pin]").inner_text() == words["pin"]
    page.fill(".paywall input[name=pin]", pin)
    page.click(".paywall button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/signup/" in page.url
    assert page.locator("html").get_attribute("lang") == language
    email = f"nojs-{language}@example.com"
    finish_sign_up(page, email)
    assert page.url == lesson_url(site, 2)
    assert PREMIUM_TEXT in page.content() and page.locator(".paywall").count() == 0
    assert page.locator(".message").inner_text().startswith(words["unlocked"])

    page.click(f".lang-switch__option[hreflang={words['other']}]")
    page.wait_for_load_state()
    other = demo if words["other"] == "en" else f"{demo}/id"
    assert page.url == lesson_url(other, 2)
    assert page.locator("html").get_attribute("lang") == words["other"]
    assert PREMIUM_TEXT in page.content()
    assert tab.errors == []
    tab.close()
