"""Parts of a page kept in the worker and shared between readers ({% shared %}): each reader
still gets the page that is theirs, whoever came before them."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from access import services
from access.offer.services import save_offer
from accounts.models import User
from caching import kept
from lessons.models import Lesson, Progress
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db


def page(client, lesson, prefix=""):
    response = client.get(prefix + lesson.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_reader_without_access_gets_the_teaser_after_one_with_access_read_it_in_full(
    premium_lesson,
):
    buyer = make_user(email="buyer@example.com")
    services.grant(user=buyer, series=premium_lesson.series)
    with_access = Client()
    with_access.force_login(buyer)
    assert "SECRET-PREMIUM-SENTENCE" in page(with_access, premium_lesson)

    without = Client()
    without.force_login(make_user(email="other@example.com"))
    assert "SECRET-PREMIUM-SENTENCE" not in page(without, premium_lesson)
    assert "SECRET-PREMIUM-SENTENCE" not in page(Client(), premium_lesson)


def test_a_reader_with_access_gets_the_full_lesson_after_the_teaser_was_shown(premium_lesson):
    assert "SECRET-PREMIUM-SENTENCE" not in page(Client(), premium_lesson)
    buyer = make_user(email="buyer@example.com")
    services.grant(user=buyer, series=premium_lesson.series)
    with_access = Client()
    with_access.force_login(buyer)
    assert "SECRET-PREMIUM-SENTENCE" in page(with_access, premium_lesson)


def test_a_draft_staff_can_see_is_not_linked_for_readers_after_staff_read_its_neighbour(
    series, free_lesson, staff_client
):
    make_lesson(series, number=2, slug="draft", title="DRAFT-TITLE", status=Lesson.Status.DRAFT)
    assert "DRAFT-TITLE" in page(staff_client, free_lesson)
    assert "DRAFT-TITLE" not in page(Client(), free_lesson)
    buyer = logged_in("buyer@example.com")
    services.grant(user=User.objects.get(email="buyer@example.com"), series=series)
    assert "DRAFT-TITLE" not in page(buyer, free_lesson)


def test_the_header_is_the_readers_own_after_a_logged_in_reader(free_lesson, reader_client):
    assert "Log out" in page(reader_client, free_lesson)
    anonymous = page(Client(), free_lesson)
    assert "Log out" not in anonymous
    assert f"?next={free_lesson.get_absolute_url()}" in anonymous.replace("%2F", "/")


@pytest.mark.parametrize("logged_in", [False, True])
def test_each_page_is_in_its_addresss_language(free_lesson, reader, logged_in):
    client = Client()
    if logged_in:
        client.force_login(reader)
    page(client, free_lesson)
    indonesian = page(client, free_lesson, prefix="/id")
    assert '<html lang="id">' in indonesian
    assert "Langsung ke isi" in indonesian
    assert "Skip to content" in page(client, free_lesson)


def test_the_language_switch_links_to_the_page_it_is_on(series, free_lesson):
    other = make_lesson(series, number=3, slug="another", title="Another")
    page(Client(), free_lesson)
    html = page(Client(), other)
    assert f'href="/id{other.get_absolute_url()}" hreflang="id"' in html


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def test_each_reader_gets_their_own_csrf_token_in_a_shared_part(series, free_lesson):
    """The end of a lesson ("Mark as done") is kept for every logged-in reader who has not
    finished it; the token in it is each reader's own, and the kept part holds none."""
    readers = []
    for email in ("one@example.com", "two@example.com"):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user(email=email))
        tokens = set(CSRF.findall(page(client, free_lesson)))
        assert len(tokens) == 1 and "" not in tokens
        readers.append((client, tokens.pop()))
    (_, first_token), (second, second_token) = readers
    assert first_token != second_token
    held = "".join(
        str(entry[2])
        for store in (kept.fragments, kept.whole_pages)
        for entry in store.entries.values()
    )
    assert "csrfmiddlewaretoken" in held and kept.CSRF_MARKER in held
    assert first_token not in held and second_token not in held
    # Each token is good for its own reader's POST.
    progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
    response = second.post(progress, {"state": "done", "csrfmiddlewaretoken": second_token})
    assert response.status_code == 303


def test_an_anonymous_page_asks_for_no_csrf_token(premium_lesson):
    response = Client().get(premium_lesson.get_absolute_url())
    assert "csrfmiddlewaretoken" not in response.text
    assert "csrftoken" not in response.cookies


def logged_in(email):
    client = Client()
    client.force_login(make_user(email=email))
    return client


