"""What a reader sees of their access: marks on the series page, and "My access"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import services
from access.models import Entitlement
from tests.access.helpers import issue
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db


def test_series_page_marks_unlocked_lessons(reader_client, reader, series):
    make_lesson(series, number=1, access="free")
    two = make_lesson(series, number=2, access="premium")
    make_lesson(series, number=3, access="premium")
    services.grant(user=reader, series=series, lessons=[two])
    page = reader_client.get(series.get_absolute_url()).text
    assert page.count("badge--unlocked") == 1
    assert page.count("badge--premium") == 1


def test_my_access_lists_entitlements_with_source_and_end(reader_client, reader, series):
    services.redeem(user=reader, typed_pin=issue(series, access_days=30))
    other = make_series(title="Another series")
    services.grant(user=reader, series=other)
    page = reader_client.get("/access/mine/").text
    assert "redeemed PIN …" in page
    assert "granted by the author" in page
    assert "Active</span> until" in page
    assert "no end date" in page
    assert "Another series" in page


def test_my_access_shows_ended_and_revoked_access(reader_client, reader, series):
    services.grant(user=reader, series=series, expires_at=timezone.now() - timedelta(days=1))
    services.revoke_entitlements(
        Entitlement.objects.filter(pk=services.grant(user=reader, series=series).pk), reason="x"
    )
    page = reader_client.get("/access/mine/").text
    assert "Ended</span>" in page
    assert "Revoked</span>" in page


def test_my_access_names_what_a_narrowed_entitlement_still_covers(reader_client, reader, series):
    two = make_lesson(series, number=2, access="premium")
    three = make_lesson(series, number=3, access="premium")
    services.grant(user=reader, series=series, lessons=[two, three])
    assert "Lessons 2, 3" in reader_client.get("/access/mine/").text
    two.delete()
    three.delete()
    page = reader_client.get("/access/mine/").text
    assert "No lessons (they were deleted)" in page
    assert "All premium lessons" not in page


@pytest.mark.parametrize(
    ("numbers", "label"),
    [((2, 3, 4, 5, 6, 7), "Lessons 2–7"), ((2, 3, 4, 6), "Lessons 2–4, 6"), ((3,), "Lesson 3")],
)
def test_my_access_writes_runs_of_lessons_with_an_en_dash(
    reader_client, reader, series, numbers, label
):
    lessons = [make_lesson(series, number=n, access="premium") for n in numbers]
    services.grant(user=reader, series=series, lessons=lessons)
    assert f"{label} ·" in reader_client.get("/access/mine/").text


def test_my_access_needs_a_login(client):
    response = client.get("/access/mine/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_expired_and_revoked_entitlements_lock_the_lesson_again(reader_client, reader, series):
    lesson = make_lesson(series, access="premium", body="Intro.\n\n<!-- more -->\n\nSECRET")
    entitlement = services.grant(user=reader, series=series)
    assert "SECRET" in reader_client.get(lesson.get_absolute_url()).text
    services.revoke_entitlements(Entitlement.objects.filter(pk=entitlement.pk), reason="refund")
    assert "SECRET" not in reader_client.get(lesson.get_absolute_url()).text


def test_staff_read_premium_lessons_in_full(staff_client, premium_lesson):
    assert "SECRET-PREMIUM-SENTENCE" in staff_client.get(premium_lesson.get_absolute_url()).text


class TestQueryCounts:
    """Locked and unlocked lesson pages cost the same whatever a reader holds."""

    # the session with its user, the reader's entitlements in the series and their progress
    # on the lesson, in one query; lesson, previous, next (shared by every reader once worked
    # out: lessons/pages.py); the text the page shows (kept with the page, per tier)
    LESSON_PAGE = 5
    # the same query whether the reader can read the lesson or not
    LOCKED_LESSON_PAGE = 5

    @pytest.mark.parametrize("held", [0, 1, 15])
    def test_locked_lesson(self, reader_client, reader, django_assert_num_queries, held):
        lesson = make_lesson(make_series(), access="premium")
        for _ in range(held):
            services.grant(user=reader, series=make_series())
        with django_assert_num_queries(self.LOCKED_LESSON_PAGE):
            response = reader_client.get(lesson.get_absolute_url())
        assert 'class="paywall"' in response.text

    @pytest.mark.parametrize("held", [1, 15])
    def test_unlocked_lesson(self, reader_client, reader, django_assert_num_queries, held):
        series = make_series()
        lessons = [make_lesson(series, access="premium") for _ in range(5)]
        for _ in range(held):
            services.grant(user=reader, series=series, lessons=lessons)
        with django_assert_num_queries(self.LESSON_PAGE):
            response = reader_client.get(lessons[2].get_absolute_url())
        assert 'class="paywall"' not in response.text

    @pytest.mark.parametrize("count", [2, 12])
    def test_series_page_for_a_reader(
        self, reader_client, reader, django_assert_num_queries, count
    ):
        series = make_series()
        for _ in range(count):
            make_lesson(series, access="premium")
        services.grant(user=reader, series=series)
        # series, lessons, then in one query the reader's session with their user, their
        # entitlements, their progress and whether they follow the series
        with django_assert_num_queries(3):
            reader_client.get(series.get_absolute_url())

    def test_free_lesson_loads_entitlements_once_for_its_call_to_action(
        self, reader_client, free_lesson, django_assert_num_queries
    ):
        # session with its user, lesson, previous, next, its text, entitlements (to show the
        # offer) with progress, whether the reader follows the series (the follow box)
        with django_assert_num_queries(self.LESSON_PAGE + 1):
            reader_client.get(free_lesson.get_absolute_url())
