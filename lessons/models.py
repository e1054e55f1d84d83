import contextlib
import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config import plainsql
from lessons import budget, caching, images, markdown, share, timelimit

logger = logging.getLogger(__name__)

# The languages lessons can be written in (not the interface's: a series in English can be
# sold with Indonesian texts to readers who browse in Indonesian).
CONTENT_LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]
# PostgreSQL text search configuration per content language: English is stemmed; Indonesian
# has no stemmer in PostgreSQL, so its words are matched as written ("simple").
SEARCH_CONFIGS = {"en": "english", "id": "simple"}
PIN_PLACEHOLDER = "{pin}"
LINK_PLACEHOLDER = "{link}"
SERIES_PLACEHOLDER = "{series}"
PRICE_PLACEHOLDER = "{price}"
# What the selling texts (call to action, paywall message, price line) may say and have filled
# in from the published lessons when a page shows them (access/offer.py); the PIN message may
# also say {pin} and {link}.
SELLING_PLACEHOLDERS = ("price", "first_premium", "last_premium", "premium_count", "series")
PIN_MESSAGE_PLACEHOLDERS = (*SELLING_PLACEHOLDERS, "pin", "link")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The currencies a price can be in, and how an amount is written in each (access/offer.py).
CURRENCIES = [("IDR", _("Indonesian rupiah (Rp)"))]

# A price as sellers wrote it before it had its own number: "Rp 149.000 for lessons 2-7",
# "IDR 149,000", "Rp149.000,-". The amount is whole rupiah, grouped by threes or not at all.
_PRICE_TEXT = re.compile(
    r"^\s*(?:Rp\.?|IDR)\s*(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00|\.00)?"
    # not a decimal ("Rp 1.5 juta") nor an abbreviation ("Rp 150rb", "IDR 150k")
    r"(?![.,]?\d|\s*(?:rb|ribu|k|jt|juta)\b)",
    re.IGNORECASE,
)


def split_price_text(text: str) -> tuple[int | None, str]:
    """(amount, line) from a price written as text: "Rp 149.000 · for lessons 2-7" gives
    (149000, "{price} · for lessons 2-7"), so the line follows the amount from then on ("" when
    the text was the price alone); a text that does not start with a rupiah amount gives
    (None, the text)."""
    match = _PRICE_TEXT.match(text or "")
    if not match:
        return None, text or ""
    amount = int(re.sub(r"[.,]", "", match["amount"]))
    rest = text[match.end() :]
    return amount, PRICE_PLACEHOLDER + rest if rest.strip() else ""


_INSTAGRAM_HANDLE = re.compile(r"^(?!.*\.\.)(?!\.)[A-Za-z0-9._]{1,30}(?<!\.)$")
_WHATSAPP_NUMBER = re.compile(r"^[1-9][0-9]{7,14}$")


# A profile's address as Instagram's app and site share it: instagram.com/name, with or without
# https:// and www. (or m.), a trailing slash or a query ("?igsh=…"); also instagr.am/name and
# ig.me/m/name. Paths that are pages of Instagram, not profiles, are not usernames.
_INSTAGRAM_PROFILE = re.compile(
    r"^(?:https?://)?(?:(?:www|m)\.)?(?:instagram\.com|instagr\.am|ig\.me/m)/([^/?#\s]+)/?"
    r"(?:[?#]\S*)?$",
    re.IGNORECASE,
)
_INSTAGRAM_PAGES = frozenset(
    {"p", "reel", "reels", "stories", "explore", "accounts", "direct", "tv"}
)


def instagram_handle_from(text: str) -> str:
    """The Instagram username in what a seller typed or pasted: "name", "@name" or a profile
    address (https://instagram.com/name/?igsh=…); "" when it holds none (an e-mail address,
    a name with spaces, a note)."""
    value = (text or "").strip()
    if match := _INSTAGRAM_PROFILE.match(value):
        value = match[1]
        if value.lower() in _INSTAGRAM_PAGES:
            return ""
    value = value.removeprefix("@")
    return value if _INSTAGRAM_HANDLE.match(value) else ""


