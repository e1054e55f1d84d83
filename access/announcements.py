"""New-lesson e-mails: a published lesson, sent to the readers who have access to it and asked
for such e-mails (at sign-up or on My access), and to the series' followers (access/follows.py).

Staff queue an announcement in the admin, which writes one delivery per address and starts
the task that sends them (`send_queued`, run by the worker); `manage.py send_announcements`
sends whatever is due too, in the foreground. No web request waits on the mail server.

Sending keeps no transaction open while the mail server is spoken to: each delivery is
claimed in a short transaction of its own, handed to the server, and marked with the answer,
so a sender that stops half-way (a crash, a deploy) leaves every e-mail it sent marked sent,
and the next run carries on with the rest. A delivery claimed by a sender that stopped is
tried again after `CLAIM_SECONDS`; it carries the same Message-ID, so a mail program shows
one e-mail even if the server had taken it just before the stop. A try that fails is counted
on its own delivery only: the rest of the batch is not tried while the server is in trouble,
and waits until the failed one's next try (config.mail.RETRY_DELAYS).

Before each e-mail the address is checked again (still asking or following, still active,
still with access where access is why it gets one). An e-mail carries the lesson's title, its
summary and a link, never its text; the call to action for a reader who does not hold the
series; and a link that stops these e-mails without logging in (also offered to mail programs
as a one-click List-Unsubscribe, RFC 8058), in the reader's language.
"""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import mailers
from django.db import IntegrityError, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri

from access import offer
from access.models import Announcement, Delivery, Entitlement, Follow
from config import mail
from lessons.models import Lesson

UNSUBSCRIBE_SALT = "access.announcements.unsubscribe"
FOLLOWER_SALT = "access.announcements.unsubscribe.follower"
BATCH_SIZE = 50
# A delivery claimed longer ago than this by a sender that never said how it went (it
# stopped) is tried again. Sending one e-mail takes at most the SMTP timeout (10 s).
CLAIM_SECONDS = 300
MAX_ATTEMPTS = len(mail.RETRY_DELAYS) + 1
LANGUAGES = dict(settings.LANGUAGES)


def readers_with_access(lesson: Lesson, now=None):
    """Readers e-mailed because of their access: active accounts that asked for new-lesson
    e-mails, with a verified address and an active entitlement covering the lesson."""
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


def followers(lesson: Lesson):
    """The series' followers (a reader's follow only while their account is active)."""
    return Follow.objects.filter(series=lesson.series_id).filter(
        Q(user__isnull=True) | Q(user__is_active=True)
    )


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None


def recipients(lesson: Lesson, now=None) -> list[Recipient]:
    """Everyone `lesson` is e-mailed to, once per address: readers with access who asked,
    then followers (a reader's follow goes to their account's address)."""
    found: dict[str, Recipient] = {}
    for pk, address in readers_with_access(lesson, now).values_list("pk", "email"):
        found.setdefault(address.lower(), Recipient(address, pk))
    for follow in followers(lesson).select_related("user"):
        address = follow.user.email if follow.user else follow.email
        found.setdefault(address.lower(), Recipient(address, follow.user_id))
    return list(found.values())


def can_announce(lesson: Lesson) -> bool:
    """Only a lesson readers can see is announced (and only once: see queue())."""
    return Lesson.objects.published().filter(pk=lesson.pk).exists()


def queue(*, lesson: Lesson, site_url: str, created_by=None) -> tuple[Announcement, bool]:
    """Queue one delivery per recipient and, once they are saved, the task that sends them:
    (the announcement, True). A lesson is announced once: when it was already, by an earlier
    post or by one at the same moment (the lesson is unique among announcements), nothing
    more is queued and the existing announcement comes back, with False."""
    try:
        with transaction.atomic():
            announcement = Announcement.objects.create(
                lesson=lesson, site_url=site_url.rstrip("/"), created_by=created_by
            )
            Delivery.objects.bulk_create(
                [
                    Delivery(announcement=announcement, email=r.email, user_id=r.user_id)
                    for r in recipients(lesson)
                ],
                batch_size=1000,
            )
            transaction.on_commit(send_queued.enqueue)
    except IntegrityError:
        existing = Announcement.objects.filter(lesson=lesson).first()
        if existing is None:
            raise
        return existing, False
    return announcement, True


# Stopping the e-mails ------------------------------------------------------------------------


def unsubscribe_token(user) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))


def follower_token(follow: Follow) -> str:
    return signing.Signer(salt=FOLLOWER_SALT).sign(str(follow.pk))


def _address_or_reader(addresses: set[str], user) -> Q:
    """Follows of these addresses, or of this reader (when there is one)."""
    condition = Q(email__in=addresses)
    return condition | Q(user=user.pk) if user else condition


