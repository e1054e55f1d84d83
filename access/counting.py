"""What readers met, counted for the sales dashboard (access/dashboard.py): a logged-in
reader's first time at a lesson's paywall, and anonymous meetings with the offer per day."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lessons.models import Lesson, Series


class PaywallView(models.Model):
    """A logged-in reader reached the paywall of a premium lesson: one row per reader and
    lesson, kept from the first time, recorded by a small request the page sends after it
    has loaded (access.views.paywall_seen), never while the page itself is served."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique constraint's index starts with it
        verbose_name=_("reader"),
    )
    lesson = models.ForeignKey(
        Lesson,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # paywall_view_lesson_at below
        verbose_name=_("lesson"),
    )
    created_at = models.DateTimeField(_("first reached at"), default=timezone.now)

    class Meta:
        verbose_name = _("paywall view")
        verbose_name_plural = _("paywall views")
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="one_paywall_view_per_lesson")
        ]
        # The dashboard counts from these alone: a period (all series), or a series' lessons.
        indexes = [
            models.Index(fields=["created_at", "lesson", "user"], name="paywall_view_at"),
            models.Index(fields=["lesson", "created_at", "user"], name="paywall_view_lesson_at"),
        ]

    def __str__(self):
        return f"{self.user_id} → {self.lesson_id}"


class OfferCount(models.Model):
    """How often readers met a series' offer, per lesson and day, counted without knowing who
    they were: the paywall came into view, or they tapped its Instagram or WhatsApp button.
    One row per series, lesson (none: the series page or the home page), day and event, whose
    `count` is incremented (access.services.count_offer_event): no row per view, no personal
    data, no cookie; the pages themselves stay the same for every anonymous reader."""

    class Event(models.TextChoices):
        PAYWALL = "paywall", _("Paywall views")
        DM = "dm", _("DM taps")
        WHATSAPP = "whatsapp", _("WhatsApp taps")

    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="+", verbose_name=_("series")
    )
    lesson = models.ForeignKey(
        Lesson,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("lesson"),
        help_text=_("Empty: on the series page or the home page."),
    )
    day = models.DateField(_("day"))
    event = models.CharField(_("event"), max_length=10, choices=Event)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("offer count")
        verbose_name_plural = _("offer counts")
        indexes = [
            # The increment's lookup, and the dashboard's days (a period, or a series' days).
            models.Index(fields=["series", "lesson", "day", "event"], name="offer_count_key"),
            models.Index(fields=["day", "series"], name="offer_count_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.event} {self.lesson_id or self.series_id}: {self.count}"
