import functools
import re
from functools import partial
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, models, router, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config import plainsql
from lessons import caching, images, markdown, share, timelimit

# The languages lessons can be written in (not the interface's: a series in English can be
# sold with Indonesian texts to readers who browse in Indonesian).
CONTENT_LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]
# PostgreSQL text search configuration per content language: English is stemmed; Indonesian
# has no stemmer in PostgreSQL, so its words are matched as written ("simple").
SEARCH_CONFIGS = {"en": "english", "id": "simple"}
PIN_PLACEHOLDER = "{pin}"
LINK_PLACEHOLDER = "{link}"
SERIES_PLACEHOLDER = "{series}"

_INSTAGRAM_HANDLE = re.compile(r"^(?!.*\.\.)(?!\.)[A-Za-z0-9._]{1,30}(?<!\.)$")
_WHATSAPP_NUMBER = re.compile(r"^[1-9][0-9]{7,14}$")


def normalise_instagram_handle(value: str) -> str:
    """ "@Some.Seller " → "Some.Seller"."""
    return (value or "").strip().removeprefix("@")


def normalise_whatsapp_number(value: str) -> str:
    """ "+62 812-3456-7890" → "6281234567890"."""
    return re.sub(r"[\s+().-]", "", value or "")


def validate_instagram_handle(value: str) -> None:
    if not _INSTAGRAM_HANDLE.match(normalise_instagram_handle(value)):
        raise ValidationError(
            _("An Instagram username has up to 30 letters, digits, periods and underscores."),
            code="invalid",
        )


def validate_whatsapp_number(value: str) -> None:
    if not _WHATSAPP_NUMBER.match(normalise_whatsapp_number(value)):
        raise ValidationError(
            _(
                "Write the number in international form, with the country code and without "
                "the leading 0, such as 62 812 3456 7890."
            ),
            code="invalid",
        )


def validate_body_size(value: str) -> None:
    limit = settings.LESSON_BODY_MAX_BYTES
    size = len(value.encode("utf-8"))
    if size > limit:
        raise ValidationError(
            _(
                "This text is %(size)s KB; the most a lesson can hold is %(limit)s KB. "
                "Split it into two lessons."
            ),
            code="too_large",
            params={"size": size // 1024, "limit": limit // 1024},
        )


def validate_pin_message(value: str) -> None:
    if value.strip() and PIN_PLACEHOLDER not in value:
        raise ValidationError(
            _("Put %(pin)s where the PIN goes."), code="no_pin", params={"pin": PIN_PLACEHOLDER}
        )


# Lesson slugs that would shadow a page of their series (/series/<slug>/feed/).
RESERVED_LESSON_SLUGS = frozenset({"feed"})


def validate_lesson_slug(value: str) -> None:
    if value in RESERVED_LESSON_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is the address of the series’ feed; choose another slug."),
            code="reserved",
            params={"slug": value},
        )


def markdown_errors(**texts: str) -> dict[str, list[str]]:
    """{field: messages} for the Markdown fields with ```mermaid blocks that cannot be drawn
    or images without alt text."""
    errors = {}
    for name, text in texts.items():
        problems = [str(problem) for problem in markdown.diagram_problems(text)]
        if "![" in text or "<img" in text.lower():
            try:
                rendered = render_short_markdown(text)
            except markdown.RenderError:
                rendered = ""  # the field's own validator says why it cannot be rendered
            problems += [str(p) for p in markdown.image_problems(rendered)]
        if problems:
            errors[name] = problems
    return errors


@functools.lru_cache(maxsize=4)
def render_text_within_limits(render, *args):
    """`render(*args)`, a text function of lessons.markdown, in a child process given
    LESSON_RENDER_SECONDS. Raises markdown.RenderError, with a message for the author, when the
    text passes the pipeline's limits or its time. The last few results are kept, so the save
    that follows validation does not render the same text again. Diagrams are drawn after,
    in this process, each within its own limits (lessons.diagrams)."""
    seconds = settings.LESSON_RENDER_SECONDS
    try:
        return timelimit.call(render, *args, seconds=seconds)
    except timelimit.TimeLimitExceeded:
        raise markdown.RenderError(
            [
                gettext(
                    "This text takes more than %(seconds)s seconds to render, so it cannot be "
                    "saved. Very long tables or lists, thousands of footnotes, headings or "
                    "short paragraphs are the usual cause: split it into two lessons, or "
                    "simplify it."
                )
                % {"seconds": f"{seconds:g}"}
            ]
        ) from None
    except timelimit.ChildFailed:
        raise markdown.RenderError(
            [gettext("This text could not be rendered (it needs too much memory); simplify it.")]
        ) from None


