"""The teaching content: a series and its lessons, the rules of publication (which lessons
readers may see: `Lesson.objects.published()`), and the premium lessons a series has out.

Their save() saves the row and nothing more: rendering, search entries, share images and what
pages keep follow through lessons.services."""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lessons.addresses import slug_address
from lessons.rendering.teaser import teaser_warning
from lessons.rendering.text import reading_minutes
from lessons.rendering.toc import table_of_contents
from lessons.validators import (
    markdown_errors,
    validate_body_size,
    validate_lesson_body,
    validate_lesson_slug,
    validate_markdown,
)

# The languages lessons can be written in (a series' other texts may be in another language
# than its lessons, and the interface in either).
CONTENT_LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]


class SeriesQuerySet(models.QuerySet):
    def published(self):
        """Series readers may see: those marked published."""
        return self.filter(is_published=True)

    def with_attached(self):
        """Each series with the records other apps attach to it one to one (their models'
        OneToOneField to Series), in the same query: see `attached_to_series`."""
        return self.select_related(*attached_to_series())

    def with_premium_range(self):
        """Each series with its PremiumRange worked out in the same query (see
        `premium_range_annotations`); read it as `series.premium_range`."""
        return self.annotate(**premium_range_annotations(OuterRef("pk")))


def attached_to_series(prefix: str = "") -> list[str]:
    """The names, for select_related() (after `prefix`, such as "series__"), of the records
    other apps attach to a series one to one. Pages that show a series load them with it, so
    the parts other apps add to those pages through their template tags cost no query, and
    lessons/ need not know what they are."""
    return [
        prefix + relation.field.related_query_name()
        for relation in Series._meta.related_objects
        if relation.one_to_one
    ]


@dataclass(frozen=True)
class PremiumRange:
    """A series' premium lessons that readers can see (published and due): the first, the
    last and how many, as texts about the series may name them ("lessons {first_premium}-
    {last_premium}", "{premium_count} lessons"). It holds until `next_due`, when a scheduled
    lesson of the series comes out (None: none is)."""

    first: int | None = None
    last: int | None = None
    count: int = 0
    next_due: datetime | None = None


def premium_range_annotations(series) -> dict:
    """Annotations giving the PremiumRange of `series` (an OuterRef to it), for a query that
    loads a series or its lessons anyway: the range costs no query of its own."""
    premium = Lesson.objects.released().filter(series=series, access=Lesson.Access.PREMIUM)
    scheduled = Lesson.objects.filter(
        series=series, status=Lesson.Status.PUBLISHED, published_at__gt=timezone.now()
    )
    return {
        "premium_first": Subquery(premium.order_by("number").values("number")[:1]),
        "premium_last": Subquery(premium.order_by("-number").values("number")[:1]),
        "premium_count": Coalesce(
            Subquery(premium.order_by().values("series").annotate(n=Count("*")).values("n")[:1]),
            Value(0),
        ),
        "premium_next_due": Subquery(scheduled.order_by("published_at").values("published_at")[:1]),
    }


