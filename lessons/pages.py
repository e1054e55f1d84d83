"""What reader pages show that is the same for every reader: worked out once, kept in the
worker (a caching.stores.Store, bounded in bytes), and dropped when series or lessons change
(the content generation, caching.generation), after PAGE_CACHE_SECONDS, and when a scheduled
lesson of a series shown comes out (its `premium_range.next_due`), so the lists, the
neighbours and the numbers that texts about the series name change with it.

Only shared facts live here (a lesson with its series and neighbours, a series' lesson list,
the home page's series); what depends on the reader (the access decision, their progress) is
worked out per request from these. The objects kept are shared between requests: views never
change them.
"""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from caching.stores import Store
from lessons.models import Lesson, Series, attached_to_series, premium_range_annotations
from lessons.models.content import PremiumRange

# What the store may hold in a worker, in bytes of keys and values (caching.stores): the
# pages of a series of 500 lessons (about 8 KB each as caching.stores measures them, 4.4 KB
# in fact, without their text), its lists and facts.
MEMO_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class LessonLink:
    """Enough of a lesson to link to it."""

    number: int
    slug: str
    title: str


@dataclass(frozen=True)
class LessonPage:
    """A lesson as its page shows it, without its text: the text is read only when the page
    is made (`lesson_body`), so that a worker keeps the pages of many lessons, not a few
    lessons' texts (about 8 KB a lesson as caching.stores measures it, rather than 35)."""

    lesson: Lesson  # with .series, .series_has_premium, .body_has_code and .teaser_has_code
    previous: LessonLink | None
    next: LessonLink | None


@dataclass(frozen=True)
class LessonBody:
    """What a lesson's page shows of its text: the whole body or the teaser, with the table
    of contents that goes with the whole body only."""

    html: str
    toc_html: str


# What a reader's access to a lesson is decided on (access.policy: the series its grants are
# in, free or premium, whether it is out): the text read for a page must come from a row that
# still says the same.
DECIDED_ON = ("series_id", "access", "status", "published_at")


def lesson_body(lesson: Lesson, *, full: bool) -> LessonBody:
    """The text of the kept `lesson`'s page: its body and table of contents when `full`,
    else its teaser. One query, asked only when a page that shows it is made
    (caching.kept.derived names it by these arguments, within the content's generation). The
    caller decided what the reader may read on what the kept lesson says; the row is read
    now, and may have changed since in another process (made premium, unpublished, moved to
    another series) before the change reached this worker's generation (within seconds). Such
    a row shows its teaser while it is out, else nothing: never text the decision did not
    allow. A lesson deleted since shows nothing."""
    row = (
        Lesson.objects.filter(pk=lesson.pk)
        .values(*DECIDED_ON, "body_html", "toc_html", "teaser_html")
        .first()
    )
    if row is None:
        return LessonBody("", "")
    if all(row[name] == getattr(lesson, name) for name in DECIDED_ON):
        return (
            LessonBody(row["body_html"], row["toc_html"])
            if full
            else LessonBody(row["teaser_html"], "")
        )
    if Lesson.objects.published().filter(pk=lesson.pk).exists():
        return LessonBody(row["teaser_html"], "")
    return LessonBody("", "")


# The lessons and lists worked out once (caching.stores: bounded in bytes, dropped with the
# content generation); a kept page names them by where they are kept, not item by item.
memo = Store("pages", max_bytes=MEMO_MAX_BYTES, shared=True, named=True)


def _soonest(moments):
    return min((moment for moment in moments if moment), default=None)


def visible_lessons(staff: bool):
    """Staff see every lesson (drafts and scheduled ones marked); readers the published ones."""
    return Lesson.objects.all() if staff else Lesson.objects.published()


def visible_series(staff: bool):
    return Series.objects.all() if staff else Series.objects.published()


# What a list of lessons does not show.
UNLISTED = ("body", "body_html", "teaser_html", "toc_html")


