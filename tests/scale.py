"""A site with a lot of content, made fast: one series of 10,000 lessons, or 2,000 series.

One lesson and one series are saved as the admin saves them (rendered, indexed, with an
offer); the rest are copies of them inserted in bulk, with their search entries (and, on
PostgreSQL, their vectors written in one statement). For the tests that count queries at both
sizes (tests/lessons/test_scale.py) and for `python -m bench.scale`, which times the pages.
"""

from django.db import connection, transaction
from django.db.models import F

SIZES = {"10,000 lessons in one series": (1, 10_000), "2,000 series": (2_000, 3)}
BODY = "Vectors and embeddings, retrieved and ranked.\n\n<!-- more -->\n\nThe rest of it."


def _entries_for(lessons: list, models: dict[str, list]) -> list:
    """Copies of the model lesson's entries (by access) for each lesson, with its title."""
    from lessons.models import SearchEntry

    return [
        SearchEntry(
            lesson=lesson,
            part=entry.part,
            config=entry.config,
            title=lesson.title,
            summary=entry.summary,
            text=entry.text,
        )
        for lesson in lessons
        for entry in models[lesson.access]
    ]


def _write_vectors() -> None:
    from lessons.models import SearchEntry

    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVector  # loads psycopg

        config = F("config")
        SearchEntry.objects.update(
            vector=SearchVector("title", weight="A", config=config)
            + SearchVector("summary", weight="B", config=config)
            + SearchVector("text", weight="C", config=config)
        )


def build(size: str):
    """The content of `size` (a key of SIZES); the series whose lessons are the most (the
    only one, or the last of the 2,000)."""
    from access.offer.models import Offer
    from lessons.models import Lesson, SearchEntry, Series
    from tests.factories import make_lesson, make_series

    series_count, lessons_each = SIZES[size]
    first = make_series(title="Series 1", slug="series-1", position=1)
    free = make_lesson(first, number=1, title="Lesson 1", body=BODY)
    premium = make_lesson(first, number=2, title="Lesson 2", body=BODY, access="premium")
    models = {
        lesson.access: list(SearchEntry.objects.filter(lesson=lesson)) for lesson in (free, premium)
    }
    offer = Offer.objects.get(series=first)
    with transaction.atomic():
        others = Series.objects.bulk_create(
            Series(
                title=f"Series {n}",
                slug=f"series-{n}",
                is_published=True,
                position=n,
                description=first.description,
                description_html=first.description_html,
            )
            for n in range(2, series_count + 1)
        )
        offers = []
        for series in others:
            copy = Offer.objects.model(
                **{
                    f.attname: getattr(offer, f.attname)
                    for f in Offer._meta.concrete_fields
                    if f.name not in ("id", "series")
                }
            )
            copy.series = series
            offers.append(copy)
        Offer.objects.bulk_create(offers, batch_size=1000)
        lessons = Lesson.objects.bulk_create(
            (
                Lesson(
                    series=series,
                    number=n,
                    slug=f"lesson-{n}",
                    title=f"Lesson {n}",
                    summary=model.summary,
                    body=model.body,
                    body_html=model.body_html,
                    teaser_html=model.teaser_html,
                    toc_html=model.toc_html,
                    reading_minutes=model.reading_minutes,
                    access=model.access,
                    status=model.status,
                    published_at=model.published_at,
                )
                for series in [first, *others]
                for n in range(1, lessons_each + 1)
                if not (series is first and n <= 2)
                for model in [free if n == 1 else premium]
            ),
            batch_size=2000,
        )
        SearchEntry.objects.bulk_create(_entries_for(lessons, models), batch_size=2000)
        _write_vectors()
    return first if series_count == 1 else others[-1]
