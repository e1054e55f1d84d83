"""Series and lessons: what is stored, and what readers may see listed."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from lessons.models import Lesson
from tests.e2e.servers import manage, server_env
from tests.factories import make_lesson, make_series

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_once_on_save():
    lesson = make_lesson(body="Some **bold** text.")
    assert lesson.body_html == "<p>Some <strong>bold</strong> text.</p>"
    stored = Lesson.objects.values_list("body_html", flat=True).get(pk=lesson.pk)
    assert stored == lesson.body_html


def test_reading_time_is_computed_on_save():
    assert make_lesson(body="word " * 1200).reading_minutes == 6


def test_series_description_is_rendered_on_save():
    series = make_series(description="*Hi* [there](javascript:alert(1))")
    assert series.description_html == "<p><em>Hi</em> <a>there</a></p>"


def test_publishing_without_a_time_sets_it_to_now():
    lesson = make_lesson(status="published", published_at=None)
    assert lesson.published_at is not None
    assert lesson.published_at <= timezone.now()


def test_drafts_keep_an_empty_publication_time():
    assert make_lesson(status="draft", published_at=None).published_at is None


@pytest.mark.parametrize("field", ["slug", "number"])
def test_slug_and_number_are_unique_within_a_series(field):
    first = make_lesson(number=1, slug="same")
    clash = {"slug": "other", "number": 2, field: getattr(first, field)}
    with pytest.raises(IntegrityError):
        make_lesson(first.series, **clash)


def test_the_same_slug_and_number_may_be_used_in_another_series():
    make_lesson(number=1, slug="intro")
    assert make_lesson(make_series(), number=1, slug="intro").pk


def test_a_body_over_500_kb_is_refused_with_a_clear_message():
    lesson = make_lesson()
    lesson.body = "x" * (500 * 1024 + 1)
    with pytest.raises(ValidationError) as exc:
        lesson.full_clean()
    assert "the most a lesson can hold is 500 KB" in str(exc.value)


def test_a_body_of_exactly_500_kb_is_accepted():
    lesson = make_lesson()
    lesson.body = "x" * (500 * 1024)
    lesson.full_clean()


class TestPublished:
    """`published()` is the one place that decides what readers may see listed."""

    def visible(self):
        return set(Lesson.objects.published().values_list("slug", flat=True))

    def test_published_and_due_lessons_are_visible(self):
        make_lesson(slug="live")
        assert self.visible() == {"live"}

    def test_drafts_are_hidden(self):
        make_lesson(slug="draft", status="draft")
        assert self.visible() == set()

    def test_scheduled_lessons_are_hidden_until_their_time(self):
        make_lesson(slug="later", published_at=timezone.now() + timedelta(hours=1))
        assert self.visible() == set()

    def test_lessons_of_an_unpublished_series_are_hidden(self):
        make_lesson(make_series(is_published=False), slug="hidden")
        assert self.visible() == set()


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"status": "draft"}, "draft"),
        ({"published_at": timezone.now() + timedelta(days=1)}, "scheduled"),
        ({}, ""),
    ],
)
def test_unpublished_state_names_why_readers_cannot_see_a_lesson(fields, state):
    assert make_lesson(**fields).unpublished_state == state


@pytest.mark.parametrize("words", ["150", "200"])
def test_settings_never_reach_the_migrations(words):
    """A help text built from a setting would make `makemigrations --check` fail wherever
    the setting differs."""
    manage("makemigrations", "--check", "--dry-run", env=server_env(LESSON_TEASER_WORDS=words))
