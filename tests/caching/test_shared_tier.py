"""What one worker keeps is kept for all of them: the stores of pages, kept parts and lessons
have a second tier in the shared cache (Redis in production), so a reader base that visits
more pages than one worker holds is still served what was kept. Each reader still gets only
what is theirs, and nothing kept outlives the content, the release or the hour it was made in.

"Another worker" here is this one with its own stores emptied: what it then serves without
asking the database comes from the shared tier."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from access import services
from caching import generation, kept, keys, stores
from lessons import pages
from lessons.models import Lesson
from tests.e2e.servers import run_manage
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db


def another_worker() -> None:
    """This worker forgets everything it keeps in its own memory, as a second worker has
    never held it; the shared cache keeps what it holds."""
    for store in stores.STORES.values():
        store.clear()
    kept._own_blocks.clear()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_anonymous_page_kept_by_one_worker_is_served_by_another_without_the_database(
    free_lesson, django_assert_num_queries
):
    first = Client().get(free_lesson.get_absolute_url())
    another_worker()
    with django_assert_num_queries(0):
        second = Client().get(free_lesson.get_absolute_url())
    assert second.status_code == 200
    assert second.content == first.content


def test_a_lesson_worked_out_by_one_worker_is_read_by_another_without_the_database(
    free_lesson, django_assert_num_queries
):
    page = pages.lesson_page(free_lesson.series.slug, free_lesson.slug, staff=False)
    another_worker()
    with django_assert_num_queries(0):
        again = pages.lesson_page(free_lesson.series.slug, free_lesson.slug, staff=False)
    assert again == page
    assert again.lesson.series.title == free_lesson.series.title


def test_a_reader_without_access_never_gets_the_page_another_worker_kept_for_a_buyer(
    premium_lesson,
):
    buyer = make_user(email="buyer@example.com")
    services.grant(user=buyer, series=premium_lesson.series)
    url = premium_lesson.get_absolute_url()
    assert "SECRET-PREMIUM-SENTENCE" in logged_in(buyer).get(url).text
    another_worker()
    without = logged_in(make_user(email="without@example.com")).get(url).text
    assert "SECRET-PREMIUM-SENTENCE" not in without
    another_worker()
    assert "SECRET-PREMIUM-SENTENCE" not in Client().get(url).text
    another_worker()
    assert "SECRET-PREMIUM-SENTENCE" in logged_in(buyer).get(url).text


def test_a_page_kept_by_another_worker_gets_this_readers_own_header_and_token(free_lesson):
    url = free_lesson.get_absolute_url()
    logged_in(make_user(email="first@example.com")).get(url)
    another_worker()
    second = logged_in(make_user(email="second@example.com"))
    second.get(url)  # this worker meets the page's {% own %} blocks
    kept.whole_pages.clear()  # and has the page in the shared tier only
    page = second.get(url).text
    assert "Log out" in page  # the header's own part, filled in for this reader
    assert kept.CSRF_MARKER not in page
    assert second.cookies["csrftoken"].value  # the page's forms carry this reader's token


def test_what_was_kept_before_a_change_is_not_served_after_it(free_lesson):
    Client().get(free_lesson.get_absolute_url())
    free_lesson.title = "A NEW TITLE"
    from lessons.services import save_lesson

    save_lesson(free_lesson)
    another_worker()
    assert "A NEW TITLE" in Client().get(free_lesson.get_absolute_url()).text


def test_what_one_release_kept_is_not_served_by_the_next(
    free_lesson, monkeypatch, django_assert_max_num_queries
):
    Client().get(free_lesson.get_absolute_url())
    another_worker()
    monkeypatch.setattr(stores, "code_version", lambda: "the-next-release")
    with django_assert_max_num_queries(20) as queries:
        assert Client().get(free_lesson.get_absolute_url()).status_code == 200
    assert len(queries) > 0  # made again, not read from what the last release kept


def test_a_value_kept_under_another_key_with_the_same_digest_is_not_served(monkeypatch):
    store = stores.Store("a test store", max_bytes=1024 * 1024, shared=True)
    try:
        monkeypatch.setattr(store, "_shared_key", lambda key: "one-digest-for-all")
        store.put("mine", "my value")
        store.clear()
        assert store.lookup("theirs") is stores.MISSING
        assert store.lookup("mine") == "my value"
    finally:
        del stores.STORES["a test store"]


class TestScheduledLessons:
    """A scheduled lesson comes out at its time on every page, however long pages are kept:
    its moment is a change of the content, as a save is."""

    @pytest.fixture
    def clock(self, monkeypatch):
        """The wall clock, moved forward by the test (timezone.now and time.time alike)."""
        offset = [timedelta(0)]
        real_now, real_time = timezone.now, generation.time.time
        monkeypatch.setattr(timezone, "now", lambda: real_now() + offset[0])
        monkeypatch.setattr(
            generation.time, "time", lambda: real_time() + offset[0].total_seconds()
        )
        return offset

    def test_it_appears_at_its_time_on_pages_kept_for_an_hour(
        self, series, free_lesson, clock, settings
    ):
        settings.PAGE_CACHE_SECONDS = 3600
        make_lesson(
            series,
            number=2,
            slug="soon",
            title="COMING-SOON",
            published_at=timezone.now() + timedelta(minutes=30),
        )
        for reader in (Client(), logged_in(make_user())):
            assert "COMING-SOON" not in reader.get(series.get_absolute_url()).text
            assert "COMING-SOON" not in reader.get(free_lesson.get_absolute_url()).text
        clock[0] = timedelta(minutes=29)
        assert "COMING-SOON" not in Client().get(series.get_absolute_url()).text
        clock[0] = timedelta(minutes=30, seconds=1)
        for reader in (Client(), logged_in(make_user(email="later@example.com"))):
            assert "COMING-SOON" in reader.get(series.get_absolute_url()).text
            assert "COMING-SOON" in reader.get(free_lesson.get_absolute_url()).text  # next

    def test_the_moment_is_known_to_every_worker(self, series, free_lesson):
        moment = timezone.now() + timedelta(hours=2)
        make_lesson(series, number=2, slug="soon", title="Soon", published_at=moment)
        assert generation.current() is not None
        generation.generation.forget()  # another worker reads the shared cache
        generation.current()
        assert generation.generation.due == pytest.approx(moment.timestamp())

    def test_without_a_scheduled_lesson_nothing_is_due(self, free_lesson):
        generation.invalidate()
        assert generation.generation.due == float("inf")
        assert Lesson.objects.next_publication() is None


def test_without_redis_each_worker_keeps_its_own(free_lesson, settings, django_assert_num_queries):
    """The database cache would cost a query for each page a worker does not hold: without
    Redis the stores keep to the worker."""
    settings.KEPT_IN_SHARED_CACHE = False
    Client().get(free_lesson.get_absolute_url())
    another_worker()
    # made again: the lesson, its series' facts, neighbours, its text
    with django_assert_num_queries(4):
        assert Client().get(free_lesson.get_absolute_url()).status_code == 200


def test_the_code_version_changes_with_a_template_and_not_with_an_environment(tmp_path, settings):
    """What the shared cache keeps names the release it was made by: the site's own code,
    templates, catalogues, styles and scripts (an installed package by its version)."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("one")
    environment = tmp_path / "venv" / "lib" / "site-packages"
    environment.mkdir(parents=True)
    settings.BASE_DIR = tmp_path
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [templates]}]
    try:
        keys.code_version.cache_clear()
        first = keys.code_version()
        (environment / "module.py").write_text("changed = True")
        keys.code_version.cache_clear()
        assert keys.code_version() == first
        (templates / "page.html").write_text("two")
        keys.code_version.cache_clear()
        assert keys.code_version() != first
    finally:
        keys.code_version.cache_clear()


def test_every_process_with_the_secret_marks_the_token_alike_and_another_secret_otherwise():
    """A page one worker kept in the shared cache holds the CSRF marker where the token goes;
    the worker that serves it puts its own reader's token there, so every process that shares
    the secret (and so the cache) must mark it alike, and none other can."""
    code = "from caching import kept; print(kept.CSRF_MARKER)"

    def marker(secret):
        env = {"ENV_FILE": "/nonexistent", "DEBUG": "1", "SECRET_KEY": secret}
        return run_manage("shell", "-c", code, env=env).stdout.strip().splitlines()[-1]

    first, second = marker("one-secret-" + "x" * 40), marker("one-secret-" + "x" * 40)
    assert first == second and first.startswith("csrf-")
    assert marker("another-secret-" + "y" * 40) != first