def test_a_message_for_one_reader_is_shown_to_them_and_to_nobody_else(premium_lesson):
    one, two = logged_in("one@example.com"), logged_in("two@example.com")
    page(two, premium_lesson)  # kept for logged-in readers without access
    one.post(reverse("access:lesson_emails"), {"lesson_emails": "on"})  # leaves a message
    message = "We will e-mail you when a new lesson comes out."
    assert message in page(one, premium_lesson)
    assert message not in page(two, premium_lesson)
    assert message not in page(one, premium_lesson)  # shown once


def test_staff_reading_a_premium_lesson_does_not_unlock_it_for_readers(
    premium_lesson, staff_client
):
    assert "SECRET-PREMIUM-SENTENCE" in page(staff_client, premium_lesson)
    assert "SECRET-PREMIUM-SENTENCE" not in page(logged_in("one@example.com"), premium_lesson)


def test_a_lesson_read_to_the_end_is_marked_done_for_that_reader_only(series, free_lesson):
    one, two = logged_in("one@example.com"), logged_in("two@example.com")
    progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
    one.post(progress, {"state": "done"})
    assert "data-progress-done" in page(one, free_lesson)
    assert "data-progress-done" not in page(two, free_lesson)


def test_under_a_free_lesson_each_reader_gets_their_own_call_to_action(
    series, free_lesson, premium_lesson
):
    series.offer.cta_message = "Buy the series from us."
    save_offer(series.offer)
    buyer = make_user(email="buyer@example.com")
    services.grant(user=buyer, series=series)
    with_access = Client()
    with_access.force_login(buyer)
    assert "Continue with lesson 2" in page(with_access, free_lesson)
    without = page(logged_in("two@example.com"), free_lesson)
    assert "Continue with lesson 2" not in without
    assert "Buy the series from us." in without


