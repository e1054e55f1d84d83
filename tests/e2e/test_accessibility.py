"""axe-core (pinned, tests/e2e/axe.py) finds no serious or critical violation on any page a
reader, a buyer or the seller uses: at 390 and 1280 px, light and dark, in both languages.

Each page is opened once per language; the four looks are then set on the same page (viewport
and colour scheme) and axe runs on each: every rule in light, and in dark the colour rules (the
dark scheme changes colours only)."""

import hashlib
import json

import pytest
from django.urls import reverse

from access import services
from lessons.models import Lesson
from tests.e2e import axe
from tests.e2e.people import log_in
from tests.e2e.test_browser import browser, demo  # noqa: F401 (fixtures)
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
LOOKS = [(width, scheme) for width in (390, 1280) for scheme in ("light", "dark")]
LANGUAGES = {"en": ("", "en-US"), "id": ("/id", "id-ID")}


def test_the_shipped_axe_is_the_pinned_release():
    data = (axe.ASSETS / axe.PIN["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == axe.PIN["sha256"]
    assert data.startswith(f"/*! axe v{axe.PIN['version']}".encode())


def audit(context, base, paths, *, before=None) -> dict:
    """{"path at width scheme": [violations]} for every look of every path."""
    page = context.new_page()
    found = {}
    for path in paths:
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(base + path)
        assert response.status == 200, path
        if before:
            before(page, path)
        for width, scheme in LOOKS:
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            violations = axe.serious_violations(page, colours_only=scheme == "dark")
            if violations:
                found[f"{page.url} at {width} px {scheme}"] = violations
    page.close()
    return found


def report(found: dict) -> str:
    return json.dumps(found, indent=1, ensure_ascii=False)


def new_context(browser, language):  # noqa: F811
    context = browser.new_context(locale=LANGUAGES[language][1])
    axe.inject(context)
    return context


def lesson_path(number):
    return Lesson.objects.select_related("series").get(number=number).get_absolute_url()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitors_pages(demo, browser, language):  # noqa: F811
    prefix = LANGUAGES[language][0]
    make_user(email="reader@example.com")
    lessons = [lesson_path(n) for n in range(1, 8)]  # lesson 1 free, the others' teasers
    paths = [
        "/",
        Lesson.objects.get(number=1).series.get_absolute_url(),
        *lessons,
        "/search/?q=engineer",
        "/access/redeem/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/login/code/",
    ]
    context = new_context(browser, language)
    found = audit(context, demo, [prefix + path for path in paths])
    # The page where the emailed code is typed.
    page = context.new_page()
    page.goto(f"{demo}{prefix}/accounts/login/code/")
    page.fill("input[name=email]", "reader@example.com")
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/code/confirm/")
    for width, scheme in LOOKS:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        if violations := axe.serious_violations(page, colours_only=scheme == "dark"):
            found[f"{page.url} at {width} px {scheme}"] = violations
    context.close()
    assert found == {}, report(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_buyers_pages(demo, browser, language):  # noqa: F811
    prefix = LANGUAGES[language][0]
    reader = make_user(email="buyer@example.com")
    services.grant(user=reader, series=Lesson.objects.get(number=2).series)
    paths = [
        "/",
        Lesson.objects.get(number=1).series.get_absolute_url(),
        *[lesson_path(n) for n in range(2, 8)],  # in full
        "/search/?q=engineer",
        "/access/mine/",
        "/access/redeem/",
    ]
    context = new_context(browser, language)
    log_in(context, demo, reader)
    found = audit(context, demo, [prefix + path for path in paths])
    context.close()
    assert found == {}, report(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sellers_pages(demo, browser, language):  # noqa: F811
    seller = make_user(email="seller@example.com", is_staff=True, is_superuser=True)
    series = Lesson.objects.get(number=2).series
    services.issue_pins(series=series, count=3, batch="promo")
    services.issue_pins(series=series, buyer="@budi.dev")
    lesson = Lesson.objects.get(number=2)
    paths = [
        reverse("admin:access_accesspin_for_buyer"),
        reverse("admin:access_accesspin_batches"),
        reverse("admin:access_dashboard"),
        reverse("admin:lessons_lesson_change", args=[lesson.pk]),  # with its live preview
    ]

    def preview_drawn(page, path):
        if "/lessons/lesson/" in path:
            page.frame_locator("iframe.writing__frame").locator(".teaser-cut").wait_for()

    context = new_context(browser, language)
    log_in(context, demo, seller)
    found = audit(context, demo, paths, before=preview_drawn)
    context.close()
    assert found == {}, report(found)
