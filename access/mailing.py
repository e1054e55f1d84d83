"""The records of new-lesson e-mails: an announcement of a lesson, each copy of it to one
address, and the addresses following a series (the flows: access/announcements.py and
access/follows.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lessons.models import Lesson, Series


class Announcement(models.Model):
    """A published lesson e-mailed to the readers who have access to it and asked for such
    e-mails. Queued by staff in the admin (one delivery per reader), sent in batches by
    `manage.py send_announcements`, so no web request waits on the mail server."""

    lesson = models.OneToOneField(
        Lesson,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("lesson"),
    )
    site_url = models.URLField(
        _("site address"),
        editable=False,
        help_text=_("Where the links in the e-mail point: the site as staff used it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("queued by"),
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")

    def __str__(self):
        return str(self.lesson)


class Delivery(models.Model):
    """One copy of an announcement, to one address: the record that says whether it went.

    Each is claimed (`sending`) just before it is handed to the mail server and marked as soon
    as the server answered, one row at a time and outside any transaction, so a sender that
    stops half-way leaves every e-mail it sent marked sent, and the next one carries on with
    the rest. A try that failed is counted on the delivery it was made for and tried again
    after a pause (config.mail.RETRY_DELAYS); the others wait without being counted."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped (no longer wanted or no access)")
        FAILED = "failed", _("Failed")

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    email = models.EmailField(_("e-mail address"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The reader with this address, if it belongs to an account."),
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Not tried before this time (after a failed try).")
    )
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "email"], name="one_delivery_per_address"
            )
        ]
        indexes = [models.Index(fields=["status", "announcement"], name="delivery_status")]

    def __str__(self):
        return f"{self.announcement} → {self.email}"


class Follow(models.Model):
    """An address following a series: its new lessons are e-mailed there, whether or not the
    reader holds access (those without it get the series' call to action too). A logged-in
    reader follows with one tap; anyone else first confirms a link sent to the address (double
    opt-in), and nothing is stored until they do. Every e-mail stops them in one click."""

    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, related_name="+", verbose_name=_("series")
    )
    email = models.EmailField(_("e-mail address"), help_text=_("Kept in lower case."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("reader"),
        help_text=_("Set when a logged-in reader followed: the e-mails go to their address."),
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints = [
            models.UniqueConstraint(fields=["series", "email"], name="one_follow_per_address"),
            models.UniqueConstraint(
                fields=["user", "series"],
                condition=Q(user__isnull=False),
                name="one_follow_per_reader",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.series}"
