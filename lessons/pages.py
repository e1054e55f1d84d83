"""What reader pages show that is the same for every reader: worked out once, kept in the
worker, and dropped when series or lessons change (the page cache's generation, see
config/pagecache.py), after PAGE_CACHE_SECONDS, and when a scheduled lesson of a series shown
comes out (its `premium_range.next_due`), so the lists, the neighbours and the numbers that
texts about the series name change with it. Each store is bounded in bytes as well as in entries.

Only shared facts live here (a lesson with its series and neighbours, a series' lesson list,
the home page's series); what depends on the reader (the access decision, their progress) is
worked out per request from these. The objects kept are shared between requests: views never
change them.
"""

import datetime
import decimal
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, is_dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, Model, OuterRef, Window
from django.db.models.base import ModelState
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from config import pagecache
from lessons.models import Lesson, Series, attached_to_series, premium_range_annotations

MAX_ENTRIES = 256
# What each store may hold in a worker, in bytes of keys and values (`footprint`); the least
# recently used entries go first, and a value bigger than the whole bound is not kept.
MEMO_MAX_BYTES = 8 * 1024 * 1024
FRAGMENTS_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class LessonLink:
    """Enough of a lesson to link to it."""

    number: int
    slug: str
    title: str


@dataclass(frozen=True)
class LessonPage:
    lesson: Lesson  # with .series and .series_has_premium
    previous: LessonLink | None
    next: LessonLink | None


_ATOMS = (str, bytes, int, float, complex, bool, type(None), datetime.date, datetime.time,
          datetime.timedelta, decimal.Decimal, uuid.UUID)  # fmt: skip


def footprint(value) -> int:
    """The bytes `value` takes in memory, with everything it holds: containers, dataclasses
    and model instances (their fields, annotations and cached related objects) are followed,
    each object counted once; anything else counts its own size only."""
    total, seen, pending = 0, set(), [value]
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, _ATOMS):
            continue
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
        elif isinstance(item, Model | ModelState) or (
            is_dataclass(item) and not isinstance(item, type) and hasattr(item, "__dict__")
        ):
            pending.append(vars(item))
    return total


