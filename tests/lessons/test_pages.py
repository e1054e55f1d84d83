"""Reader pages: what each page shows, to whom, and how many queries it costs."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access import services
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db


def lesson_url(lesson):
    return reverse("lessons:lesson", args=[lesson.series.slug, lesson.slug])


def test_home_lists_published_series_only_with_their_lesson_counts(client):
    visible = make_series(title="Visible series")
    make_lesson(visible)
    make_lesson(visible)
    make_lesson(visible, status="draft")
    make_series(title="Hidden series", is_published=False)
    make_series(title="Empty series")
    page = client.get("/").content.decode()
    assert "Visible series" in page
    assert "Hidden series" not in page
    assert "2 lessons" in page
    assert "0 lessons" in page


def test_series_page_lists_published_lessons_in_order_with_marks(client, series):
    make_lesson(series, number=2, title="Second", access="premium", part="Part 1: Basics")
    make_lesson(series, number=1, title="First", access="free", part="Part 1: Basics")
    make_lesson(series, number=3, title="Unfinished", status="draft")
    response = client.get(series.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("First") < page.index("Second")
    assert "Unfinished" not in page
    assert "Part 1: Basics" in page
    assert "min read" in page
    assert page.count("badge--premium") == 1
    assert page.count("badge--free") == 1


def test_unknown_or_unpublished_series_is_404(client):
    make_series(slug="secret", is_published=False)
    assert client.get("/series/secret/").status_code == 404
    assert client.get("/series/nope/").status_code == 404


def test_free_lesson_renders_in_full_inside_an_article(client, free_lesson):
    response = client.get(lesson_url(free_lesson))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<article" in page
    assert "Free words." in page
    assert "paywall" not in page
    assert page.count("<h1") == 1


def test_premium_lesson_shows_teaser_and_paywall_without_the_rest(client, premium_lesson):
    page = client.get(lesson_url(premium_lesson)).content.decode()
    assert "Public opening." in page
    assert 'class="paywall"' in page
    assert "Ask for a PIN." in page
    assert "SECRET-PREMIUM-SENTENCE" not in page


def test_premium_lesson_without_marker_hides_text_after_the_word_budget(client, series):
    secret = "UNMARKED-SECRET-SENTENCE"
    lesson = make_lesson(
        series, access="premium", body=("word " * 140) + f"\n\n{'more ' * 30}{secret}"
    )
    page = client.get(lesson_url(lesson)).content.decode()
    assert "word word" in page
    assert secret not in page


def test_meta_description_is_the_summary_never_the_body(client, series):
    lesson = make_lesson(
        series,
        access="premium",
        summary="A public summary.",
        body="Intro.\n\n<!-- more -->\n\nMETA-SECRET",
    )
    page = client.get(lesson_url(lesson)).content.decode()
    assert '<meta name="description" content="A public summary.">' in page
    assert "META-SECRET" not in page


def test_previous_and_next_links_skip_unpublished_lessons(client, series):
    first = make_lesson(series, number=1)
    make_lesson(series, number=2, status="draft")
    middle = make_lesson(series, number=3)
    last = make_lesson(series, number=4)
    page = client.get(lesson_url(middle)).content.decode()
    assert f'href="{lesson_url(first)}" rel="prev"' in page
    assert f'href="{lesson_url(last)}" rel="next"' in page


@pytest.mark.parametrize(
    "fields",
    [{"status": "draft"}, {"published_at": timezone.now() + timedelta(days=2)}],
    ids=["draft", "scheduled"],
)
def test_drafts_and_scheduled_lessons_are_404_to_readers(client, reader_client, series, fields):
    lesson = make_lesson(series, **fields)
    assert client.get(lesson_url(lesson)).status_code == 404
    assert reader_client.get(lesson_url(lesson)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "banner"),
    [
        ({"status": "draft"}, "Draft"),
        ({"published_at": timezone.now() + timedelta(days=2)}, "Scheduled"),
    ],
)
def test_staff_see_unpublished_lessons_with_a_banner_and_no_store(
    staff_client, series, fields, banner
):
    lesson = make_lesson(series, **fields)
    response = staff_client.get(lesson_url(lesson))
    assert response.status_code == 200
    assert f"<strong>{banner}</strong>: readers cannot see this lesson yet" in response.text
    assert "no-store" in response["Cache-Control"]


READER_PAGES = ["/", "/series/ai/", "/series/ai/premium-two/", "/id/series/ai/premium-two/"]


@pytest.mark.parametrize("url", READER_PAGES)
def test_anonymous_pages_may_be_kept_briefly_by_shared_caches(
    client, premium_lesson, settings, url
):
    """The same for every reader without a session: a CDN or nginx may keep them, by address
    (no Vary on Cookie or Accept-Language, which would split or defeat a shared cache)."""
    settings.SHARED_CACHE_SECONDS, settings.SHARED_CACHE_STALE_SECONDS = 5, 7
    response = client.get(url)
    assert response["Cache-Control"] == (
        "public, max-age=0, s-maxage=5, stale-while-revalidate=7, stale-if-error=600"
    )
    assert "Vary" not in response


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
@pytest.mark.parametrize("url", READER_PAGES)
def test_reader_pages_are_private_the_moment_a_session_cookie_exists(
    client, premium_lesson, cookie, url
):
    client.cookies[cookie] = "whatever"  # even a session that holds no one yet
    response = client.get(url)
    assert "public" not in response["Cache-Control"], url
    assert "private" in response["Cache-Control"], url
    assert "Cookie" in response["Vary"], url


@pytest.mark.parametrize(
    ("who", "page", "stored"),
    [
        ("anonymous", "free lesson", True),
        ("anonymous", "premium lesson", True),  # the teaser only
        ("reader without access", "premium lesson", True),
        ("reader without access", "series", True),
        ("reader with access", "free lesson", True),
        ("reader with access", "premium lesson", False),
        ("reader with access", "series", False),  # marks what they unlocked
        ("reader with access", "my access", False),
        ("staff", "premium lesson", False),
    ],
)
def test_premium_text_and_a_readers_access_are_never_stored(
    client, free_lesson, premium_lesson, who, page, stored
):
    from access import services
    from tests.factories import make_staff, make_user

    if who != "anonymous":
        user = make_staff() if who == "staff" else make_user()
        if who == "reader with access":
            services.grant(user=user, series=premium_lesson.series)
        client.force_login(user)
    url = {
        "free lesson": lesson_url(free_lesson),
        "premium lesson": lesson_url(premium_lesson),
        "series": premium_lesson.series.get_absolute_url(),
        "my access": "/access/mine/",
    }[page]
    response = client.get(url)
    assert response.status_code == 200
    assert ("SECRET-PREMIUM-SENTENCE" in response.text) is (page == "premium lesson" and not stored)
    assert ("no-store" in response["Cache-Control"]) is not stored
    assert ("public" if who == "anonymous" else "private") in response["Cache-Control"]


def test_a_lesson_with_a_diagram_shows_it_drawn_and_loads_no_script(client, series):
    drawn = make_lesson(series, number=2, body="```mermaid\nflowchart LR\n A --> B\n```")
    page = client.get(lesson_url(drawn)).text
    assert '<figure class="diagram" tabindex="0"><svg ' in page
    # The only script element is the structured data, which browsers never run.
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/ld+json">']
    assert "mermaid" not in page


def test_diagram_after_the_cut_is_not_in_the_teaser(client, series):
    lesson = make_lesson(
        series,
        access="premium",
        body="Intro.\n\n<!-- more -->\n\n```mermaid\nflowchart LR\n A-->B[Secret step]\n```",
    )
    page = client.get(lesson_url(lesson)).text
    assert 'class="diagram"' not in page
    assert "Secret step" not in page


def test_missing_page_is_a_styled_404(client):
    response = client.get("/series/nope/lesson/")
    assert response.status_code == 404
    assert "This page isn’t here" in response.text
    assert 'href="/static/css/site.css"' in response.text


def test_pages_are_accessible_landmarks(client, free_lesson):
    page = client.get(lesson_url(free_lesson)).text
    assert 'class="skip-link" href="#site-main"' in page
    assert '<main id="site-main"' in page
    assert "<header" in page and "<footer" in page and "<nav" in page
    assert '<html lang="en">' in page


class TestQueryCounts:
    """Each page costs the same number of queries however many series and lessons there are,
    and nothing once its shared part is worked out (lessons/pages.py)."""

    @pytest.mark.parametrize("count", [1, 30])
    def test_home(self, client, django_assert_num_queries, count):
        for _ in range(count):
            make_lesson(make_series(), access="premium")
        # a page of series with their lessons counted, their first premium lessons
        with django_assert_num_queries(2):
            assert client.get("/").status_code == 200

    @pytest.mark.parametrize("count", [1, 60])
    def test_series_page(self, client, django_assert_num_queries, series, count):
        for _ in range(count):
            make_lesson(series, access="premium")
        with django_assert_num_queries(2):  # series, a page of lessons
            assert client.get(series.get_absolute_url()).status_code == 200

    @pytest.mark.parametrize("count", [3, 60])
    def test_lesson_page(self, client, django_assert_num_queries, series, count):
        lessons = [make_lesson(series, access="premium") for _ in range(count)]
        # lesson and series, the series' facts (premium lessons), previous and next, and the
        # text the page shows (kept apart from the lesson: caching.kept.derived)
        with django_assert_num_queries(4):
            assert client.get(lesson_url(lessons[1])).status_code == 200
        # another lesson of the series: its facts are known
        with django_assert_num_queries(3):
            assert client.get(lesson_url(lessons[2])).status_code == 200

    def test_the_shared_part_is_worked_out_once(
        self, reader_client, reader, series, django_assert_num_queries
    ):
        lesson = make_lesson(series, number=1, access="premium")
        reader_client.get(lesson_url(lesson))
        # the reader's own, in one query: their session with their user, their entitlements
        # in the series with their progress on the lesson
        with django_assert_num_queries(1):
            reader_client.get(lesson_url(lesson))
        services.grant(user=reader, series=series)
        reader_client.get(lesson_url(lesson))
        # the same one once they can read it (whether they have read it to the end is asked)
        with django_assert_num_queries(1):
            reader_client.get(lesson_url(lesson))


class TestPagination:
    def test_the_home_page_lists_series_twenty_at_a_time(self, client):
        for n in range(25):
            make_series(title=f"Series number {n:02}", position=n)
        first = client.get("/").text
        assert first.count('class="card"') == 20 and 'href="?page=2"' in first
        second = client.get("/?page=2").text
        assert second.count('class="card"') == 5 and 'href="?page=1"' in second
        assert "Series number 24" in second

    def test_a_long_series_lists_its_lessons_fifty_at_a_time(self, client, series):
        for _ in range(55):
            make_lesson(series)
        first = client.get(series.get_absolute_url()).text
        assert first.count('class="lesson-list__item"') == 50
        second = client.get(series.get_absolute_url() + "?page=2").text
        assert second.count('class="lesson-list__item"') == 5

    @pytest.mark.parametrize("page", ["3", "0", "-1", "x", "99999999999"])
    def test_a_page_beyond_the_list_or_nonsense_is_not_a_500(self, client, series, page):
        make_lesson(series)
        response = client.get(series.get_absolute_url(), {"page": page})
        assert response.status_code in (200, 404)
