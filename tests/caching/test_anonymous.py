"""Anonymous readers' pages come whole from the cache; nothing personal is ever stored."""

import pytest
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.test import Client

from access import services
from caching import anonymous, generation
from lessons.models import Lesson
from lessons.services import save_lesson
from tests.access.helpers import REDEEM, issue
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(premium_lesson):
    return premium_lesson


def test_a_second_anonymous_reader_gets_the_page_from_the_cache(lesson, django_assert_num_queries):
    first = Client().get(lesson.get_absolute_url())
    with django_assert_num_queries(0):
        second = Client().get(lesson.get_absolute_url())
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Cache-Control"] == first["Cache-Control"]
    assert second["Cache-Control"].startswith("public, ")


def test_anonymous_pages_hold_nothing_of_the_visitor(lesson):
    """No CSRF token, no nonce: a page that can be shared carries nothing per visitor."""
    for url in ["/", lesson.series.get_absolute_url(), lesson.get_absolute_url()]:
        response = Client().get(url)
        page = response.content.decode()
        assert "csrfmiddlewaretoken" not in page, url
        assert "nonce=" not in page, url
        assert not response.cookies, url


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
def test_a_visitor_with_a_session_or_messages_is_never_served_from_it(lesson, cookie):
    Client().get(lesson.get_absolute_url())
    client = Client()
    client.cookies[cookie] = "x"
    response = client.get(lesson.get_absolute_url())
    assert getattr(response, "anonymous_page", False)  # rendered now, not replayed


def test_readers_pages_are_never_stored_or_served_from_it(lesson, reader):
    services.grant(user=reader, series=lesson.series)
    reader_client = Client()
    reader_client.force_login(reader)
    assert "SECRET-PREMIUM-SENTENCE" in reader_client.get(lesson.get_absolute_url()).text
    anonymous = Client().get(lesson.get_absolute_url()).text
    assert "SECRET-PREMIUM-SENTENCE" not in anonymous
    assert reader.email not in anonymous


def test_a_change_to_the_lesson_shows_at_once(lesson):
    Client().get(lesson.get_absolute_url())
    lesson.title = "A better title"
    save_lesson(lesson)
    assert "A better title" in Client().get(lesson.get_absolute_url()).text


def test_each_language_is_kept_apart_at_its_own_address(lesson):
    url = lesson.get_absolute_url()
    english = Client(headers={"accept-language": "id"}).get(url).text
    indonesian = Client(headers={"accept-language": "en"}).get(f"/id{url}").text
    assert '<html lang="en">' in english and '<html lang="id">' in indonesian
    assert '<html lang="en">' in Client(headers={"accept-language": "id"}).get(url).text


@pytest.mark.parametrize(
    ("status", "cookie", "marked", "cache_control", "stored"),
    [
        (200, False, True, "private", True),
        (200, True, True, "private", False),  # a CSRF token or a session sets a cookie
        (404, False, True, "private", False),
        (200, False, False, "private", False),  # the view did not promise it is the same for all
        (200, False, True, "no-cache, no-store, private", False),  # the view said never keep it
    ],
)
def test_only_promised_plain_pages_are_stored(status, cookie, marked, cache_control, stored):
    response = HttpResponse("page", status=status)
    response["Cache-Control"] = cache_control
    if cookie:
        response.set_cookie("csrftoken", "secret")
    if marked:
        response.anonymous_page = True
    assert anonymous.storable(response) is stored


