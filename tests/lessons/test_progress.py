"""Reading progress: recorded by a small request of its own (a beacon from static/js/progress.js,
or the "mark as done" form without JavaScript), one write per report; shown on the series page
and as "continue where you left off" on the home page."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access import services
from accounts.models import User
from lessons.models import Progress
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db


def progress_url(lesson):
    return f"{lesson.get_absolute_url()}progress/"


def report(client, lesson, state, *, beacon=True):
    data = {"state": state, **({"via": "beacon"} if beacon else {})}
    return client.post(progress_url(lesson), data)


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


@pytest.fixture
def lessons(series):
    return [make_lesson(series, number=n, slug=f"l{n}", title=f"Lesson {n}") for n in (1, 2, 3)]


class TestTheLessonPage:
    def test_anonymous_readers_get_no_form_no_script_and_no_token(self, client, lessons):
        page = client.get(lessons[0].get_absolute_url()).text
        assert "progress" not in page.split("</head>")[1].replace("progress.js", "")
        assert "csrfmiddlewaretoken" not in page and "data-csrf" not in page

    def test_a_reader_gets_the_end_marker_the_form_and_the_script(self, reader_client, lessons):
        page = reader_client.get(lessons[0].get_absolute_url()).text
        assert 'id="site-lesson-end"' in page
        assert f'data-progress-url="{progress_url(lessons[0])}"' in page
        assert f'action="{progress_url(lessons[0])}"' in page and "Mark as done" in page
        assert '<script src="/static/js/progress.js" defer></script>' in page

    def test_the_page_itself_writes_nothing(self, reader_client, lessons):
        reader_client.get(lessons[0].get_absolute_url())  # the CSRF cookie is set once
        with CaptureQueriesContext(connection) as queries:
            reader_client.get(lessons[0].get_absolute_url())
        assert writes(queries) == []
        assert not Progress.objects.exists()


class TestRecording:
    def test_opening_is_one_write_and_answers_a_beacon_with_no_content(
        self, reader_client, reader, lessons
    ):
        with CaptureQueriesContext(connection) as queries:
            response = report(reader_client, lessons[0], "opened")
        assert response.status_code == 204
        assert len(writes(queries)) == 1
        progress = Progress.objects.get(user=reader, lesson=lessons[0])
        assert progress.finished_at is None
        first = progress.opened_at
        report(reader_client, lessons[0], "opened")
        progress.refresh_from_db()
        assert progress.opened_at == first and progress.seen_at > first

    def test_the_form_marks_it_done_and_returns_to_the_end_of_the_lesson(
        self, reader_client, reader, lessons
    ):
        response = report(reader_client, lessons[0], "done", beacon=False)
        assert response.status_code == 303
        assert response["Location"] == f"{lessons[0].get_absolute_url()}#site-lesson-end"
        assert Progress.objects.get(user=reader, lesson=lessons[0]).finished_at is not None
        page = reader_client.get(lessons[0].get_absolute_url()).text
        assert "data-progress-done" in page
        assert '<p class="lesson-end__done">' in page
        assert '<form class="lesson-end__form" method="post" action' in page  # hidden
        assert page.count(" hidden>") >= 1

    def test_opening_again_keeps_it_done(self, reader_client, reader, lessons):
        report(reader_client, lessons[0], "done")
        report(reader_client, lessons[0], "opened")
        assert Progress.objects.get(user=reader, lesson=lessons[0]).finished_at is not None

    def test_finishing_again_keeps_the_first_finish(
        self, reader_client, reader, lessons, monkeypatch
    ):
        """Read to the end on Monday and again on Friday: done since Monday, seen Friday."""
        report(reader_client, lessons[0], "done")
        first = Progress.objects.get(user=reader, lesson=lessons[0])
        friday = first.finished_at + timedelta(days=4)
        monkeypatch.setattr(timezone, "now", lambda: friday)
        with CaptureQueriesContext(connection) as queries:
            report(reader_client, lessons[0], "done")
        assert len(writes(queries)) == 1
        again = Progress.objects.get(user=reader, lesson=lessons[0])
        assert again.finished_at == first.finished_at
        assert again.opened_at == first.opened_at
        assert again.seen_at == friday

    def test_a_reader_who_gets_only_the_teaser_cannot_finish_it(
        self, reader_client, reader, series
    ):
        premium = make_lesson(series, number=5, access="premium")
        assert "Mark as done" not in reader_client.get(premium.get_absolute_url()).text
        report(reader_client, premium, "done")
        assert Progress.objects.get(user=reader, lesson=premium).finished_at is None
        services.grant(user=reader, series=series)
        report(reader_client, premium, "done")
        assert Progress.objects.get(user=reader, lesson=premium).finished_at is not None

    def test_only_logged_in_readers_only_published_lessons_only_known_states(
        self, reader_client, series, lessons
    ):
        assert report(Client(), lessons[0], "opened").status_code == 302  # to log in
        draft = make_lesson(series, number=9, status="draft")
        assert report(reader_client, draft, "opened").status_code == 404
        assert report(reader_client, lessons[0], "read").status_code == 400
        assert reader_client.get(progress_url(lessons[0])).status_code == 405
        assert not Progress.objects.exists()

    def test_a_report_needs_the_csrf_token(self, reader, lessons):
        client = Client(enforce_csrf_checks=True)
        client.force_login(reader)
        assert report(client, lessons[0], "opened").status_code == 403
        page = client.get(lessons[0].get_absolute_url()).text
        token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        response = client.post(
            progress_url(lessons[0]),
            {"state": "opened", "via": "beacon", "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 204

    def test_query_count_of_a_report(self, reader_client, lessons, django_assert_num_queries):
        # session with its user, lesson, the one write (a free lesson needs no entitlements)
        with django_assert_num_queries(3):
            report(reader_client, lessons[0], "done")


class TestTheSeriesPage:
    def test_shows_a_progress_bar_and_marks_lessons_done(self, reader_client, series, lessons):
        for lesson in lessons[:2]:
            report(reader_client, lesson, "done")
        report(reader_client, lessons[2], "opened")
        page = reader_client.get(series.get_absolute_url()).text
        assert "2 of 3 lessons read" in page
        assert (
            '<progress id="site-series-progress" class="progress__bar" max="3" value="2">' in page
        )
        assert page.count("lesson-list__item--done") == 2
        assert page.count('class="badge badge--done"') == 2
        assert page.count('class="badge badge--started"') == 1

    def test_a_reader_of_the_whole_series_is_sent_on_to_the_first_lesson_not_done(
        self, reader_client, reader, series
    ):
        premium = [make_lesson(series, number=n, access="premium") for n in (1, 2, 3)]
        services.grant(user=reader, series=series)
        report(reader_client, premium[0], "done")
        page = reader_client.get(series.get_absolute_url()).text
        assert "Continue with lesson 2" in page
        report(reader_client, premium[1], "done")
        assert "Continue with lesson 3" in reader_client.get(series.get_absolute_url()).text

    def test_anonymous_readers_get_no_bar(self, client, series, lessons):
        assert "<progress" not in client.get(series.get_absolute_url()).text

    @pytest.mark.parametrize("count", [2, 12])
    def test_costs_one_query_whatever_the_progress(
        self, reader_client, reader, django_assert_num_queries, count
    ):
        series = make_series()
        services.grant(user=reader, series=series)
        for number in range(1, count + 1):
            lesson = make_lesson(series, number=number, access="premium")
            Progress.objects.record(user=reader, lesson=lesson, finished=number % 2 == 0)
        # series, a page of lessons, and in one query the reader's session with their user,
        # their entitlements, their progress on the lessons and whether they follow the series
        with django_assert_num_queries(3):
            reader_client.get(series.get_absolute_url())

    @pytest.mark.parametrize("access", ["whole series", "none", "no premium lessons"])
    @pytest.mark.parametrize("count", [2, 12])
    def test_once_kept_costs_the_readers_own_queries_only(
        self, reader, django_assert_num_queries, access, count
    ):
        """The page is kept per tier (caching.kept.render_page): another reader of the tier,
        whatever their progress, costs their session with their user, then their
        entitlements, progress and follow in one query, and nothing of the series or its
        lessons."""
        series = make_series()
        kind = "free" if access == "no premium lessons" else "premium"
        lessons = [make_lesson(series, number=n, access=kind) for n in range(1, count + 1)]
        first, second = Client(), Client()
        first.force_login(make_user(email="first@example.com"))
        second.force_login(reader)
        if access == "whole series":
            for user in (reader, User.objects.get(email="first@example.com")):
                services.grant(user=user, series=series)
        for number, lesson in enumerate(lessons):
            Progress.objects.record(user=reader, lesson=lesson, finished=number % 2 == 0)
        first.get(series.get_absolute_url())
        # the reader's session with their user, entitlements, progress and follow, in one query
        with django_assert_num_queries(1):
            page = second.get(series.get_absolute_url()).text
        assert page.count('class="badge badge--done"') == (count + 1) // 2  # their own


class TestContinueWhereYouLeftOff:
    def test_the_last_lesson_opened_and_not_finished(self, reader_client, lessons):
        report(reader_client, lessons[0], "done")
        report(reader_client, lessons[1], "opened")
        page = reader_client.get("/").text
        assert "Continue where you left off" in page
        assert f'href="{lessons[1].get_absolute_url()}"' in page.split("resume__link")[1]

    def test_after_a_finished_lesson_the_next_one(self, reader_client, series, lessons):
        make_lesson(series, number=4, slug="l4-draft", status="draft")
        report(reader_client, lessons[1], "done")
        block = reader_client.get("/").text.split("resume__link")[1]
        assert f'href="{lessons[2].get_absolute_url()}"' in block
        assert "Lesson 3" in block

    def test_the_home_page_says_where_to_go_on_once(self, reader_client, reader, series):
        """Not "continue with lesson 3" above a card saying "continue with lesson 2"."""
        premium = [make_lesson(series, number=n, access="premium") for n in (1, 2, 3)]
        services.grant(user=reader, series=series)
        report(reader_client, premium[1], "done")
        page = reader_client.get("/").text
        assert len(re.findall(r"Continue where you left off|Continue with lesson", page)) == 1
        assert f'href="{premium[2].get_absolute_url()}"' in page.split("resume__link")[1]
        assert premium[1].get_absolute_url() not in page

    def test_nothing_after_the_last_lesson_or_before_any(self, reader_client, lessons):
        assert "Continue where you left off" not in reader_client.get("/").text
        report(reader_client, lessons[2], "done")
        assert "Continue where you left off" not in reader_client.get("/").text
        report(reader_client, lessons[1], "opened")
        assert "Continue where you left off" not in Client().get("/").text

    def test_a_lesson_no_longer_published_is_skipped(self, reader_client, reader, lessons):
        report(reader_client, lessons[0], "opened")
        Progress.objects.filter(lesson=lessons[0]).update(seen_at=timezone.now() - timedelta(1))
        report(reader_client, lessons[1], "opened")
        lessons[1].status = "draft"
        lessons[1].save()
        block = reader_client.get("/").text.split("resume__link")[1]
        assert f'href="{lessons[0].get_absolute_url()}"' in block