@dataclass(frozen=True)
class Subscriber:
    """Whom an unsubscribe link was made for: a reader, or a follower without an account
    (`follow` None once they stopped)."""

    user: object = None
    follow: Follow | None = None

    def stop(self) -> None:
        """No more new-lesson e-mails to this address: not as a reader with access, not as a
        follower of any series."""
        addresses = {self.follow.email} if self.follow else set()
        if self.user:
            addresses.add(self.user.email.lower())
            type(self.user).objects.filter(pk=self.user.pk).update(lesson_emails=False)
        Follow.objects.filter(_address_or_reader(addresses, self.user)).delete()


def subscriber_for_token(token: str) -> Subscriber | None:
    """Whom a token was made for, or None when it is not one of ours."""
    for salt in (UNSUBSCRIBE_SALT, FOLLOWER_SALT):
        try:
            pk = signing.Signer(salt=salt).unsign(token)
        except signing.BadSignature:
            continue
        if not pk.isdecimal():
            return None
        if salt == UNSUBSCRIBE_SALT:
            user = get_user_model().objects.filter(pk=int(pk)).first()
            return Subscriber(user=user) if user else None
        return Subscriber(follow=Follow.objects.filter(pk=int(pk)).first())
    return None


# The e-mail ----------------------------------------------------------------------------------


