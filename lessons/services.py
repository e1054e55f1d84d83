"""Writing series and lessons: one function per model, called by the admin, the importer and
render_lessons (and by whatever else writes them).

Each does the whole job a write of its model implies, which models' save() and querysets do
not (their save() only saves the row): render the Markdown into stored HTML, save, write the
lesson's search entries, say that what readers see changed (`caching.content_changed()`,
which every write here calls, and nothing else in lessons/), all in one transaction; the
share images are drawn once it commits (not inside it, and not at all if it rolls back).
Rendering runs before the transaction opens, within the request's rendering budget
(lessons.rendering.budget), so no lock is held while a text renders.
"""

from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

import caching
from lessons import share
from lessons.models import Lesson, SearchEntry, Series

# Lessons changing number step aside to their number plus this, then take the new one.
NUMBER_OFFSET = 1_000_000
# What the search index is made of: a bulk update of these writes the lessons' entries again
# (a free lesson made premium must not stay searchable in full).
SEARCHED_FIELDS = frozenset(
    {"access", "title", "summary", "body_html", "teaser_html", "series", "series_id"}
)


def draw_share_images(cards) -> None:
    """Draw the share images once the transaction is committed (not inside it, and not at
    all if it rolls back). A failure is logged, never the save's: the image is drawn again
    when first asked for."""
    for card in cards:
        transaction.on_commit(partial(share.ensure, card), robust=True)


def save_series(series: Series, *, update_fields=None, rendered: bool = False) -> None:
    """Render the series' Markdown (unless the caller just did: `rendered`), save it, and
    re-configure its lessons' search entries when its language changed; its share image, and
    its lessons' when its title or language changed (they name it), drawn on commit. Raises
    lessons.rendering.limits.RenderError for a text `full_clean()` would refuse."""
    if not rendered:
        series.render()
    with transaction.atomic():
        before = (
            Series.objects.filter(pk=series.pk).values_list("title", "language").first()
            if series.pk
            else None
        )
        series.save(update_fields=update_fields)
        if before and before[1] != series.language:
            SearchEntry.objects.reconfigure(series)
        caching.content_changed()
        cards = [share.series_card(series)]
        if before and before != (series.title, series.language):
            for lesson in series.lessons.only("pk", "number", "title", "series_id"):
                lesson.series = series
                cards.append(share.lesson_card(lesson))
        draw_share_images(cards)


def save_lesson(lesson: Lesson, *, update_fields=None, rendered: bool = False) -> bool:
    """Render the lesson's body, teaser and table of contents (unless the caller just did:
    `rendered`), save it and write its search entries, in one transaction; its share image
    drawn on commit. False when its text could not be indexed in time (it was saved, and is
    found by its title: lessons.models.INDEX_WARNING says so to its author). Raises
    lessons.rendering.limits.RenderError for a body `full_clean()` would refuse."""
    if not rendered:
        lesson.render()
    with transaction.atomic():
        lesson.save(update_fields=update_fields)
        indexed = SearchEntry.objects.write(lesson)
        caching.content_changed()
        draw_share_images([share.lesson_card(lesson)])
    return indexed


def delete_series(series: Series) -> None:
    """Delete the series, its lessons and whatever other apps keep of it."""
    with transaction.atomic():
        series.delete()
        caching.content_changed()


def delete_lesson(lesson: Lesson) -> None:
    with transaction.atomic():
        lesson.delete()
        caching.content_changed()


def delete_many(queryset) -> None:
    """Delete these series or lessons at once (the admin's "delete selected" action)."""
    with transaction.atomic():
        queryset.delete()
        caching.content_changed()


def update_lessons(queryset, **fields) -> int:
    """Write `fields` to these lessons at once (queryset.update()), their search entries
    again when it changes what is indexed (SEARCHED_FIELDS), in one transaction. Their stored
    HTML is written as given, not rendered. The number of lessons updated."""
    with transaction.atomic():
        searched = bool(SEARCHED_FIELDS & fields.keys())
        ids = list(queryset.values_list("pk", flat=True)) if searched else []
        rows = queryset.update(**fields)
        for lesson in Lesson.objects.filter(pk__in=ids).select_related("series"):
            SearchEntry.objects.write(lesson)
        caching.content_changed()
    return rows


def step_aside(queryset) -> int:
    """Move these lessons to numbers no lesson uses (their own plus NUMBER_OFFSET), so that
    others can take their numbers in the same transaction: how two lessons swap."""
    return update_lessons(queryset, number=F("number") + NUMBER_OFFSET)


def renumber_lessons(numbers: dict[int, int]) -> None:
    """Give lessons (by primary key) new numbers in one go, so that numbers can be swapped or
    rotated within a series; the database's uniqueness holds throughout."""
    now = timezone.now()
    with transaction.atomic():
        step_aside(Lesson.objects.filter(pk__in=numbers))
        for pk, number in numbers.items():
            update_lessons(Lesson.objects.filter(pk=pk), number=number, updated_at=now)