class _Memo:
    """Values kept by key for this worker, for the current generation (config/pagecache.py)
    and at most PAGE_CACHE_SECONDS; within `max_entries` entries and `max_bytes` bytes."""

    def __init__(self, *, max_bytes: int, max_entries: int = MAX_ENTRIES):
        self.lock = threading.Lock()
        # key: (generation, expires, value, due, size)
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        self.max_bytes, self.max_entries = max_bytes, max_entries

    def get(self, key, compute: Callable, due: Callable | None = None):
        """The value `compute()` gives for `key`, kept; `due(value)` may name the moment
        (an aware datetime, or None) it stops holding, when sooner than PAGE_CACHE_SECONDS."""
        generation, now = pagecache.pages.current_generation(), time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
        if (
            entry
            and entry[0] == generation
            and entry[1] > now
            and (entry[3] is None or timezone.now() < entry[3])
        ):
            with self.lock:
                if key in self.entries:
                    self.entries.move_to_end(key)
            return entry[2]
        value = compute()
        size = footprint(key) + footprint(value)
        if size > self.max_bytes:
            return value
        until = due(value) if due else None
        with self.lock:
            self._drop(key)
            self.entries[key] = (generation, now + settings.PAGE_CACHE_SECONDS, value, until, size)
            self.size += size
            while self.size > self.max_bytes or len(self.entries) > self.max_entries:
                self._drop(next(iter(self.entries)))
        return value

    def _drop(self, key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry[4]

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.size = 0


memo = _Memo(max_bytes=MEMO_MAX_BYTES)
# Rendered parts of pages and whole logged-in pages: lessons/sharing.py.
fragments = _Memo(max_bytes=FRAGMENTS_MAX_BYTES)


def _soonest(moments):
    return min((moment for moment in moments if moment), default=None)


def visible_lessons(staff: bool):
    """Staff see every lesson (drafts and scheduled ones marked); readers the published ones."""
    return Lesson.objects.all() if staff else Lesson.objects.published()


def visible_series(staff: bool):
    return Series.objects.all() if staff else Series.objects.published()


def listed_lessons(staff: bool):
    return visible_lessons(staff).defer("body", "body_html", "teaser_html").order_by("number")


def _link(lesson) -> LessonLink | None:
    return LessonLink(lesson.number, lesson.slug, lesson.title) if lesson else None


def lesson_page(series_slug: str, slug: str, *, staff: bool) -> LessonPage:
    """The lesson with its series and its neighbours; Http404 when the reader may not see it."""

    def compute():
        visible = visible_lessons(staff)
        lesson = (
            visible.select_related("series", *attached_to_series("series__"))
            .defer("body")
            .annotate(
                series_has_premium=Exists(
                    visible.filter(series=OuterRef("series"), access=Lesson.Access.PREMIUM)
                ),
                **premium_range_annotations(OuterRef("series")),
            )
            .filter(series__slug=series_slug, slug=slug)
            .first()
        )
        if lesson is None or not (staff or lesson.series.is_published):
            return None
        lesson.series.take_premium_range(lesson)
        neighbours = listed_lessons(staff).filter(series=lesson.series_id)
        neighbours = neighbours.only("number", "title", "slug")
        return LessonPage(
            lesson,
            _link(neighbours.filter(number__lt=lesson.number).order_by("-number").first()),
            _link(neighbours.filter(number__gt=lesson.number).first()),
        )

    page = memo.get(
        ("lesson", series_slug, slug, staff),
        compute,
        due=lambda page: page and page.lesson.series.premium_range.next_due,
    )
    if page is None:
        raise Http404
    return page


SERIES_PER_PAGE = 20
LESSONS_PER_PAGE = 50


@dataclass(frozen=True)
class Listing:
    """One page of a list: its items, and the numbers of the pages around it (or None)."""

    items: list
    number: int
    previous: int | None
    next: int | None


def _page(queryset, number: int, per_page: int) -> Listing | None:
    """Page `number` (from 1) of the queryset, None when it has no such page. One query for
    the page and one more item, none to count."""
    start = (number - 1) * per_page
    items = list(queryset[start : start + per_page + 1])
    if not items and number > 1:
        return None
    return Listing(
        items[:per_page],
        number,
        number - 1 if number > 1 else None,
        number + 1 if len(items) > per_page else None,
    )


def home_series(*, staff: bool, page: int = 1) -> Listing:
    """A page of published series, with their lesson counts and first premium lesson: three
    queries whatever the number of series and lessons (the page of series; the counts of
    their lessons; their first premium lessons)."""

    def compute():
        published = Series.objects.published().with_attached().with_premium_range()
        listing = _page(published, page, SERIES_PER_PAGE)
        if listing is None:
            return None
        ids = [series.pk for series in listing.items]
        listed = listed_lessons(staff).filter(series__in=ids).order_by()
        counts = {
            (series_id, access): n
            for series_id, access, n in listed.values_list("series", "access")
            .annotate(n=Count("pk"))
            .values_list("series", "access", "n")
        }
        first_premium = {
            lesson.series_id: LessonLink(lesson.number, lesson.slug, lesson.title)
            for lesson in listed.filter(access=Lesson.Access.PREMIUM)
            .annotate(
                place=Window(RowNumber(), partition_by=[F("series")], order_by=F("number").asc())
            )
            .filter(place=1)
            .only("series", "number", "slug", "title")
        }
        for series in listing.items:
            free = counts.get((series.pk, Lesson.Access.FREE), 0)
            series.premium_count = counts.get((series.pk, Lesson.Access.PREMIUM), 0)
            series.lesson_count = free + series.premium_count
            series.free_count = free
            series.first_premium = first_premium.get(series.pk)
        return listing

    listing = memo.get(
        ("home", staff, page),
        compute,
        due=lambda listing: listing and _soonest(s.premium_range.next_due for s in listing.items),
    )
    if listing is None:
        raise Http404
    return listing


def series_page(slug: str, *, staff: bool, page: int = 1) -> tuple[Series, Listing]:
    """The series and a page of its listed lessons; Http404 when the reader may not see it."""

    def compute():
        series = (
            visible_series(staff).with_attached().with_premium_range().filter(slug=slug).first()
        )
        if series is None:
            return None
        listing = _page(listed_lessons(staff).filter(series=series), page, LESSONS_PER_PAGE)
        if listing is None:
            return None
        for lesson in listing.items:
            lesson.series = series
        return series, listing

    found = memo.get(
        ("series", slug, staff, page),
        compute,
        due=lambda found: found and found[0].premium_range.next_due,
    )
    if found is None:
        raise Http404
    return found
