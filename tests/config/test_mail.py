"""Every e-mail leaves through a task (config/mail.py): queued by the request, sent by the
worker, tried again after a growing pause while the mail server is away, given up on a
refusal for good or once its code has expired; the database backend and its worker do it."""

import email.policy
import json
from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config import mail
from tests.conftest import run


def message(**fields) -> mail.Message:
    return mail.Message(
        **{"subject": "Your code", "body": "123456", "to": ["reader@example.com"], **fields}
    )


def test_sending_later_queues_a_task_and_sends_nothing(task_queue):
    mail.send_later(message())
    assert outbox.outbox == []
    (queued,) = task_queue.results
    assert (queued.task.name, queued.args[1]) == ("deliver", 1)
    assert run(task_queue) == ["sent"]
    (sent,) = outbox.outbox
    assert (sent.subject, sent.body, sent.to) == ("Your code", "123456", ["reader@example.com"])


def test_a_message_travels_as_json_with_its_parts(task_queue):
    rich = message(reply_to=["seller@example.com"], headers={"X-Kind": "notice"})
    rich.attach_alternative("<p>123456</p>", "text/html")
    mail.send_later(rich)
    (queued,) = task_queue.results
    assert json.loads(json.dumps(queued.args)) == list(queued.args)
    run(task_queue)
    (sent,) = outbox.outbox
    assert sent.reply_to == ["seller@example.com"]
    assert sent.extra_headers["X-Kind"] == "notice"
    assert sent.alternatives[0][0] == "<p>123456</p>"


def test_list_headers_are_written_on_one_line_never_as_an_encoded_word():
    url = "https://lessons.example.com/access/unsubscribe/" + "x" * 80 + "/"
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    written = message(headers=headers).message(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(written.as_bytes(), policy=email.policy.compat32)
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.django_db
def test_a_failed_try_is_tried_again_after_a_growing_pause(task_queue, smtp):
    smtp.down()
    mail.send_later(message())
    for attempt, pause in enumerate(mail.RETRY_DELAYS[:3], start=1):
        (outcome,) = run(task_queue)
        assert isinstance(outcome, OSError)  # connection refused
        (again,) = task_queue.results
        assert again.args[1] == attempt + 1
        planned = (again.task.run_after - timezone.now()).total_seconds()
        assert pause - 5 < planned <= pause
    smtp.restore()
    assert run(task_queue) == ["sent"]
    assert task_queue.results == []
    (received,) = smtp.parsed()
    assert received["Subject"] == "Your code"


def test_after_the_last_try_it_is_given_up(task_queue, smtp):
    smtp.down()
    last = len(mail.RETRY_DELAYS) + 1
    mail.deliver.enqueue(mail.as_data(message()), last, None)
    (outcome,) = run(task_queue)
    assert isinstance(outcome, OSError)
    assert task_queue.results == []


def test_a_refusal_for_good_is_not_tried_again(task_queue, smtp):
    smtp.refused.add("reader@example.com")
    mail.send_later(message())
    (outcome,) = run(task_queue)
    assert isinstance(outcome, mail.smtplib.SMTPRecipientsRefused)
    assert task_queue.results == []


def test_a_code_is_not_sent_once_it_has_expired(task_queue):
    mail.send_later(message(), deliver_by=timezone.now() - timedelta(seconds=1))
    assert run(task_queue) == ["expired"]
    assert outbox.outbox == []


def test_no_try_is_planned_after_the_code_expires(task_queue, smtp):
    smtp.down()
    mail.send_later(message(), deliver_by=timezone.now() + timedelta(seconds=5))
    run(task_queue)
    assert task_queue.results == []  # the next try (in 10 s) would come too late


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_and_its_worker_deliver_after_an_outage(settings, smtp):
    """The production set-up: the task is a row, `manage.py db_worker` runs it; a failed try
    is a failed row and the next try a new row, due later."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    smtp.down()
    mail.send_later(message())
    worker = ["db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0"]
    call_command(*worker, verbosity=0)
    rows = list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", "run_after"))
    assert [status for status, _ in rows] == ["FAILED", "READY"]
    assert rows[1][1] > timezone.now()  # not before its pause
    call_command(*worker, verbosity=0)
    assert smtp.messages == []  # nothing was due

    smtp.restore()
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    call_command(*worker, verbosity=0)
    statuses = DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True)
    assert list(statuses) == ["FAILED", "SUCCESSFUL"]
    (received,) = smtp.parsed()
    assert received["To"] == "reader@example.com"