def normalise_instagram_handle(value: str) -> str:
    """ "@Some.Seller " or "https://www.instagram.com/some.seller/" → the username; anything
    else as typed, without spaces around it or a leading @ (for the validator to refuse)."""
    return instagram_handle_from(value) or (value or "").strip().removeprefix("@")


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


def _refuse_unknown_placeholders(value: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted({name for name in PLACEHOLDER.findall(value) if name not in allowed})
    if unknown:
        raise ValidationError(
            _(
                "%(unknown)s cannot be filled in. The placeholders are %(allowed)s: the price, "
                "the first and last premium lesson, how many there are, and the title."
            ),
            code="unknown_placeholder",
            params={
                "unknown": ", ".join(f"{{{name}}}" for name in unknown),
                "allowed": ", ".join(f"{{{name}}}" for name in allowed),
            },
        )


def validate_selling_text(value: str) -> None:
    """Only the placeholders the site fills in (SELLING_PLACEHOLDERS)."""
    _refuse_unknown_placeholders(value, SELLING_PLACEHOLDERS)


def validate_pin_message(value: str) -> None:
    if value.strip() and PIN_PLACEHOLDER not in value:
        raise ValidationError(
            _("Put %(pin)s where the PIN goes."), code="no_pin", params={"pin": PIN_PLACEHOLDER}
        )
    _refuse_unknown_placeholders(value, PIN_MESSAGE_PLACEHOLDERS)


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
    or images without alt text. Nothing when the request may not render at all (another
    render of the author's is running): the field's own validator says so."""
    if (bound := budget.current()) is not None and bound.refusal:
        return {}
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


def render_text_within_limits(render, *args):
    """`render(*args)`, a text function of lessons.markdown, in a child process given
    LESSON_RENDER_SECONDS, or what is left of the request's budget when less (lessons.budget;
    a newer live preview stops it). Raises markdown.RenderError, with a message for the author,
    when the text passes the pipeline's limits or its time, or when the request may not render
    (another render of the author's is running). The last few results are kept, so the save
    that follows validation does not render the same text again. Diagrams are drawn after,
    in this process, each within its own limits (lessons.diagrams)."""
    if (bound := budget.current()) is not None and bound.refusal:
        raise markdown.RenderError([bound.refusal])
    return _render_within_limits(render, *args)


@functools.lru_cache(maxsize=4)
def _render_within_limits(render, *args):
    limit = settings.LESSON_RENDER_SECONDS
    bound = budget.current()
    seconds = limit if bound is None or limit <= 0 else bound.seconds_for(limit)
    if limit > 0 and seconds <= 0.05:
        raise markdown.RenderError([_out_of_budget(bound)])
    try:
        return timelimit.call(
            render, *args, seconds=seconds, check=bound.check if bound is not None else None
        )
    except timelimit.TimeLimitExceeded:
        if seconds < limit:
            raise markdown.RenderError([_out_of_budget(bound)]) from None
        raise markdown.RenderError(
            [
                gettext(
                    "This text takes more than %(seconds)s seconds to render, so it cannot be "
                    "saved. Very long tables or lists, thousands of footnotes, headings or "
                    "short paragraphs are the usual cause: split it into two lessons, or "
                    "simplify it."
                )
                % {"seconds": f"{limit:g}"}
            ]
        ) from None
    except timelimit.ChildFailed:
        raise markdown.RenderError(
            [gettext("This text could not be rendered (it needs too much memory); simplify it.")]
        ) from None


def _out_of_budget(bound) -> str:
    return gettext(
        "The %(seconds)s seconds this request may spend rendering ran out before the text was "
        "rendered. Try again: diagrams already drawn are kept, so the next try goes further."
    ) % {"seconds": f"{bound.seconds:g}"}


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
    """A series' Markdown field renders within the limits. When the request may not render
    (see lessons.budget), the first field says why and the others stay quiet."""
    if (bound := budget.current()) is not None and bound.refusal:
        if message := bound.report_refusal():
            raise ValidationError(message, code="busy")
        return
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

    def with_premium_range(self):
        """Each series with its PremiumRange worked out in the same query (see
        `premium_range_annotations`); read it as `series.premium_range`."""
        return self.annotate(**premium_range_annotations(OuterRef("pk")))


@dataclass(frozen=True)
class PremiumRange:
    """A series' premium lessons that readers can see (published and due), as its selling
    texts name them: "lessons {first_premium}-{last_premium}", "{premium_count} lessons". It
    holds until `next_due`, when a scheduled lesson of the series comes out (None: none is)."""

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
            Subquery(premium.order_by().values("series").annotate(n=Count("pk")).values("n")[:1]),
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
    # Selling: what readers without access are shown, and how they reach the seller.
    cta_message = models.TextField(
        _("call to action"),
        blank=True,
        validators=[validate_markdown, validate_selling_text],
        help_text=_(
            "Markdown shown at the end of free lessons, on the series page above the locked "
            "lessons and on the home page, to readers who do not have the whole series: "
            "what the premium lessons give and how to get them. {price}, {first_premium}, "
            "{last_premium}, {premium_count} and {series} are filled in from the published "
            "lessons, so “lessons {first_premium}–{last_premium}” stays true when you add one."
        ),
    )
    cta_html = models.TextField(blank=True, editable=False)
    paywall_message = models.TextField(
        _("paywall message"),
        blank=True,
        validators=[validate_markdown, validate_selling_text],
        help_text=_(
            "Markdown shown under the teaser of a premium lesson to readers without access, "
            "with the same placeholders as the call to action. Empty: the call to action is "
            "shown there too."
        ),
    )
    paywall_html = models.TextField(blank=True, editable=False)
    price_amount = models.PositiveIntegerField(
        _("price"),
        null=True,
        blank=True,
        help_text=_(
            "What access to the premium lessons costs, as a whole number such as 149000: "
            "readers see Rp149.000 (Rp 149,000 in English), {price} in the texts is it, and "
            "the sales dashboard counts revenue with it. Leave it empty to show no price."
        ),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="IDR")
    price = models.CharField(
        _("price line"),
        max_length=120,
        blank=True,
        validators=[validate_selling_text],
        help_text=_(
            "Shown beside the buttons, such as “{price} · once, for lessons "
            "{first_premium}–{last_premium}”, with the call to action’s placeholders. Leave it "
            "empty to show the price alone."
        ),
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
            "DM. {pin} is replaced by the PIN, {link} by the page where it is redeemed, and the "
            "call to action’s placeholders ({series}, {price}…) as there. Empty: a standard "
            "message in the language of the selling texts."
        ),
    )
    payments_enabled = models.BooleanField(
        _("payments on"),
        default=False,
        help_text=_(
            "Readers can also pay on the site (QRIS, e-wallets, bank transfer) beside the DM "
            "button, and get their PIN at once. Needs a price."
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
        errors = markdown_errors(
            description=self.description,
            cta_message=self.cta_message,
            paywall_message=self.paywall_message,
        )
        if self.price_amount is None:
            for name in ("cta_message", "paywall_message", "price", "pin_message"):
                if PRICE_PLACEHOLDER in getattr(self, name):
                    errors.setdefault(name, []).append(
                        gettext("Set the price to use %(placeholder)s.")
                        % {"placeholder": PRICE_PLACEHOLDER}
                    )
        if errors:
            raise ValidationError(errors)

    @functools.cached_property
    def premium_range(self) -> PremiumRange:
        """Its premium lessons readers can see, as the selling texts name them: from the
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


INDEX_WARNING = _(
    "The lesson was saved, but its text could not be added to search in time: search finds it "
    "by its title only. Very long lines without spaces (code, data) are the usual cause: wrap "
    "or shorten them, then save again."
)


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
        return self.released().filter(series__is_published=True)

    def released(self):
        """Lessons published and due, whether or not their series is published yet: what a
        series' selling texts count (so staff preparing a series see them as readers will)."""
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
            indexed = SearchEntry.objects.write(self)
        self.index_warning = "" if indexed else str(INDEX_WARNING)
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


# What search indexes of a text, so that indexing is never why a save fails. PostgreSQL's
# to_tsvector takes time quadratic in the length of underscore_joined_words (16 KB of "_a" take
# four seconds), and splits them at the underscores anyway: in any run of characters without a
# space longer than LONG_RUN_CHARS, "_" is indexed as a space (identifiers of ordinary length
# stay whole in snippets). Text is indexed up to INDEXED_CHARS (a 500 KB lesson's first 30,000
# words or so). A text that still takes longer than INDEX_SECONDS is left out of the index, and
# the lesson is found by its title, with a warning to its author.
INDEXED_CHARS = 200_000
LONG_RUN_CHARS = 64
INDEX_SECONDS = 2
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN_CHARS + 1},}}")