def listed_lessons(staff: bool):
    return visible_lessons(staff).defer(*UNLISTED).order_by("number")


def _has_code(field: str) -> ExpressionWrapper:
    """Whether the HTML in `field` holds a code block (its page then loads the copy button)."""
    return ExpressionWrapper(Q(**{f"{field}__contains": "<pre"}), output_field=BooleanField())


def _link(lesson) -> LessonLink | None:
    return LessonLink(lesson.number, lesson.slug, lesson.title) if lesson else None


@dataclass(frozen=True)
class SeriesFacts:
    """What every lesson page of a series shows about the series as a whole."""

    has_premium: bool  # a premium lesson the reader can see
    premium_range: PremiumRange


def series_facts(series_id: int, *, staff: bool) -> SeriesFacts:
    """The series' facts, worked out once for all its lessons' pages: one query."""

    def compute():
        visible = visible_lessons(staff)
        row = (
            Series.objects.filter(pk=series_id)
            .annotate(
                has_premium=Exists(
                    visible.filter(series=OuterRef("pk"), access=Lesson.Access.PREMIUM)
                ),
                **premium_range_annotations(OuterRef("pk")),
            )
            .values("has_premium", "premium_first", "premium_last", "premium_count")
            .annotate(next_due=F("premium_next_due"))
            .first()
        )
        return SeriesFacts(
            row["has_premium"],
            PremiumRange(
                row["premium_first"], row["premium_last"], row["premium_count"], row["next_due"]
            ),
        )

    return memo.get(
        ("series facts", series_id, staff),
        compute,
        due=lambda facts: facts.premium_range.next_due,
    )


def lesson_page(series_slug: str, slug: str, *, staff: bool) -> LessonPage:
    """The lesson with its series and its neighbours; Http404 when the reader may not see it.
    Two queries (the lesson; its neighbours before and after), and the series' facts once for
    all its lessons."""
    page = find_lesson_page(series_slug, slug, staff=staff)
    if page is None:
        raise Http404
    return page


def find_lesson_page(series_slug: str, slug: str, *, staff: bool) -> LessonPage | None:
    """lesson_page(), or None when the reader may not see it."""

    def compute():
        lesson = (
            visible_lessons(staff)
            .select_related("series", *attached_to_series("series__"))
            .defer(*UNLISTED)
            .annotate(
                body_has_code=_has_code("body_html"), teaser_has_code=_has_code("teaser_html")
            )
            .filter(series__slug=series_slug, slug=slug)
            .first()
        )
        if lesson is None or not (staff or lesson.series.is_published):
            return None
        facts = series_facts(lesson.series_id, staff=staff)
        lesson.series_has_premium = facts.has_premium
        lesson.series.premium_range = facts.premium_range
        visible = listed_lessons(staff).filter(series=lesson.series_id)
        before = visible.filter(number__lt=lesson.number).order_by("-number").values("number")
        after = visible.filter(number__gt=lesson.number).order_by("number").values("number")
        neighbours = {
            neighbour.number: neighbour
            for neighbour in visible.filter(
                Q(number=Subquery(before[:1])) | Q(number=Subquery(after[:1]))
            ).only("number", "title", "slug")
        }
        return LessonPage(
            lesson,
            _link(neighbours.get(max((n for n in neighbours if n < lesson.number), default=0))),
            _link(neighbours.get(min((n for n in neighbours if n > lesson.number), default=0))),
        )

    return memo.get(
        ("lesson", series_slug, slug, staff),
        compute,
        due=lambda page: page and page.lesson.series.premium_range.next_due,
    )


SERIES_PER_PAGE = 20
LESSONS_PER_PAGE = 50


@dataclass(frozen=True)
class Listing:
    """One page of a list: its items, and the numbers of the pages around it (or None)."""

    items: list
    number: int
    previous: int | None
    next: int | None