def render_markdown(source: str) -> str:
    """Markdown as safe HTML: a lesson's text in the live preview, with its headings' anchors
    as a save would store them."""
    return markdown.draw(render_text_within_limits(markdown.render_text, source))


def render_short_markdown(source: str) -> str:
    """A series' Markdown field (a description, a call to action...) as safe HTML."""
    return markdown.draw(render_text_within_limits(markdown.render_short_text, source))


def render_lesson(source: str) -> tuple[str, str]:
    """A lesson's body and its teaser as safe HTML, each from its own source."""
    body, teaser = render_text_within_limits(
        markdown.render_lesson_text, source, settings.LESSON_TEASER_WORDS
    )
    return markdown.draw(body), markdown.draw(teaser)


def validate_lesson_body(value: str) -> None:
    """The body and its teaser render within the limits (see render_text_within_limits)."""
    if len(value.encode("utf-8")) > settings.LESSON_BODY_MAX_BYTES:
        return  # validate_body_size says so, and rendering it would only waste time
    try:
        render_text_within_limits(markdown.render_lesson_text, value, settings.LESSON_TEASER_WORDS)
    except markdown.RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None


def validate_markdown(value: str) -> None:
    """A series' Markdown field renders within the limits."""
    try:
        render_text_within_limits(markdown.render_short_text, value)
    except markdown.RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None


def draw_share_images(cards) -> None:
    """Draw the share images once the save is committed (not inside its transaction, and
    not at all if it rolls back). A failure is logged, never the save's: the image is drawn
    again when first asked for."""
    for card in cards:
        transaction.on_commit(partial(share.ensure, card), robust=True)


class ChangeRecordingQuerySet(models.QuerySet):
    """Bulk writes change what readers see, as saves do (see lessons.caching)."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        caching.changed()
        return rows

    def delete(self):
        result = super().delete()
        caching.changed()
        return result

    delete.queryset_only = True


class SeriesQuerySet(ChangeRecordingQuerySet):
    def published(self):
        """Series readers may see: those marked published."""
        return self.filter(is_published=True)


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
    # Selling: what readers without access are shown, and how they reach the seller.
    cta_message = models.TextField(
        _("call to action"),
        blank=True,
        validators=[validate_markdown],
        help_text=_(
            "Markdown shown at the end of free lessons, on the series page above the locked "
            "lessons and on the home page, to readers who do not have the whole series: "
            "what the premium lessons give and how to get them."
        ),
    )
    cta_html = models.TextField(blank=True, editable=False)
    paywall_message = models.TextField(
        _("paywall message"),
        blank=True,
        validators=[validate_markdown],
        help_text=_(
            "Markdown shown under the teaser of a premium lesson to readers without access. "
            "Empty: the call to action is shown there too."
        ),
    )
    paywall_html = models.TextField(blank=True, editable=False)
    price = models.CharField(
        _("price"),
        max_length=120,
        blank=True,
        help_text=_("Optional, shown beside the buttons, such as “Rp 149.000 for lessons 2–7”."),
    )
    instagram_handle = models.CharField(
        _("Instagram username"),
        max_length=31,
        blank=True,
        validators=[validate_instagram_handle],
        help_text=_("Without @. The main button opens a direct message to this account."),
    )
    whatsapp_number = models.CharField(
        _("WhatsApp number"),
        max_length=32,
        blank=True,
        validators=[validate_whatsapp_number],
        help_text=_(
            "Optional second channel, in international form without +, such as 6281234567890."
        ),
    )
    sales_language = models.CharField(
        _("language of the selling texts"),
        max_length=16,
        choices=CONTENT_LANGUAGES,
        blank=True,
        help_text=_(
            "The language of the call to action, paywall message and PIN message, when it "
            "differs from the lessons’."
        ),
    )
    pin_message = models.TextField(
        _("PIN message"),
        blank=True,
        validators=[validate_pin_message],
        help_text=_(
            "The message prepared for a buyer when a PIN is issued for them, to paste into the "
            "DM. {pin} is replaced by the PIN, {link} by the page where it is redeemed and "
            "{series} by the title. Empty: a standard message in the language of the selling "
            "texts."
        ),
    )
    payments_enabled = models.BooleanField(
        _("payments on"),
        default=False,
        help_text=_(
            "Readers can also pay on the site (QRIS, e-wallets, bank transfer) beside the DM "
            "button, and get their PIN at once. Needs a price that starts with the amount, "
            "such as “Rp 149.000 …”."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SeriesQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.instagram_handle = normalise_instagram_handle(self.instagram_handle)
        self.whatsapp_number = normalise_whatsapp_number(self.whatsapp_number)
        self.render()
        before = (
            Series.objects.filter(pk=self.pk).values_list("title", "language").first()
            if self.pk
            else None
        )
        super().save(*args, **kwargs)
        caching.changed()
        if before and before[1] != self.language:
            SearchEntry.objects.reconfigure(self)
        cards = [share.series_card(self)]
        if before and before != (self.title, self.language):
            # The lessons' images name the series, in its language.
            for lesson in self.lessons.only("pk", "number", "title", "series_id"):
                lesson.series = self
                cards.append(share.lesson_card(lesson))
        draw_share_images(cards)

    def get_absolute_url(self):
        return reverse("lessons:series", kwargs={"slug": self.slug})

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        caching.changed()
        return result

    @property
    def author_name(self) -> str:
        return self.author or settings.SITE_NAME

    @property
    def selling_language(self) -> str:
        return self.sales_language or self.language

    @property
    def instagram_url(self) -> str:
        """A link that opens a direct message to the seller in Instagram."""
        return f"https://ig.me/m/{quote(self.instagram_handle)}" if self.instagram_handle else ""

    @property
    def whatsapp_url(self) -> str:
        """A WhatsApp chat with the seller, with a first message naming the series ready to
        send, in the reader's language."""
        if not self.whatsapp_number:
            return ""
        text = gettext("Hi! I would like to buy access to “%(series)s”.") % {"series": self.title}
        return f"https://wa.me/{self.whatsapp_number}?{urlencode({'text': text})}"

    @property
    def has_contact(self) -> bool:
        return bool(self.instagram_handle or self.whatsapp_number)

    def clean(self):
        if errors := markdown_errors(
            description=self.description,
            cta_message=self.cta_message,
            paywall_message=self.paywall_message,
        ):
            raise ValidationError(errors)

    RENDERED_FIELDS = ("description_html", "cta_html", "paywall_html")  # what render() writes

    def render(self) -> None:
        """Render the Markdown fields into stored HTML (RENDERED_FIELDS)."""
        self.description_html = render_short_markdown(self.description)
        self.cta_html = render_short_markdown(self.cta_message)
        self.paywall_html = render_short_markdown(self.paywall_message)