def indexable(text: str) -> str:
    """Plain text as search indexes it (see above)."""
    if len(text) > INDEXED_CHARS:
        text = text[:INDEXED_CHARS].rsplit(" ", 1)[0]
    return _LONG_RUN.sub(lambda run: run[0].replace("_", " "), text)


@contextlib.contextmanager
def _statement_timeout(seconds: float):
    """PostgreSQL's statement timeout for the statements of this block, in the transaction
    (or savepoint) around it, which a cancelled statement rolls back with the setting."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, "
            "true)",
            [f"{seconds * 1000:.0f}"],
        )
        previous = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])


def _cancelled(error: DatabaseError) -> bool:
    """Whether PostgreSQL cancelled the statement (its statement timeout)."""
    return getattr(error.__cause__, "sqlstate", None) == "57014"


class SearchEntryQuerySet(models.QuerySet):
    def write(self, lesson) -> bool:
        """Replace the lesson's entries with ones made from its stored HTML (`lesson.series`
        loaded): the public part always, the whole text too for a premium lesson. False when
        its text could not be indexed in time (it is found by its title only)."""
        common = {
            "lesson": lesson,
            "config": SEARCH_CONFIGS.get(lesson.series.language, "simple"),
            "title": markdown.one_line(lesson.title),
            "summary": indexable(markdown.one_line(lesson.summary)),
        }
        public = lesson.body_html if lesson.is_free else lesson.teaser_html
        entries = [
            SearchEntry(part="public", text=indexable(markdown.plain_text(public)), **common)
        ]
        if not lesson.is_free:
            text = indexable(markdown.plain_text(lesson.body_html))
            entries.append(SearchEntry(part="full", text=text, **common))
        self.filter(lesson=lesson).delete()
        self.bulk_create(entries)
        return self.filter(lesson=lesson)._write_vectors()

    def reconfigure(self, series) -> None:
        """After a series' language changed: its entries' configuration and vectors."""
        config = SEARCH_CONFIGS.get(series.language, "simple")
        stale = list(
            self.filter(lesson__series=series).exclude(config=config).values_list("pk", flat=True)
        )
        if stale:
            self.filter(pk__in=stale).update(config=config)
            self.filter(pk__in=stale)._write_vectors()

    def _write_vectors(self) -> bool:
        """On PostgreSQL, the stored tsvector: title weighted A, summary B, text C, in each
        entry's configuration, within INDEX_SECONDS; past that, the title alone, and False.
        (SQLite's FTS5 table follows the rows by itself.)"""
        if connection.vendor != "postgresql":
            return True
        from django.contrib.postgres.search import SearchVector  # loads psycopg

        config = models.F("config")
        title = SearchVector("title", weight="A", config=config)
        try:
            with transaction.atomic(), _statement_timeout(INDEX_SECONDS):
                self.update(
                    vector=title
                    + SearchVector("summary", weight="B", config=config)
                    + SearchVector("text", weight="C", config=config)
                )
            return True
        except DatabaseError as error:
            if not _cancelled(error):
                raise
        logger.warning("Search vectors of %s took over %s s: titles only", self, INDEX_SECONDS)
        self.update(vector=title)
        return False


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
        true when they read it to the end again (config/plainsql.py's upsert, which keeps a
        value it finds, as bulk_create cannot)."""
        now = timezone.now()
        plainsql.upsert(
            Progress,
            {"user": user.pk, "lesson": lesson.pk, "opened_at": now, "seen_at": now,
             "finished_at": now if finished else None},
            unique=("user", "lesson"),
            update=("seen_at",),
            keep_first=("finished_at",),
            using=self._db,
        )  # fmt: skip

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