def test_a_shared_cache_that_cannot_answer_is_passed_by(lesson, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache away")

    monkeypatch.setattr(generation.cache, "get", broken)
    monkeypatch.setattr(generation.cache, "set", broken)
    assert Client().get(lesson.get_absolute_url()).status_code == 200
    lesson.title = "Saved while the cache is away"
    save_lesson(lesson)
    assert "Saved while the cache is away" in Client().get(lesson.get_absolute_url()).text


def test_other_workers_see_a_change_within_seconds(lesson, monkeypatch):
    """Another worker's write moves the shared generation; this one reads it again soon."""
    Client().get(lesson.get_absolute_url())
    # The other worker's write, without this worker's own bookkeeping:
    QuerySet.update(lesson.__class__.objects.filter(pk=lesson.pk), title="Changed elsewhere")
    generation.cache.set(generation.KEY, 42, None)  # what the other worker's save did
    assert "Changed elsewhere" not in Client().get(lesson.get_absolute_url()).text
    later = generation.time.monotonic() + generation.GENERATION_CHECK_SECONDS
    monkeypatch.setattr(generation.time, "monotonic", lambda: later)
    assert "Changed elsewhere" in Client().get(lesson.get_absolute_url()).text


def test_a_change_made_while_the_cache_was_away_reaches_other_workers_once_it_is_back(
    lesson, cache_outage
):
    before = generation.cache.get(generation.KEY)
    cache_outage.start()
    lesson.title = "Changed while the cache was away"
    save_lesson(lesson)  # this worker's kept pages are stale at once; the cache missed the change
    cache_outage.end()  # back, with what it held: it says so (caching.backend.recovered)
    assert generation.cache.get(generation.KEY) not in (before, None)
    assert generation.cache.get(generation.KEY) == generation.current()


def test_each_scheme_is_kept_apart(lesson):
    """Behind a proxy that says https (X-Forwarded-Proto), the page's canonical link and
    share tags name https; a later reader over plain http gets http ones, not that page."""
    secure = Client().get(lesson.get_absolute_url(), secure=True).text
    assert f'rel="canonical" href="https://testserver{lesson.get_absolute_url()}"' in secure
    plain = Client().get(lesson.get_absolute_url()).text
    assert f'rel="canonical" href="http://testserver{lesson.get_absolute_url()}"' in plain
    assert "https://testserver" not in plain


class TestWhileTheGenerationCannotBeRead:
    """With the shared cache away, a change another worker makes cannot reach this one through
    the generation: what this worker keeps (pages, the lessons pages.py keeps, the kept
    parts) then lasts at most generation.UNREAD_SECONDS, so a lesson made premium elsewhere is
    not served in full past the bound."""

    SECRET = "OUTAGE-PREMIUM-SENTENCE"
    # A change made elsewhere shows within the longer of the two (caching/generation.py).
    BOUND = max(generation.UNREAD_SECONDS, generation.GENERATION_CHECK_SECONDS)

    @pytest.fixture
    def clock(self, monkeypatch):
        """This worker's monotonic clock, moved by the test (started before anything is
        kept, at a round number, so that steps of a quarter second add up exactly)."""
        now = [1000.0]
        monkeypatch.setattr(generation.time, "monotonic", lambda: now[0])
        return now

    @pytest.fixture
    def lesson(self, clock):
        return make_lesson(
            make_series(slug="outage"),
            access=Lesson.Access.FREE,
            body=f"Opening words.\n\n<!-- more -->\n\n{self.SECRET}",
        )

    def reader(self, kind: str) -> Client:
        client = Client()
        if kind == "logged in":
            client.force_login(make_user())
        return client

    @pytest.mark.parametrize("kind", ["anonymous", "logged in"])
    @pytest.mark.parametrize("kept", ["before the outage", "during it"])
    def test_a_lesson_made_premium_elsewhere_is_cut_within_the_bound(
        self, lesson, clock, cache_outage, kind, kept
    ):
        client = self.reader(kind)
        url = lesson.get_absolute_url()
        assert self.SECRET in client.get(url).text
        cache_outage.start()
        if kept == "during it":
            clock[0] += generation.GENERATION_CHECK_SECONDS  # the cache is found away
            assert self.SECRET in client.get(url).text  # kept now, in the outage
        # Another worker makes it premium; its write to the shared cache is lost.
        QuerySet.update(Lesson.objects.filter(pk=lesson.pk), access=Lesson.Access.PREMIUM)
        changed_at = clock[0]
        while self.SECRET in client.get(url).text:
            assert clock[0] - changed_at < self.BOUND, "served in full past the bound"
            clock[0] += 0.25
        for _ in range(int(settings.PAGE_CACHE_SECONDS / 0.25) + 1):  # nor again, later on
            clock[0] += 0.25
            assert self.SECRET not in client.get(url).text

    def test_with_the_cache_up_pages_are_kept_their_whole_time(
        self, lesson, clock, django_assert_num_queries
    ):
        """The bound is for the outage only: a readable generation keeps pages for
        PAGE_CACHE_SECONDS, asking the database nothing."""
        Client().get(lesson.get_absolute_url())
        clock[0] += settings.PAGE_CACHE_SECONDS - 1
        with django_assert_num_queries(0):
            assert Client().get(lesson.get_absolute_url()).status_code == 200

    def test_a_cache_that_keeps_nothing_is_a_generation_that_cannot_be_read(
        self, lesson, clock, cache_outage
    ):
        cache_outage.start()
        clock[0] += generation.GENERATION_CHECK_SECONDS
        first = generation.current()
        assert first == generation.current()
        clock[0] += generation.UNREAD_SECONDS
        assert generation.current() != first

    def test_a_request_works_under_one_generation_from_start_to_end(self, lesson, clock):
        with generation.pinned():
            pinned = generation.current()
            generation.cache.set(generation.KEY, 42, None)  # another worker's write
            clock[0] += generation.GENERATION_CHECK_SECONDS
            assert generation.current() == pinned
        assert generation.current() == 42  # the next request sees it
        with generation.pinned():
            generation.invalidate()  # but a request's own write shows to it at once
            assert generation.current() not in (pinned, 42)


class TestThePinFormOnSharedPages:
    def test_an_anonymous_reader_posts_it_without_a_token_and_goes_to_sign_up(self, lesson):
        client = Client(enforce_csrf_checks=True)
        response = client.post(REDEEM, {"pin": issue(lesson.series), "next": "/"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/signup/")

    def test_a_logged_in_reader_still_needs_the_token(self, lesson):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user())
        response = client.post(REDEEM, {"pin": issue(lesson.series)})
        assert response.status_code == 403
        page = client.get(lesson.get_absolute_url()).text
        assert "csrfmiddlewaretoken" in page  # their own page carries their token


def test_the_cache_can_be_turned_off(settings, lesson, django_assert_max_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    Client().get(lesson.get_absolute_url())
    with django_assert_max_num_queries(10) as captured:
        Client().get(lesson.get_absolute_url())
    assert len(captured) > 0
