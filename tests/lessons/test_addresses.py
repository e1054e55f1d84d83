"""Addresses of series and lessons are reverse()'s, however they are made (lessons.addresses)."""

import pytest
from django.urls import clear_url_caches, reverse, set_script_prefix
from django.utils import translation

from lessons.addresses import slug_address
from tests.factories import make_lesson, make_series


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    set_script_prefix("/")


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("prefix", ["/", "/site/"])
@pytest.mark.parametrize(
    ("name", "slugs"),
    [
        ("lessons:series", {"slug": "vectors-101"}),
        ("lessons:lesson", {"series_slug": "vectors-101", "slug": "lesson_2"}),
        ("lessons:lesson", {"series_slug": "a", "slug": "a"}),
        ("lessons:series_feed", {"slug": "x"}),
    ],
)
def test_an_address_is_reverses_in_every_language_and_prefix(
    name, slugs, language, prefix, script_prefix
):
    script_prefix(prefix)
    with translation.override(language):
        assert slug_address(name, **slugs) == reverse(name, kwargs=slugs)
        assert slug_address(name, **slugs) == reverse(name, kwargs=slugs)  # the kept cut


@pytest.mark.parametrize("site_language", ["en", "id"])
def test_the_site_language_has_its_addresses_without_a_prefix(settings, site_language):
    for language in ("en", "id"):
        with translation.override(language):
            slug_address("lessons:series", slug="s")  # worked out under the first setting
    settings.LANGUAGE_CODE = site_language
    clear_url_caches()
    try:
        for language in ("en", "id"):
            with translation.override(language):
                expected = reverse("lessons:series", kwargs={"slug": "s"})
                assert slug_address("lessons:series", slug="s") == expected
                assert expected.startswith("/series/") == (language == site_language)
    finally:
        clear_url_caches()


def test_a_slug_the_converter_would_not_take_is_refused_as_reverse_refuses_it():
    with pytest.raises(Exception) as refused:
        reverse("lessons:series", kwargs={"slug": "a b"})
    with pytest.raises(refused.type):
        slug_address("lessons:series", slug="a b")


def test_series_and_lessons_link_to_their_reversed_addresses(db):
    series = make_series(slug="s-1")
    lesson = make_lesson(series, number=1, slug="first")
    with translation.override("id"):
        assert series.get_absolute_url() == reverse("lessons:series", args=["s-1"])
        assert lesson.get_absolute_url() == reverse("lessons:lesson", args=["s-1", "first"])