class TestTheSeriesPage:
    """A logged-in reader's series page is kept per series, page, tier (the lessons they may
    read, whether they have the whole series and follow it) and place (which of the listed
    lessons they opened and read to the end, and so how many they read and where they
    continue): readers at one place share one page, and each reader sees their own unlocked,
    started and done lessons, and their own offer, whoever came before."""

    @staticmethod
    def kept_pages() -> list:
        return [
            entry[2]
            for key, entry in kept.whole_pages.entries.items()
            if key[1] == "page:lessons/series.html"
        ]

    def test_readers_at_one_place_share_one_page_and_each_sees_only_their_own_marks(
        self, series, free_lesson, premium_lesson
    ):
        third = make_lesson(series, number=3, slug="free-three", title="Free three")
        done, started, new, also_done, also_new = (
            logged_in(f"{who}@example.com")
            for who in ("done", "started", "new", "also-done", "also-new")
        )
        for client in (done, also_done):
            for lesson in (free_lesson, third):
                client.post(
                    reverse("lessons:progress", args=[series.slug, lesson.slug]), {"state": "done"}
                )
        started.post(
            reverse("lessons:progress", args=[series.slug, third.slug]), {"state": "opened"}
        )
        for client in (done, started, new, also_done, also_new, done, new, started, also_new):
            page = self.series_page(client, series)
            marks = (
                page.count("lesson-list__item--done"),
                page.count('class="badge badge--done"'),
                page.count('class="badge badge--started"'),
                page.count('<span aria-hidden="true">✓</span>'),
            )
            if client in (done, also_done):
                assert marks == (2, 2, 0, 2) and "2 of 3 lessons read" in page
            elif client is started:
                assert marks == (0, 0, 1, 0) and "0 of 3 lessons read" in page
            else:
                assert marks == (0, 0, 0, 0) and "0 of 3 lessons read" in page
            assert 'class="offer' in page  # none of them has the whole series
        # one page for each place: read two, opened one, nothing yet
        kept_pages = ["".join(texts) for texts, _holes in self.kept_pages()]
        assert len(kept_pages) == 3
        assert sorted(page.count("badge--done") for page in kept_pages) == [0, 0, 2]
        assert sorted(page.count("badge--started") for page in kept_pages) == [0, 0, 1]

    def test_readers_who_may_read_more_or_follow_get_pages_of_their_own(
        self, series, free_lesson, premium_lesson
    ):
        from access import follows

        buyer, plain, follower = (logged_in(f"{w}@example.com") for w in ("b", "p", "f"))
        services.grant(user=User.objects.get(email="b@example.com"), series=series)
        follows.follow(user=User.objects.get(email="f@example.com"), series=series)
        for client in (buyer, plain, follower, buyer, plain, follower):
            page = self.series_page(client, series)
            assert ("badge--unlocked" in page) is (client is buyer)
            assert ('class="offer' in page) is (client is not buyer)
            assert ("Continue with lesson 2" in page) is (client is buyer)
            assert ("You follow" in page) is (client is follower)
            assert ('value="stop"' in page) is (client is follower)
        assert len(self.kept_pages()) == 3

    def test_readers_of_the_whole_series_each_get_their_own_count_and_way_on(self, series):
        """The progress bar and the way on follow from the reader's place: two readers of one
        tier, each further on than the other, never get each other's; two at one place share
        their page."""
        lessons = [make_lesson(series, number=n, access="premium") for n in (1, 2, 3)]
        ahead, behind, done, also_ahead = (
            logged_in(f"{who}@example.com") for who in ("a", "b", "d", "a2")
        )
        for who, finished in (("a", 2), ("b", 1), ("d", 3), ("a2", 2)):
            user = User.objects.get(email=f"{who}@example.com")
            services.grant(user=user, series=series)
            for lesson in lessons[:finished]:
                Progress.objects.record(user=user, lesson=lesson, finished=True)
        for client in (ahead, behind, done, also_ahead, ahead, behind, done, also_ahead):
            page = self.series_page(client, series)
            if client in (ahead, also_ahead):
                assert "Continue with lesson 3" in page and "2 of 3 lessons read" in page
            elif client is behind:
                assert "Continue with lesson 2" in page and "1 of 3 lessons read" in page
            else:
                assert "Continue with lesson" not in page and "3 of 3 lessons read" in page
            bar = re.search(r'<progress id="site-series-progress"[^>]*>', page).group(0)
            assert ('value="2"' in bar) is (client in (ahead, also_ahead))
        assert len(self.kept_pages()) == 3  # one page for each of the three places

    def series_page(self, client, series) -> str:
        response = client.get(series.get_absolute_url())
        assert response.status_code == 200
        return response.content.decode()

    def test_each_reader_sees_their_own_marks_whoever_came_before(
        self, series, free_lesson, premium_lesson
    ):
        buyer = logged_in("buyer@example.com")
        services.grant(user=User.objects.get(email="buyer@example.com"), series=series)
        progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
        buyer.post(progress, {"state": "done"})
        theirs = self.series_page(buyer, series)
        assert "badge--unlocked" in theirs and "badge--done" in theirs
        assert "1 of 2 lessons read" in theirs

        other = self.series_page(logged_in("two@example.com"), series)
        assert "badge--unlocked" not in other and "badge--done" not in other
        assert "0 of 2 lessons read" in other
        assert 'class="offer' in other and 'class="offer' not in theirs

    def test_a_lesson_finished_shows_as_done_at_once(self, series, free_lesson, premium_lesson):
        reader = logged_in("one@example.com")
        assert "badge--done" not in self.series_page(reader, series)
        progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
        reader.post(progress, {"state": "done"})
        assert "badge--done" in self.series_page(reader, series)

    def test_a_reader_of_the_whole_series_is_invited_to_continue_and_a_reader_of_each_lesson_not(
        self, series, premium_lesson
    ):
        whole = logged_in("whole@example.com")
        services.grant(user=User.objects.get(email="whole@example.com"), series=series)
        assert "Continue with lesson 2" in self.series_page(whole, series)
        each = logged_in("each@example.com")
        user = User.objects.get(email="each@example.com")
        services.grant(user=user, series=series, lessons=[premium_lesson])
        assert "Continue with lesson 2" not in self.series_page(each, series)

    def test_a_reader_of_one_lesson_and_a_reader_of_none_each_see_their_own(
        self, series, premium_lesson
    ):
        one = logged_in("one@example.com")
        user = User.objects.get(email="one@example.com")
        services.grant(user=user, series=series, lessons=[premium_lesson])
        assert "badge--unlocked" in self.series_page(one, series)
        assert "badge--unlocked" not in self.series_page(logged_in("none@example.com"), series)

    def test_a_reader_who_started_and_one_who_finished_each_see_their_own(
        self, series, free_lesson
    ):
        started, finished = logged_in("started@example.com"), logged_in("done@example.com")
        progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
        started.post(progress, {"state": "opened"})
        finished.post(progress, {"state": "opened"})
        finished.post(progress, {"state": "done"})
        assert "badge--started" in self.series_page(started, series)
        page = self.series_page(finished, series)
        assert "badge--done" in page and "badge--started" not in page

    def test_a_lesson_one_reader_started_is_not_started_for_the_next(self, series, free_lesson):
        started = logged_in("started@example.com")
        progress = reverse("lessons:progress", args=[series.slug, free_lesson.slug])
        started.post(progress, {"state": "opened"})
        assert "badge--started" in self.series_page(started, series)
        assert "badge--started" not in self.series_page(logged_in("new@example.com"), series)
