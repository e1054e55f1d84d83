"""Counting paywall views without defeating page caching: logged-in readers' pages report it
once, after loading; anonymous pages carry nothing per visitor and the lesson page writes
nothing. PINs typed into a paywall are counted for its lesson."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from access.models import PaywallView, RedemptionAttempt
from tests.access.helpers import REDEEM, issue
from tests.accounts.flows import sign_up
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
SEEN = "/access/seen/"


def writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "accounts_session" not in q["sql"]
    ]


def test_a_logged_in_readers_paywall_carries_the_beacon(reader_client, premium_lesson):
    page = reader_client.get(premium_lesson.get_absolute_url()).text
    assert f'data-lesson="{premium_lesson.pk}" data-count-view data-paywall-seen="{SEEN}"' in page
    assert "js/paywall.js" in page


def test_an_anonymous_page_carries_nothing_per_visitor_and_writes_nothing(premium_lesson):
    with CaptureQueriesContext(connection) as queries:
        page = Client().get(premium_lesson.get_absolute_url()).text
    assert "data-paywall-seen" not in page
    assert "paywall.js" not in page
    assert f'name="lesson" value="{premium_lesson.pk}"' in page  # the same for everyone
    assert writes(queries) == []
    assert not PaywallView.objects.exists()


def test_the_lesson_page_itself_never_writes_for_a_logged_in_reader(reader_client, premium_lesson):
    with CaptureQueriesContext(connection) as queries:
        reader_client.get(premium_lesson.get_absolute_url())
    assert writes(queries) == []


def test_the_beacon_records_a_reader_once_per_lesson_with_one_small_write(premium_lesson, reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    page = client.get(premium_lesson.get_absolute_url())
    # as paywall.js does: the token of the paywall's PIN form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            data = {"lesson": premium_lesson.pk, "csrfmiddlewaretoken": token}
            response = client.post(SEEN, data)
        assert response.status_code == 204
        assert "no-store" in response["Cache-Control"]
        assert len(writes(queries)) == 1
    assert PaywallView.objects.filter(user=reader, lesson=premium_lesson).count() == 1


def test_the_beacon_needs_the_csrf_token(premium_lesson, reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    assert client.post(SEEN, {"lesson": premium_lesson.pk}).status_code == 403
    assert not PaywallView.objects.exists()


@pytest.mark.parametrize(
    "case", ["anonymous", "free lesson", "draft", "not a number", "no such lesson"]
)
def test_the_beacon_ignores_what_is_not_a_readers_visible_paywall(
    client, reader, series, premium_lesson, free_lesson, case
):
    if case != "anonymous":
        client.force_login(reader)
    lesson = {
        "free lesson": free_lesson.pk,
        "draft": make_lesson(series, number=9, access="premium", status="draft").pk,
        "not a number": "2; DROP TABLE",
        "no such lesson": 999_999,
    }.get(case, premium_lesson.pk)
    assert client.post(SEEN, {"lesson": lesson}).status_code == 204
    assert not PaywallView.objects.exists()


def test_the_beacon_answers_only_posts(reader_client):
    assert reader_client.get(SEEN).status_code == 405


def test_a_pin_typed_into_a_paywall_is_counted_for_its_lesson(reader_client, premium_lesson):
    pin = issue(premium_lesson.series)
    reader_client.post(
        REDEEM,
        {"pin": pin, "lesson": premium_lesson.pk, "next": premium_lesson.get_absolute_url()},
    )
    attempt = RedemptionAttempt.objects.get()
    assert (attempt.outcome, attempt.lesson) == ("unlocked", premium_lesson)


def test_a_pin_typed_before_signing_up_is_counted_for_its_lesson_too(client, premium_lesson):
    pin = issue(premium_lesson.series)
    url = premium_lesson.get_absolute_url()
    client.post(REDEEM, {"pin": pin, "lesson": premium_lesson.pk, "next": url})
    sign_up(client, "newcomer@example.com", next_url=url)
    attempt = RedemptionAttempt.objects.get()
    assert (attempt.outcome, attempt.lesson, attempt.user.email) == (
        "unlocked", premium_lesson, "newcomer@example.com",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_a_bad_lesson_value_never_stops_a_redemption(reader_client, premium_lesson, value):
    pin = issue(premium_lesson.series)
    reader_client.post(REDEEM, {"pin": pin, "lesson": value})
    attempt = RedemptionAttempt.objects.get()
    assert (attempt.outcome, attempt.lesson) == ("unlocked", None)


def test_the_staff_preview_sends_no_beacon(premium_lesson):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/lessons/lesson/{premium_lesson.pk}/preview/").text
    assert "data-paywall-seen" not in page
    assert "data-offer=" not in page and "offer.js" not in page  # nothing counted either
