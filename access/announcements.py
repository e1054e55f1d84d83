"""New-lesson e-mails: a published lesson, sent to the readers who have access to it and asked
for such e-mails (at sign-up or on My access).

Staff queue an announcement in the admin, which writes one delivery per reader and nothing
else; `manage.py send_announcements` sends the queued deliveries in batches, each batch over
one connection to the mail server, so no web request ever waits on it. Before each e-mail the
reader is checked again (still asking, still active, still with access). An e-mail carries the
lesson's title, its summary and a link, never its text, and a link that stops these e-mails
without logging in (also offered to mail programs as a one-click List-Unsubscribe).
"""

import smtplib
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from access.models import Announcement, Delivery, Entitlement
from lessons.models import Lesson

UNSUBSCRIBE_SALT = "access.announcements.unsubscribe"
BATCH_SIZE = 50


def recipients(lesson: Lesson, now=None):
    """Readers to e-mail about `lesson`: active accounts that asked for new-lesson e-mails,
    with a verified address and an active entitlement covering the lesson."""
    covering = Entitlement.objects.active(now).filter(series=lesson.series_id)
    if not lesson.is_free:
        covering = covering.filter(Q(whole_series=True) | Q(lessons=lesson))
    verified = EmailAddress.objects.filter(
        user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True
    )
    return get_user_model().objects.filter(
        Exists(verified),
        is_active=True,
        lesson_emails=True,
        pk__in=covering.values("user"),
    )


def can_announce(lesson: Lesson) -> bool:
    """Only a lesson readers can see, and only once."""
    return (
        Lesson.objects.published().filter(pk=lesson.pk).exists()
        and not Announcement.objects.filter(lesson=lesson).exists()
    )


def queue(*, lesson: Lesson, site_url: str, created_by=None) -> Announcement:
    """Queue one delivery per recipient; the sending is left to the command."""
    with transaction.atomic():
        announcement = Announcement.objects.create(
            lesson=lesson, site_url=site_url.rstrip("/"), created_by=created_by
        )
        Delivery.objects.bulk_create(
            [
                Delivery(announcement=announcement, user_id=pk)
                for pk in recipients(lesson).values_list("pk", flat=True)
            ],
            batch_size=1000,
        )
    return announcement


def unsubscribe_token(user) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))


def user_for_token(token: str):
    """The reader a token was made for, or None when it is not one of ours."""
    try:
        pk = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=pk).first()


def message(delivery: Delivery) -> EmailMessage:
    """The e-mail for one reader, in the language the series sells in."""
    announcement, user = delivery.announcement, delivery.user
    lesson = announcement.lesson
    series = lesson.series
    site = announcement.site_url
    unsubscribe = site + reverse("access:unsubscribe", args=[unsubscribe_token(user)])
    context = {
        "lesson": lesson,
        "series": series,
        "lesson_url": site + lesson.get_absolute_url(),
        "unsubscribe_url": unsubscribe,
        "SITE_NAME": settings.SITE_NAME,
    }
    with translation.override(series.selling_language):
        subject = render_to_string("access/email/new_lesson_subject.txt", context)
        body = render_to_string("access/email/new_lesson.txt", context)
    return EmailMessage(
        subject=f"[{settings.SITE_NAME}] {' '.join(subject.split())}",
        body=body,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@dataclass
class SendReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.failed


def send_batch(*, size: int = BATCH_SIZE, now=None) -> SendReport:
    """Send up to `size` queued deliveries over one mail-server connection. Rows are locked
    while they are sent (skipped by a second sender running at the same time, on
    PostgreSQL), and each is marked sent, skipped or, after MAX_ATTEMPTS tries, failed."""
    now = now or timezone.now()
    report = SendReport()
    with transaction.atomic():
        batch = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Delivery.Status.QUEUED)
            .select_related("announcement__lesson__series", "user")
            .order_by("pk")[:size]
        )
        if not batch:
            return report
        wanted: set[tuple[int, int]] = set()  # (announcement, reader) still to be e-mailed
        for announcement in {d.announcement for d in batch}:
            readers = [d.user_id for d in batch if d.announcement_id == announcement.pk]
            still = recipients(announcement.lesson, now).filter(pk__in=readers)
            wanted |= {(announcement.pk, pk) for pk in still.values_list("pk", flat=True)}
        try:
            with mailers.default as mailer:
                for delivery in batch:
                    _send_one(delivery, mailer, wanted, now, report)
        except (smtplib.SMTPException, OSError) as error:
            # The mail server cannot be reached: what was not sent stays queued.
            report.errors.append(f"{type(error).__name__}: {error}")
        Delivery.objects.bulk_update(batch, ["status", "attempts", "error", "sent_at"])
    return report


def _send_one(delivery: Delivery, mailer, wanted: set, now, report: SendReport) -> None:
    if (delivery.announcement_id, delivery.user_id) not in wanted:
        delivery.status = Delivery.Status.SKIPPED
        report.skipped += 1
        return
    delivery.attempts += 1
    try:
        mailer.send_messages([message(delivery)])
    except (smtplib.SMTPException, OSError) as error:
        delivery.error = f"{type(error).__name__}: {error}"[:300]
        report.errors.append(f"{delivery.user.email}: {delivery.error}")
        if delivery.attempts >= Delivery.MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
            report.failed += 1
        return
    delivery.status, delivery.sent_at, delivery.error = Delivery.Status.SENT, now, ""
    report.sent += 1
