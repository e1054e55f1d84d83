"""E-mail leaves through Django's task framework, never in a request.

`send_later(message)` stores the message as a task (`TASKS`: the database backend, run by
`manage.py db_worker`), so a request that sends a code, a reset link or a notice waits on the
database only, never on the mail server. The worker sends it; when the mail server is away,
slow or answers "try later", the message is tried again after a growing pause
(`RETRY_DELAYS`, about five hours in all), each try a task of its own. A server that refuses
the message for good (a 5xx answer) is not asked again, and a message that carries a code is
not sent once the code has expired (`deliver_by`). Whatever goes wrong is logged.

`Message` is the e-mail every sender here builds: Django's, except that `List-Unsubscribe`
and `List-Unsubscribe-Post` are written as RFC 2369 and RFC 8058 say (`<https://…>` on one
line), where Python's e-mail package would fold a long address into an encoded word that no
mail program reads as an unsubscribe link.
"""

import email.headerregistry
import email.policy
import logging
import smtplib
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives, mailers
from django.tasks import task
from django.utils import timezone

logger = logging.getLogger(__name__)

# The pause before each new try, in seconds: about five hours from the first try to the last.
RETRY_DELAYS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 3600, 3600, 3600)
# Account e-mails (codes, resets, notices) go before announcements waiting in the same queue.
ACCOUNT_MAIL_PRIORITY = 10
SMTP_ERRORS = (smtplib.SMTPException, OSError)


class _OneLineHeader(email.headerregistry.UnstructuredHeader):
    """Written as given, on one line (RFC 5322 allows 998 characters): a list of <URL>s that
    mail programs read, which must never become an encoded word."""

    def fold(self, *, policy):
        return f"{self.name}: {self}{policy.linesep}"


_headers = email.headerregistry.HeaderRegistry()
_headers.map_to_type("list-unsubscribe", _OneLineHeader)
_headers.map_to_type("list-unsubscribe-post", _OneLineHeader)


class Message(EmailMultiAlternatives):
    """An e-mail whose list headers reach mail programs as written (see the module's doc)."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(header_factory=_headers))


def as_data(message) -> dict:
    """A message as JSON-safe data, for a task's arguments."""
    if message.attachments:
        raise ValueError("E-mails with attachments are not sent through tasks.")
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": str(message.from_email),
        "to": [str(a) for a in message.to],
        "cc": [str(a) for a in message.cc],
        "bcc": [str(a) for a in message.bcc],
        "reply_to": [str(a) for a in message.reply_to],
        "headers": {str(k): str(v) for k, v in message.extra_headers.items()},
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "content_subtype": message.content_subtype,
    }


def from_data(data: dict) -> Message:
    message = Message(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    message.content_subtype = data["content_subtype"]
    return message


def send_later(message, *, deliver_by: datetime | None = None) -> None:
    """Queue `message` for the worker; `deliver_by`: not sent after this moment (a code that
    has expired by then is of no use to the reader, who can ask for a new one)."""
    deliver.enqueue(as_data(message), 1, deliver_by.isoformat() if deliver_by else None)


def is_permanent(error: BaseException) -> bool:
    """A 5xx answer: the server will refuse this message again, however often it is asked."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", 0) >= 500


def retry_at(attempt: int, now=None) -> datetime | None:
    """When to try again after try number `attempt` failed; None after the last one."""
    if attempt > len(RETRY_DELAYS):
        return None
    return (now or timezone.now()) + timedelta(seconds=RETRY_DELAYS[attempt - 1])


def _domains(data: dict) -> str:
    """Where a message goes, for the log: the domains, not the addresses."""
    return ", ".join(sorted({address.rpartition("@")[2] for address in data["to"]}))


@task(priority=ACCOUNT_MAIL_PRIORITY)
def deliver(message: dict, attempt: int = 1, deliver_by: str | None = None) -> str:
    """Send one message (try number `attempt`); when it fails for a while, queue the next try
    and fail this one, so the task list shows every failed try with its error."""
    now = timezone.now()
    deadline = datetime.fromisoformat(deliver_by) if deliver_by else None
    if deadline and now > deadline:
        logger.warning("E-mail to %s not sent: it expired while waiting.", _domains(message))
        return "expired"
    try:
        mailers.default.send_messages([from_data(message)])
    except SMTP_ERRORS as error:
        later = None if is_permanent(error) else retry_at(attempt, now)
        if later and deadline and later > deadline:
            later = None
        if later and deliver.get_backend().supports_defer:
            deliver.using(run_after=later).enqueue(message, attempt + 1, deliver_by)
            logger.warning(
                "E-mail to %s not sent (try %d: %s); trying again at %s.",
                _domains(message), attempt, error, later.isoformat(timespec="seconds"),
            )  # fmt: skip
        else:
            logger.error(
                "E-mail to %s not sent (try %d: %s); given up.", _domains(message), attempt, error
            )
        raise
    return "sent"