def text_of(fragment: str) -> str:
    """Stored, sanitised HTML (a series' call to action) as plain text for an e-mail."""
    text = re.sub(r"<li[^>]*>", "- ", fragment)
    text = re.sub(r"<br\s*/?>|</(p|h[1-6]|li|ul|ol|blockquote|pre|div)>", "\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


@dataclass(frozen=True)
class Audience:
    """What one delivery's e-mail needs to know about its address, decided when it is sent."""

    wanted: bool
    follow: Follow | None
    holds_series: bool
    language: str


def audience(delivery: Delivery, now) -> Audience:
    lesson = delivery.announcement.lesson
    user = delivery.user
    as_reader = bool(user) and readers_with_access(lesson, now).filter(pk=user.pk).exists()
    follow = followers(lesson).filter(_address_or_reader({delivery.email.lower()}, user)).first()
    holds = False
    if user:
        covering = Entitlement.objects.active(now).filter(user=user, series=lesson.series_id)
        holds = covering.filter(whole_series=True).exists() or (
            not lesson.is_free and covering.filter(lessons=lesson).exists()
        )
    chosen = (user.language if user else "") or (follow.language if follow else "")
    return Audience(
        wanted=as_reader or follow is not None,
        follow=follow,
        holds_series=holds,
        language=chosen if chosen in LANGUAGES else offer.of(lesson.series).selling_language,
    )


def message(delivery: Delivery, who: Audience) -> mail.Message:
    """The e-mail for one address, in its reader's language."""
    announcement = delivery.announcement
    lesson = announcement.lesson
    series = lesson.series
    selling = offer.of(series)
    site = announcement.site_url
    token = unsubscribe_token(delivery.user) if delivery.user else follower_token(who.follow)
    unsubscribe = iri_to_uri(site + reverse("access:unsubscribe", args=[token]))
    with translation.override(who.language):
        context = {
            "lesson": lesson,
            "series": series,
            "lesson_url": iri_to_uri(site + lesson.get_absolute_url()),
            "unsubscribe_url": unsubscribe,
            "SITE_NAME": settings.SITE_NAME,
            "follows": who.follow is not None,
            # the call to action, for a reader who cannot read the whole series
            "offer": None
            if who.holds_series or not (selling.cta_html or selling.has_contact)
            else {
                "text": text_of(offer.fill_html(selling.cta_html, series)),
                "price": offer.price_line(series),
                "instagram": selling.instagram_url,
                "whatsapp": selling.whatsapp_url,
            },
        }
        subject = render_to_string("access/email/new_lesson_subject.txt", context)
        body = render_to_string("access/email/new_lesson.txt", context)
    host = urlsplit(site).hostname or "localhost"
    return mail.Message(
        subject=f"[{settings.SITE_NAME}] {' '.join(subject.split())}",
        body=body,
        to=[delivery.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # The same for every try, so a copy sent twice (a sender stopped just after the
            # server took it) is one e-mail to the reader's mail program.
            "Message-ID": f"<lesson-{announcement.pk}.{delivery.pk}@{host}>",
        },
    )


# Sending -------------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0  # given up for good
    retrying: int = 0  # tried, failed, to be tried again
    errors: list[str] = field(default_factory=list)
    next_try: datetime | None = None  # the mail server is in trouble: nothing before this

    @property
    def tries(self) -> int:
        """E-mails handed to the mail server (or tried to be)."""
        return self.sent + self.failed + self.retrying

    @property
    def handled(self) -> int:
        return self.tries + self.skipped

    @property
    def could_not_send(self) -> bool:
        return bool(self.failed or self.retrying)

    def add(self, other: "SendReport") -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.failed += other.failed
        self.retrying += other.retrying
        self.errors += other.errors
        self.next_try = other.next_try or self.next_try

    def summary(self) -> str:
        return (
            f"Sent {self.sent}, skipped {self.skipped} (no longer wanted or no access), "
            f"failed {self.failed}, to be tried again {self.retrying}."
        )


def _due(now):
    waiting = Q(status=Delivery.Status.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(
        status=Delivery.Status.SENDING, claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)
    )
    return Delivery.objects.filter(waiting | abandoned)


def _claim(now) -> Delivery | None:
    """The next due delivery, marked as being sent, in a transaction of its own (a second
    sender at the same time skips it: row locks on PostgreSQL, one writer on SQLite)."""
    with transaction.atomic():
        pk = (
            _due(now)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        # Still due as it is taken (a database without row locks has another sender's claim
        # show here): else it is someone else's.
        if pk is None or not _due(now).filter(pk=pk).update(
            status=Delivery.Status.SENDING, claimed_at=now
        ):
            return None
    return Delivery.objects.select_related("announcement__lesson__series", "user").get(pk=pk)


def _record(delivery: Delivery, **fields) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def _failed_try(delivery: Delivery, error: Exception, now, report: SendReport) -> datetime | None:
    """Count the failed try on its delivery; when it is tried again, or None (given up, or a
    refusal that concerns this address only)."""
    attempts = delivery.attempts + 1
    text = f"{type(error).__name__}: {error}"[:300]
    report.errors.append(f"{delivery.email}: {text}")
    later = None if mail.is_permanent(error) else mail.retry_at(attempts, now)
    if later is None or attempts >= MAX_ATTEMPTS:
        _record(delivery, status=Delivery.Status.FAILED, attempts=attempts, error=text)
        report.failed += 1
        return None
    _record(
        delivery,
        status=Delivery.Status.QUEUED,
        attempts=attempts,
        error=text,
        next_attempt_at=later,
        claimed_at=None,
    )
    report.retrying += 1
    return later


def send_batch(*, size: int = BATCH_SIZE) -> SendReport:
    """Send up to `size` due deliveries over one connection to the mail server, outside any
    transaction (see the module's doc). When the server cannot be reached or fails for a
    while, the batch stops: the delivery in hand is tried again later, and every other due
    delivery waits until then, untried and uncounted."""
    report = SendReport()
    mailer = mailers.default
    connected = False
    try:
        for _ in range(size):
            now = timezone.now()
            delivery = _claim(now)
            if delivery is None:
                break
            who = audience(delivery, now)
            if not who.wanted:
                _record(delivery, status=Delivery.Status.SKIPPED, claimed_at=None)
                report.skipped += 1
                continue
            try:
                if not connected:
                    mailer.open()
                    connected = True
                mailer.send_messages([message(delivery, who)])
            except mail.SMTP_ERRORS as error:
                later = _failed_try(delivery, error, now, report)
                if later is not None:
                    # The server is away or in trouble: the rest waits for the next try.
                    _due(now).filter(status=Delivery.Status.QUEUED).update(next_attempt_at=later)
                    report.next_try = later
                    break
                continue
            _record(
                delivery,
                status=Delivery.Status.SENT,
                attempts=delivery.attempts + 1,
                sent_at=timezone.now(),
                error="",
                claimed_at=None,
            )
            report.sent += 1
    finally:
        if connected:
            mailer.close()
    return report


def send_due(*, size: int = BATCH_SIZE, max_batches: int = 0) -> SendReport:
    """Batches until nothing is due, the mail server is in trouble, or `max_batches`."""
    total = SendReport()
    batches = 0
    while not max_batches or batches < max_batches:
        report = send_batch(size=size)
        batches += 1
        total.add(report)
        if not report.handled or report.next_try:
            break
    return total


def next_due() -> datetime | None:
    """When the next delivery will be due (now or later), or None when none is waiting."""
    waiting = Delivery.objects.filter(status=Delivery.Status.QUEUED).aggregate(
        at=Min("next_attempt_at"),
        now=Min("pk", filter=Q(next_attempt_at__isnull=True)),
    )
    claimed = Delivery.objects.filter(status=Delivery.Status.SENDING).aggregate(
        at=Min("claimed_at")
    )["at"]
    times = [
        timezone.now() if waiting["now"] else waiting["at"],
        claimed + timedelta(seconds=CLAIM_SECONDS + 1) if claimed else None,
    ]
    return min((t for t in times if t), default=None)


class CouldNotSend(Exception):
    """Some e-mails could not be sent (they are tried again later, or were given up)."""


@task()
def send_queued() -> dict:
    """The worker's side of `send_announcements`: send a batch of what is due, then queue
    itself again for when the next delivery is due (at once when more is waiting, else after
    a failed try's pause), until nothing waits. Fails (so the task list shows it) when a try
    failed."""
    report = send_batch()  # one batch a task: a worker asked to stop (a deploy) stops after it
    when = next_due()
    if when is not None and when <= timezone.now():
        send_queued.enqueue()  # more than one task's share
    elif when is not None and send_queued.get_backend().supports_defer:
        send_queued.using(run_after=when).enqueue()
    if report.could_not_send:
        raise CouldNotSend(report.summary() + " " + "; ".join(report.errors[:5]))
    return {"sent": report.sent, "skipped": report.skipped}