def _page(queryset, number: int, per_page: int, *, key: str | None = None) -> Listing | None:
    """Page `number` (from 1) of the queryset, None when it has no such page. One query for
    the page and one more item, none to count. A far page costs about what the first one
    does: its items are found by a subquery that skips the rows before them reading only
    their `key` (a field the queryset is ordered by and unique in it: the page starts at its
    first item's) or else their primary keys, from an index, so whole rows (and whatever
    the queryset annotates on them) are read for the page's items alone."""
    start = (number - 1) * per_page
    if not start:
        items = list(queryset[: per_page + 1])
    elif key:
        first = Subquery(queryset.values(key)[start : start + 1])
        items = list(queryset.filter(**{f"{key}__gte": first})[: per_page + 1])
    else:
        items = list(queryset.filter(pk__in=queryset.values("pk")[start : start + per_page + 1]))
    if not items and number > 1:
        return None
    return Listing(
        items[:per_page],
        number,
        number - 1 if number > 1 else None,
        number + 1 if len(items) > per_page else None,
    )


def home_series(*, staff: bool, page: int = 1) -> Listing:
    """A page of published series, with their lesson counts and first premium lesson: two
    queries whatever the number of series and lessons (the page of series, counted; their
    first premium lessons), each read from an index (a series' lessons counted in it, its
    first premium lesson found by walking its numbers, not by ranking all its premium ones)."""

    def compute():
        # The series listed are published: readers see their released lessons (staff: all).
        shown = Lesson.objects.all() if staff else Lesson.objects.released()

        def counted(access):
            return Coalesce(
                Subquery(
                    shown.filter(series=OuterRef("pk"), access=access)
                    .order_by()
                    .values("series")
                    .annotate(n=Count("*"))
                    .values("n")[:1]
                ),
                Value(0),
            )

        # Readers' premium lessons are the premium range's (premium_count): counted once.
        published = (
            Series.objects.published()
            .with_attached()
            .with_premium_range()
            .annotate(
                free_listed=counted(Lesson.Access.FREE),
                **({"premium_listed": counted(Lesson.Access.PREMIUM)} if staff else {}),
            )
        )
        listing = _page(published, page, SERIES_PER_PAGE)
        if listing is None:
            return None
        ids = [series.pk for series in listing.items]
        premium = shown.filter(access=Lesson.Access.PREMIUM).order_by("number")
        firsts = Series.objects.filter(pk__in=ids).values(
            first=Subquery(premium.filter(series=OuterRef("pk")).values("pk")[:1])
        )
        first_premium = {
            lesson.series_id: LessonLink(lesson.number, lesson.slug, lesson.title)
            for lesson in Lesson.objects.filter(pk__in=firsts)
            .only("series", "number", "slug", "title")
            .order_by()
        }
        for series in listing.items:
            if staff:
                series.premium_count = series.premium_listed
            series.free_count = series.free_listed
            series.lesson_count = series.free_count + series.premium_count
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
    found = find_series_page(slug, staff=staff, page=page)
    if found is None:
        raise Http404
    return found


def find_series_page(slug: str, *, staff: bool, page: int = 1) -> tuple[Series, Listing] | None:
    """series_page(), or None when the reader may not see it."""

    def compute():
        series = (
            visible_series(staff).with_attached().with_premium_range().filter(slug=slug).first()
        )
        if series is None:
            return None
        # The series is visible to the reader: its lessons they see are the released ones
        # (staff: all), read without joining the series again for each one skipped.
        shown = Lesson.objects.all() if staff else Lesson.objects.released()
        lessons = shown.filter(series=series).defer(*UNLISTED).order_by("number")
        listing = _page(lessons, page, LESSONS_PER_PAGE, key="number")
        if listing is None:
            return None
        for lesson in listing.items:
            lesson.series = series
        return series, listing

    return memo.get(
        ("series", slug, staff, page),
        compute,
        due=lambda found: found and found[0].premium_range.next_due,
    )