# Lessons changing number step aside to their number plus this, then take the new one.
NUMBER_OFFSET = 1_000_000

UNPUBLISHED_LABELS = {
    "draft": _("Draft"),
    "scheduled": _("Scheduled"),
    "series not published": _("Series not published"),
}


class LessonQuerySet(ChangeRecordingQuerySet):
    # What the search index is made of: a bulk update of these writes the lessons' entries
    # again (a free lesson made premium must not stay searchable in full).
    SEARCHED_FIELDS = frozenset(
        {"access", "title", "summary", "body_html", "teaser_html", "series", "series_id"}
    )

    def update(self, **kwargs):
        searched = bool(self.SEARCHED_FIELDS & kwargs.keys())
        ids = list(self.values_list("pk", flat=True)) if searched else []
        rows = super().update(**kwargs)
        for lesson in Lesson.objects.filter(pk__in=ids).select_related("series"):
            SearchEntry.objects.write(lesson)
        return rows

    def published(self):
        """Lessons readers may see: published, due (`published_at` has passed), in a
        published series. Every reader-facing list and page starts from here."""
        return self.filter(
            status=Lesson.Status.PUBLISHED,
            published_at__lte=timezone.now(),
            series__is_published=True,
        )

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

    def step_aside(self) -> int:
        """Move these lessons to numbers no lesson uses (their own plus NUMBER_OFFSET), so
        that others can take their numbers in the same transaction: how two lessons swap."""
        return self.update(number=F("number") + NUMBER_OFFSET)

    def renumber(self, numbers: dict[int, int]) -> None:
        """Give lessons (by primary key) new numbers in one go, so that numbers can be
        swapped or rotated within a series; the database's uniqueness holds throughout."""
        now = timezone.now()
        with transaction.atomic():
            self.filter(pk__in=numbers).step_aside()
            for pk, number in numbers.items():
                self.filter(pk=pk).update(number=number, updated_at=now)


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
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        self.render()
        with transaction.atomic():
            super().save(*args, **kwargs)
            SearchEntry.objects.write(self)
        caching.changed()
        draw_share_images([share.lesson_card(self)])

    def get_absolute_url(self):
        return reverse(
            "lessons:lesson", kwargs={"series_slug": self.series.slug, "slug": self.slug}
        )

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        caching.changed()
        return result

    def clean(self):
        if errors := markdown_errors(body=self.body):
            raise ValidationError(errors)

    @property
    def teaser_warning(self) -> str:
        """Why the public part of this premium lesson may not be what the author wants."""
        if self.is_free:
            return ""
        return markdown.teaser_warning(self.body, settings.LESSON_TEASER_WORDS)

    @property
    def go_live_label(self) -> str:
        """When readers see it, in a few words: "Draft", "Scheduled for 3 December 2026,
        09:00", "Published"..."""
        state = self.unpublished_state
        if state == "scheduled" and self.published_at:
            return gettext("Scheduled for %(date)s") % {
                "date": formats.date_format(
                    timezone.localtime(self.published_at), "DATETIME_FORMAT"
                )
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
        Raises markdown.RenderError for a body that `full_clean()` would refuse."""
        self.body_html, self.teaser_html = render_lesson(self.body)
        self.toc_html = markdown.table_of_contents(self.body_html)
        self.reading_minutes = markdown.reading_minutes(
            self.body_html, settings.LESSON_WORDS_PER_MINUTE
        )


class LessonImageQuerySet(models.QuerySet):
    def store(self, image: images.CleanImage, **fields) -> tuple["LessonImage", bool]:
        """The record of this checked image, putting its file in the media storage the first
        time; (record, created). The same image uploaded twice is kept once."""
        existing = self.filter(sha256=image.sha256).first()
        if existing:
            return existing, False
        name = images.store(image)
        record = self.create(
            file=name,
            width=image.width,
            height=image.height,
            size=len(image.content),
            sha256=image.sha256,
            **fields,
        )
        return record, True


class LessonImage(models.Model):
    """An image uploaded for lessons, checked and stripped of its metadata (lessons.images)
    and stored under a name made of its hash and size."""

    file = models.FileField(_("image"), max_length=200, editable=False)
    alt = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_(
            "What the image shows, for readers who cannot see it; used as the alt text in the "
            "Markdown to paste."
        ),
    )
    series = models.ForeignKey(
        Series,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
        verbose_name=_("series"),
        help_text=_("Optional: the series it is for, to find it again."),
    )
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = LessonImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lesson image")
        verbose_name_plural = _("lesson images")

    def __str__(self):
        return self.alt or self.file.name.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        """Its address at MEDIA_URL, whatever the storage (a folder served by the proxy, or
        object storage the proxy passes /media/ to)."""
        return images.url_for(self.file.name)

    @property
    def markdown(self) -> str:
        return images.markdown_for(self.url, self.alt)


class TextSearchVector(models.Field):
    """PostgreSQL's tsvector; `vector=query` matches it (`@@`). On SQLite a column nobody
    reads. Not django.contrib.postgres's SearchVectorField: importing that loads psycopg, 20 MB
    in every worker, even on SQLite."""

    description = "text search vector"

    def db_type(self, connection):
        return "tsvector"


@TextSearchVector.register_lookup
class _MatchesQuery(models.Lookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ {rhs}", (*lhs_params, *rhs_params)


class SearchEntryQuerySet(models.QuerySet):
    def write(self, lesson) -> None:
        """Replace the lesson's entries with ones made from its stored HTML (`lesson.series`
        loaded): the public part always, the whole text too for a premium lesson."""
        common = {
            "lesson": lesson,
            "config": SEARCH_CONFIGS.get(lesson.series.language, "simple"),
            "title": markdown.one_line(lesson.title),
            "summary": markdown.one_line(lesson.summary),
        }
        public = lesson.body_html if lesson.is_free else lesson.teaser_html
        entries = [SearchEntry(part="public", text=markdown.plain_text(public), **common)]
        if not lesson.is_free:
            entries.append(
                SearchEntry(part="full", text=markdown.plain_text(lesson.body_html), **common)
            )
        self.filter(lesson=lesson).delete()
        self.bulk_create(entries)
        self.filter(lesson=lesson)._write_vectors()

    def reconfigure(self, series) -> None:
        """After a series' language changed: its entries' configuration and vectors."""
        config = SEARCH_CONFIGS.get(series.language, "simple")
        stale = list(
            self.filter(lesson__series=series).exclude(config=config).values_list("pk", flat=True)
        )
        if stale:
            self.filter(pk__in=stale).update(config=config)
            self.filter(pk__in=stale)._write_vectors()

    def _write_vectors(self) -> None:
        """On PostgreSQL, the stored tsvector: title weighted A, summary B, text C, in each
        entry's configuration. (SQLite's FTS5 table follows the rows by itself.)"""
        if connection.vendor != "postgresql":
            return
        from django.contrib.postgres.search import SearchVector  # loads psycopg

        config = models.F("config")
        self.update(
            vector=SearchVector("title", weight="A", config=config)
            + SearchVector("summary", weight="B", config=config)
            + SearchVector("text", weight="C", config=config)
        )


class SearchEntry(models.Model):
    """What search reads of a lesson, written by `SearchEntry.objects.write()` when it is saved.

    A free lesson has one "public" entry with its whole text. A premium lesson has a "public"
    entry (title, summary and teaser) and a "full" one (title, summary and body), which
    `lessons.search` reads only for readers the access decision lets read the lesson in full.
    On PostgreSQL `vector` holds the weighted tsvector (GIN-indexed) in the series' text search
    configuration; on SQLite an FTS5 table mirrors these rows (see the migration).
    """

    class Part(models.TextChoices):
        PUBLIC = "public"  # everyone may read it
        FULL = "full"  # only readers who may read the lesson in full

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    part = models.CharField(max_length=6, choices=Part)
    config = models.CharField(max_length=32, help_text="PostgreSQL text search configuration.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    text = models.TextField(blank=True)
    vector = TextSearchVector(null=True, editable=False)

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "part"], name="one_search_entry_per_part")
        ]

    def __str__(self):
        return f"{self.lesson_id} ({self.part})"


class ProgressQuerySet(models.QuerySet):
    def record(self, *, user, lesson, finished: bool) -> None:
        """One statement: the reader opened the lesson (now), and read it to the end if
        `finished`. The first opening and the first finish are kept: "done on 3 May" stays
        true when they read it to the end again. (An upsert that keeps a value it finds,
        which bulk_create cannot say: INSERT … ON CONFLICT, as SQLite and PostgreSQL both
        write it.)"""
        now = timezone.now()
        connection = connections[self._db or router.db_for_write(Progress)]
        meta, quote = Progress._meta, connection.ops.quote_name
        table = quote(meta.db_table)
        names = ["user", "lesson", "opened_at", "seen_at", "finished_at"]
        fields = [meta.get_field(name) for name in names]
        user_id, lesson_id, seen_at, finished_at = (
            quote(f.column) for f in fields[:2] + fields[3:]
        )
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({user_id}, {lesson_id}) DO UPDATE SET "
            f"{seen_at} = EXCLUDED.{seen_at}, "
            f"{finished_at} = COALESCE({table}.{finished_at}, EXCLUDED.{finished_at})"
        )
        values = [user.pk, lesson.pk, now, now, now if finished else None]
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def marks_for(self, user, lessons) -> tuple[set[int], set[int]]:
        """(opened, done): which of these lessons the reader opened, and read to the end. One
        query for a logged-in reader, none for anyone else."""
        if not user.is_authenticated or not lessons:
            return set(), set()
        rows = self.filter(user=user, lesson__in=[lesson.pk for lesson in lessons])
        opened, done = set(), set()
        for lesson_id, finished_at in rows.values_list("lesson_id", "finished_at"):
            opened.add(lesson_id)
            if finished_at is not None:
                done.add(lesson_id)
        return opened, done

    def finished_at(self, user, lesson):
        """When the reader read this lesson to the end, or None (or not logged in)."""
        if not user.is_authenticated:
            return None
        # Every logged-in lesson page asks: one plain query (config/plainsql.py).
        row = plainsql.select_one(Progress, ["finished_at"], user=user.pk, lesson=lesson.pk)
        return row[0] if row else None

    def last_for(self, user):
        """The reader's most recently opened lesson that readers can still see, with the
        number, slug and title of the next published lesson of its series."""
        published = Lesson.objects.published()
        following = published.filter(
            series=models.OuterRef("lesson__series"), number__gt=models.OuterRef("lesson__number")
        ).order_by("number")
        return (
            self.filter(user=user, lesson__in=published)
            .select_related("lesson__series")
            .only(
                "finished_at",
                "lesson__number",
                "lesson__slug",
                "lesson__title",
                "lesson__series__slug",
                "lesson__series__title",
                "lesson__series__language",
            )
            .annotate(
                next_number=models.Subquery(following.values("number")[:1]),
                next_slug=models.Subquery(following.values("slug")[:1]),
                next_title=models.Subquery(following.values("title")[:1]),
            )
            .order_by("-seen_at")
            .first()
        )


class Progress(models.Model):
    """How far a logged-in reader got in a lesson: when they first and last opened it, and
    when they read it to the end (reached its end, or marked it done). Reported by a small
    request of its own after the lesson page has loaded, never by the page itself."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="one_progress_per_lesson")
        ]
        indexes = [models.Index(fields=["user", "-seen_at"])]

    def __str__(self):
        return f"{self.user_id} · {self.lesson_id}"
