import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from lessons import markdown, timelimit


@functools.lru_cache(maxsize=4)
def render_within_limits(render, *args):
    """`render(*args)`, a function of lessons.markdown, in a child process given
    LESSON_RENDER_SECONDS. Raises markdown.RenderError, with a message for the author, when the
    text passes the pipeline's limits or its time. The last few results are kept, so the save
    that follows validation does not render the same text again."""
    seconds = settings.LESSON_RENDER_SECONDS
    try:
        return timelimit.call(render, *args, seconds=seconds)
    except timelimit.TimeLimitExceeded:
        raise markdown.RenderError(
            [
                f"This text takes more than {seconds:g} seconds to render, so it cannot be "
                "saved. Very long tables or lists, thousands of footnotes, headings or short "
                "paragraphs are the usual cause: split it into two lessons, or simplify it."
            ]
        ) from None
    except timelimit.ChildFailed:
        raise markdown.RenderError(
            ["This text could not be rendered (it needs too much memory); simplify it."]
        ) from None


def validate_body_size(value: str) -> None:
    limit = settings.LESSON_BODY_MAX_BYTES
    size = len(value.encode("utf-8"))
    if size > limit:
        raise ValidationError(
            "This text is %(size)s KB; the most a lesson can hold is %(limit)s KB. "
            "Split it into two lessons.",
            code="too_large",
            params={"size": size // 1024, "limit": limit // 1024},
        )


def validate_lesson_body(value: str) -> None:
    """The body and its teaser render within the limits (see render_within_limits)."""
    if len(value.encode("utf-8")) > settings.LESSON_BODY_MAX_BYTES:
        return  # validate_body_size says so, and rendering it would only waste time
    try:
        render_within_limits(markdown.render_lesson, value, settings.LESSON_TEASER_WORDS)
    except markdown.RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None


def validate_markdown(value: str) -> None:
    try:
        render_within_limits(markdown.render, value)
    except markdown.RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None


class SeriesQuerySet(models.QuerySet):
    def published(self):
        """Series readers may see: those marked published."""
        return self.filter(is_published=True)


class Series(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(
        blank=True, validators=[validate_markdown], help_text="Markdown."
    )
    description_html = models.TextField(blank=True, editable=False)
    language = models.CharField(
        max_length=16, default="en", help_text="Language code of the lessons, such as en or id."
    )
    paywall_message = models.TextField(
        blank=True,
        validators=[validate_markdown],
        help_text="Markdown shown under the teaser of a premium lesson to readers without access.",
    )
    paywall_html = models.TextField(blank=True, editable=False)
    contact_url = models.URLField(
        blank=True, help_text="Where readers ask for an access PIN, such as an Instagram profile."
    )
    contact_label = models.CharField(
        max_length=80, blank=True, default="Get an access PIN", help_text="The button's text."
    )
    is_published = models.BooleanField(
        "published", default=False, help_text="Only published series are listed to readers."
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers are listed first.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SeriesQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name_plural = "series"

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.description_html = render_within_limits(markdown.render, self.description)
        self.paywall_html = render_within_limits(markdown.render, self.paywall_message)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("lessons:series", kwargs={"slug": self.slug})


class LessonQuerySet(models.QuerySet):
    def published(self):
        """Lessons readers may see: published, due (`published_at` has passed), in a
        published series. Every reader-facing list and page starts from here."""
        return self.filter(
            status=Lesson.Status.PUBLISHED,
            published_at__lte=timezone.now(),
            series__is_published=True,
        )


class Lesson(models.Model):
    class Access(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM = "premium", "Premium"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="lessons")
    number = models.PositiveIntegerField(help_text="Position in the series, unique within it.")
    part = models.CharField(
        max_length=200, blank=True, help_text='Optional, such as "Part 1: Foundations".'
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, help_text="Unique within the series.")
    summary = models.TextField(blank=True, help_text="One or two plain sentences for listings.")
    body = models.TextField(
        blank=True,
        validators=[validate_body_size, validate_lesson_body],
        help_text="Markdown. For premium lessons, a line <!-- more --> ends the public teaser; "
        "without it the teaser is the first blocks up to about "
        f"{settings.LESSON_TEASER_WORDS} words.",
    )
    body_html = models.TextField(blank=True, editable=False)
    teaser_html = models.TextField(blank=True, editable=False)
    reading_minutes = models.PositiveIntegerField(default=1, editable=False)
    access = models.CharField(
        max_length=10,
        choices=Access,
        default=Access.PREMIUM,
        help_text="Free lessons are open to everyone; premium ones show readers without "
        "access only the teaser.",
    )
    status = models.CharField(
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        help_text="Readers see a lesson only when it is published and its time has come.",
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When readers may see it; a future time schedules it. "
        "Set to now when a lesson is published without one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["series", "number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "slug"], name="lesson_slug_unique_in_series"),
            models.UniqueConstraint(
                fields=["series", "number"], name="lesson_number_unique_in_series"
            ),
        ]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        self.render()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(
            "lessons:lesson", kwargs={"series_slug": self.series.slug, "slug": self.slug}
        )

    @property
    def is_free(self) -> bool:
        return self.access == self.Access.FREE

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

    def render(self) -> None:
        """Render the body and the teaser, each from its own source, into stored HTML.
        Raises markdown.RenderError for a body that `full_clean()` would refuse."""
        self.body_html, self.teaser_html = render_within_limits(
            markdown.render_lesson, self.body, settings.LESSON_TEASER_WORDS
        )
        self.reading_minutes = markdown.reading_minutes(
            self.body_html, settings.LESSON_WORDS_PER_MINUTE
        )