class Series(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(
        _("description"), blank=True, validators=[validate_markdown], help_text=_("Markdown.")
    )
    description_html = models.TextField(blank=True, editable=False)
    language = models.CharField(
        _("language of the lessons"),
        max_length=16,
        choices=CONTENT_LANGUAGES,
        default="en",
        help_text=_("Marks the lesson text for browsers, screen readers and search engines."),
    )
    author = models.CharField(
        _("author"),
        max_length=200,
        blank=True,
        help_text=_(
            "Who wrote the lessons, named in feeds and to search engines. Empty: the site’s name."
        ),
    )
    is_published = models.BooleanField(
        _("published"), default=False, help_text=_("Only published series are listed to readers.")
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Lower numbers are listed first.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SeriesQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("series")
        verbose_name_plural = _("series")
        indexes = [
            # The published series in their order, a page of them from the index alone
            # (lessons.pages.home_series), however far.
            models.Index(fields=["is_published", "position", "title"], name="series_listed"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return slug_address("lessons:series", slug=self.slug)

    @property
    def author_name(self) -> str:
        return self.author or settings.SITE_NAME

    def clean(self):
        if errors := markdown_errors(description=self.description):
            raise ValidationError(errors)

    @functools.cached_property
    def premium_range(self) -> PremiumRange:
        """Its premium lessons readers can see, as texts about it name them: from the
        annotations of `Series.objects.with_premium_range()` (or of a lesson's query, see
        lessons.pages) when the series came with them, else in one query."""
        first = getattr(self, "premium_first", None)
        if not hasattr(self, "premium_count"):
            row = self.premium_ranges(self.pk).get(self.pk)
            return row or PremiumRange()
        return PremiumRange(first, self.premium_last, self.premium_count, self.premium_next_due)

    def take_premium_range(self, source) -> None:
        """Take the range annotated on `source` (a lesson of this series loaded with
        `premium_range_annotations`)."""
        self.premium_range = PremiumRange(
            source.premium_first,
            source.premium_last,
            source.premium_count,
            source.premium_next_due,
        )

    @classmethod
    def premium_ranges(cls, pk=None) -> dict:
        """{series id: PremiumRange}, of one series (`pk`) or all, in one query."""
        queryset = cls.objects.all() if pk is None else cls.objects.filter(pk=pk)
        return {
            row.pk: row.premium_range for row in queryset.with_premium_range().only("pk").order_by()
        }

    RENDERED_FIELDS = ("description_html",)  # what render() writes

    def render(self) -> None:
        """Render the Markdown fields into stored HTML (RENDERED_FIELDS)."""
        from lessons.rendering.bounded import render_short_markdown  # loads Markdown

        self.description_html = render_short_markdown(self.description)


UNPUBLISHED_LABELS = {
    "draft": _("Draft"),
    "scheduled": _("Scheduled"),
    "series not published": _("Series not published"),
}


INDEX_WARNING = _(
    "The lesson was saved, but its text could not be added to search in time: search finds it "
    "by its title only. Very long lines without spaces (code, data) are the usual cause: wrap "
    "or shorten them, then save again."
)


class LessonQuerySet(models.QuerySet):
    def published(self):
        """Lessons readers may see: published, due (`published_at` has passed), in a
        published series. Every reader-facing list and page starts from here."""
        return self.released().filter(series__is_published=True)

    def released(self):
        """Lessons published and due, whether or not their series is published yet: what
        texts about a series count (so staff preparing a series see them as readers will)."""
        return self.filter(status=Lesson.Status.PUBLISHED, published_at__lte=timezone.now())

    def next_publication(self):
        """When the next scheduled lesson becomes visible (None when none is scheduled):
        lists of published lessons kept in a cache must not outlive it."""
        return self.filter(
            status=Lesson.Status.PUBLISHED,
            published_at__gt=timezone.now(),
            series__is_published=True,
        ).aggregate(next=models.Min("published_at"))["next"]

    def numbered(self, numbers):
        """The lessons with these numbers, in order; numbers no lesson has are left out."""
        return self.filter(number__in=numbers).order_by("number")


class Lesson(models.Model):
    class Access(models.TextChoices):
        FREE = "free", _("Free")
        PREMIUM = "premium", _("Premium")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("series")
    )
    number = models.PositiveIntegerField(
        _("number"), help_text=_("Position in the series, unique within it.")
    )
    part = models.CharField(
        _("part"), max_length=200, blank=True, help_text=_("Optional, such as “Part 1: Basics”.")
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        validators=[validate_lesson_slug],
        help_text=_("Unique within the series."),
    )
    summary = models.TextField(
        _("summary"),
        blank=True,
        help_text=_("One or two plain sentences for listings, search engines and shared links."),
    )
    body = models.TextField(
        _("body"),
        blank=True,
        validators=[validate_body_size, validate_lesson_body],
        help_text=_(
            "Markdown. For premium lessons, a line <!-- more --> ends the public teaser; "
            "without it the teaser is the first few paragraphs."
        ),
    )
    body_html = models.TextField(blank=True, editable=False)
    teaser_html = models.TextField(blank=True, editable=False)
    toc_html = models.TextField(blank=True, editable=False)
    reading_minutes = models.PositiveIntegerField(
        _("reading time (minutes)"), default=1, editable=False
    )
    access = models.CharField(
        _("access"),
        max_length=10,
        choices=Access,
        default=Access.PREMIUM,
        help_text=_(
            "Free lessons are open to everyone; premium ones show readers without access only "
            "the teaser."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        help_text=_("Readers see a lesson only when it is published and its time has come."),
    )
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_(
            "When readers may see it; a future time schedules it. Set to now when a lesson is "
            "published without one."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["series", "number"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["series", "slug"], name="lesson_slug_unique_in_series"),
            models.UniqueConstraint(
                fields=["series", "number"], name="lesson_number_unique_in_series"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            # A series' published lessons, in a list or counted (lessons/pages.py).
            models.Index(
                fields=["series", "status", "published_at"], name="lesson_series_published"
            ),
            # A series' released lessons of one access, counted from the index alone (the
            # premium range, the home page's counts) whatever the series' length.
            models.Index(
                fields=["series", "access", "status", "published_at"], name="lesson_series_access"
            ),
            # A series' visible lessons in order of number, read from the index alone: the
            # first and last premium ones, and where a page of the list starts, however far.
            models.Index(
                fields=["series", "number", "access", "status", "published_at"],
                name="lesson_series_number",
            ),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def save(self, *args, **kwargs):
        """Saves the row only: rendering, the search index, the share image and what pages
        keep follow through lessons.services.save_lesson."""
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_address("lessons:lesson", series_slug=self.series.slug, slug=self.slug)

    def clean(self):
        if errors := markdown_errors(body=self.body):
            raise ValidationError(errors)

    @property
    def teaser_warning(self) -> str:
        """Why the public part of this premium lesson may not be what the author wants."""
        if self.is_free:
            return ""
        return teaser_warning(self.body, settings.LESSON_TEASER_WORDS)

    @property
    def go_live_label(self) -> str:
        """When readers see it, in a few words: "Draft", "Scheduled for 3 December 2026,
        09:00 WIB" (in TIME_ZONE, named), "Published"..."""
        state = self.unpublished_state
        if state == "scheduled" and self.published_at:
            moment = timezone.localtime(self.published_at)
            return gettext("Scheduled for %(date)s") % {
                "date": f"{formats.date_format(moment, 'DATETIME_FORMAT')} {moment.tzname()}"
            }
        return str(UNPUBLISHED_LABELS.get(state) or self.Status.PUBLISHED.label)

    @property
    def is_free(self) -> bool:
        return self.access == self.Access.FREE

    @property
    def unpublished_label(self) -> str:
        return str(UNPUBLISHED_LABELS.get(self.unpublished_state, ""))

    @property
    def unpublished_state(self) -> str:
        """Why readers cannot see this lesson ("draft", "scheduled"...), or "" when they can."""
        if self.status == self.Status.DRAFT:
            return "draft"
        if self.published_at is None or self.published_at > timezone.now():
            return "scheduled"
        if not self.series.is_published:
            return "series not published"
        return ""

    RENDERED_FIELDS = ("body_html", "teaser_html", "toc_html", "reading_minutes")

    def render(self) -> None:
        """Render the body and the teaser, each from its own source, into stored HTML, and
        the body's table of contents (shown only beside the body, never beside a teaser).
        Raises RenderError for a body that `full_clean()` would refuse."""
        from lessons.rendering.bounded import render_lesson  # loads Markdown

        self.body_html, self.teaser_html = render_lesson(self.body)
        self.toc_html = table_of_contents(self.body_html)
        self.reading_minutes = reading_minutes(self.body_html, settings.LESSON_WORDS_PER_MINUTE)
