"""New-lesson e-mails: who gets them (readers with access who asked, and followers), sending
by the worker or the command outside any
transaction with a record per address, retries that count only the tries made, the e-mail
itself (never premium text, in the reader's language, RFC 8058 one-click unsubscribe), and
the unsubscribe page."""

import io
import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import announcements, services
from access.models import Delivery, Follow
from access.offer.services import save_offer
from lessons.services import save_series
from tests.access.helpers import reader_with_access
from tests.accounts.flows import sign_up
from tests.conftest import run
from tests.factories import make_follow, make_lesson, make_series, make_user
from tests.postgres import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(series):
    return make_lesson(
        series,
        number=3,
        slug="fresh",
        title="Fresh lesson",
        access="premium",
        summary="What the new lesson is about.",
        body="Public part.\n\n<!-- more -->\n\nPREMIUM-ONLY-SENTENCE.",
    )


def send(*args) -> str:
    """send_announcements' output; CommandError (exit status 1) when it could not send."""
    out = io.StringIO()
    call_command("send_announcements", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refusing(monkeypatch, error=None, after=0):
    """The mail server takes `after` e-mails, then fails every later one with `error`."""
    backend = type(announcements.mailers.default)
    real = backend.send_messages
    taken = []

    def send_messages(self, messages):
        if len(taken) >= after:
            raise error or smtplib.SMTPServerDisconnected("gone")
        taken.extend(messages)
        return real(self, messages)

    monkeypatch.setattr(backend, "send_messages", send_messages)


def come_due():
    """Time passes: every failed try's pause is over."""
    Delivery.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


class TestWhoGetsThem:
    def test_readers_with_access_who_asked(self, series, lesson):
        wanted = reader_with_access(series, email="yes@example.com")
        reader_with_access(series, wants=False)
        make_user(lesson_emails=True)  # no access
        reader_with_access(series, email="unverified@example.com").emailaddress_set.update(
            verified=False
        )
        ended = reader_with_access(series)
        services.revoke_entitlements(ended.entitlements.all(), reason="refund")
        assert announcements.recipients(lesson) == [
            announcements.Recipient("yes@example.com", wanted.pk)
        ]

    def test_followers_too_once_per_address(self, series, lesson):
        buyer = reader_with_access(series, email="buyer@example.com")
        make_follow(series, user=buyer)  # a buyer who follows too: one e-mail
        free_reader = make_user(email="free@example.com")
        make_follow(series, user=free_reader)
        make_follow(series, "Stranger@Example.com")  # no account
        make_follow(make_series(), "other-series@example.com")
        make_follow(series, user=make_user(is_active=False))
        found = {(r.email, r.user_id) for r in announcements.recipients(lesson)}
        assert found == {
            ("buyer@example.com", buyer.pk),
            ("free@example.com", free_reader.pk),
            ("stranger@example.com", None),
        }


def test_the_command_sends_in_batches_and_each_email_goes_once(series, lesson):
    readers = [reader_with_access(series) for _ in range(5)]
    announcements.queue(lesson=lesson, site_url="https://x.example")
    assert "Sent 5, skipped 0" in send("--batch-size", "2")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in readers)
    assert "Sent 0, skipped 0" in send()
    assert len(mail.outbox) == 5
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


class TestTheEmail:
    def test_summary_and_link_never_premium_text(self, series, lesson):
        reader = reader_with_access(series, email="fan@example.com")
        announcements.queue(lesson=lesson, site_url="https://lessons.example.com/")
        send()
        (message,) = mail.outbox
        assert message.to == ["fan@example.com"]
        assert "Fresh lesson" in message.subject
        assert "What the new lesson is about." in message.body
        assert "https://lessons.example.com" + lesson.get_absolute_url() in message.body
        assert "PREMIUM-ONLY-SENTENCE" not in message.body
        assert "Public part" not in message.body
        token = announcements.unsubscribe_token(reader)
        assert f"https://lessons.example.com/access/unsubscribe/{token}/" in message.body

    def test_a_title_is_written_as_typed_not_html_escaped(self, series):
        series.title = "Cost Control <&>"
        save_series(series)
        lesson = make_lesson(series, title="Budgets & <limits>", summary="Fish & chips")
        reader_with_access(series)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        send()
        (message,) = mail.outbox
        assert "Budgets & <limits>" in message.subject
        assert "&amp;" not in message.subject + message.body
        assert "Cost Control <&>" in message.body

    @pytest.mark.parametrize(
        ("language", "expected"),
        [("en", "New lesson 3: Fresh lesson"), ("id", "Pelajaran baru 3: Fresh lesson")],
    )
    def test_in_the_readers_language_not_the_series_selling_language(
        self, series, lesson, language, expected
    ):
        series.offer.sales_language = "id" if language == "en" else "en"
        save_offer(series.offer)
        reader_with_access(series, language=language)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        send()
        assert expected in mail.outbox[0].subject

    def test_a_reader_who_never_chose_gets_the_series_selling_language(self, series, lesson):
        series.offer.sales_language = "id"
        save_offer(series.offer)
        reader_with_access(series, language="")
        announcements.queue(lesson=lesson, site_url="https://x.example")
        send()
        assert "Pelajaran baru 3" in mail.outbox[0].subject

    def test_a_follower_without_access_gets_the_call_to_action(self, series, lesson):
        series.offer.cta_message = "### Continue\n\nLessons 2 to 7 are **premium**: DM me."
        series.offer.instagram_handle = "became.ai"
        series.offer.price_line = "Rp149.000"
        save_offer(series.offer)
        make_follow(series, "fan@example.com", language="en")
        buyer = reader_with_access(series, email="buyer@example.com")
        make_follow(series, user=buyer)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        send()
        to = {m.to[0]: m.body for m in mail.outbox}
        assert "Lessons 2 to 7 are premium: DM me." in to["fan@example.com"]
        assert "Rp149.000" in to["fan@example.com"]
        assert "https://ig.me/m/became.ai" in to["fan@example.com"]
        assert "because you follow" in to["fan@example.com"]
        assert "https://ig.me/m/became.ai" not in to["buyer@example.com"]
        assert "Lessons 2 to 7" not in to["buyer@example.com"]

    def test_the_call_to_action_says_its_numbers_and_price_as_pages_do(self, series, lesson):
        series.offer.cta_message = "Lessons {first_premium}–{last_premium} for {price}."
        series.offer.price_amount = 149000
        series.offer.price_line = "{price} once"
        save_offer(series.offer)
        make_follow(series, "fan@example.com", language="en")
        announcements.queue(lesson=lesson, site_url="https://x.example")
        send()
        (message,) = mail.outbox
        assert "Lessons 3–3 for Rp 149,000." in message.body
        assert "Rp 149,000 once" in message.body
        assert "{" not in message.body

    def test_list_unsubscribe_as_rfc_8058_says_parsed_as_sent(self, series, lesson, smtp):
        """Read from the wire by the standard library: `<https://…>` on one line, never an
        encoded word a mail program cannot read as a link."""
        reader = reader_with_access(series)
        announcements.queue(
            lesson=lesson, site_url="https://a-rather-long-host-name.lessons.example.com/"
        )
        send()
        (message,) = smtp.parsed()
        token = announcements.unsubscribe_token(reader)
        assert message["List-Unsubscribe"] == (
            f"<https://a-rather-long-host-name.lessons.example.com/access/unsubscribe/{token}/>"
        )
        assert "=?" not in message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


class TestSkipped:
    def test_readers_who_stopped_wanting_or_lost_access(self, series, lesson):
        stopped, lost, kept = (reader_with_access(series) for _ in range(3))
        announcements.queue(lesson=lesson, site_url="https://x.example")
        type(stopped).objects.filter(pk=stopped.pk).update(lesson_emails=False)
        services.revoke_entitlements(lost.entitlements.all(), reason="refund")
        assert "Sent 1, skipped 2" in send()
        assert [m.to for m in mail.outbox] == [[kept.email]]

    def test_a_follower_who_stopped_following(self, series, lesson):
        make_follow(series, "gone@example.com")
        announcements.queue(lesson=lesson, site_url="https://x.example")
        Follow.objects.all().delete()
        assert "Sent 0, skipped 1" in send()


class TestTheMailServerAway:
    def test_only_the_try_made_is_counted_and_the_rest_waits(self, series, lesson, monkeypatch):
        for _ in range(3):
            reader_with_access(series)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        refusing(monkeypatch)
        with pytest.raises(CommandError, match="1 of 1 e-mails tried could not be sent"):
            send()
        rows = list(Delivery.objects.order_by("pk").values_list("status", "attempts"))
        assert rows == [("queued", 1), ("queued", 0), ("queued", 0)]
        tried = Delivery.objects.order_by("pk").first()
        assert "SMTPServerDisconnected: gone" in tried.error
        # every delivery waits for the next try, the ones not tried too
        assert Delivery.objects.filter(next_attempt_at__gt=timezone.now()).count() == 3
        assert "Sent 0, skipped 0" in send()  # nothing is due yet: no new try, exit 0

        monkeypatch.undo()
        come_due()
        assert "Sent 3" in send()
        assert list(Delivery.objects.values_list("attempts", flat=True).order_by("pk")) == [
            2,
            1,
            1,
        ]

    def test_a_server_that_hangs_mid_batch_costs_one_try(self, series, lesson, smtp):
        readers = [reader_with_access(series) for _ in range(4)]
        announcements.queue(lesson=lesson, site_url="https://x.example")
        assert "Sent 4" in send("--max-batches", "0")
        Delivery.objects.update(status="queued", attempts=0)
        smtp.messages.clear()
        smtp.hang()
        with pytest.raises(CommandError):
            send()
        assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 0, 1]
        assert "timed out" in Delivery.objects.get(attempts=1).error
        smtp.restore()
        come_due()
        assert "Sent 4" in send()
        assert sorted(to for _, (to,), _ in smtp.messages) == sorted(r.email for r in readers)

    def test_an_address_the_server_refuses_for_good_is_not_tried_again(self, series, lesson, smtp):
        reader_with_access(series, email="nobody@example.com")
        reader_with_access(series, email="somebody@example.com")
        smtp.refused.add("nobody@example.com")
        announcements.queue(lesson=lesson, site_url="https://x.example")
        with pytest.raises(CommandError, match="1 of 2"):
            send()
        statuses = dict(Delivery.objects.values_list("email", "status"))
        assert statuses == {"nobody@example.com": "failed", "somebody@example.com": "sent"}

    def test_given_up_after_the_last_try(self, series, lesson, monkeypatch):
        reader_with_access(series)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        refusing(monkeypatch)
        for _ in range(announcements.MAX_ATTEMPTS):
            with pytest.raises(CommandError):
                send()
            come_due()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("failed", announcements.MAX_ATTEMPTS)

    def test_the_task_queues_itself_for_the_next_try_and_fails_visibly(
        self, series, lesson, monkeypatch, task_queue
    ):
        reader_with_access(series)
        announcements.queue(lesson=lesson, site_url="https://x.example")
        refusing(monkeypatch)
        announcements.send_queued.enqueue()
        (outcome,) = run(task_queue)
        assert isinstance(outcome, announcements.CouldNotSend)
        (again,) = task_queue.results
        assert again.task.name == "send_queued"
        assert again.task.run_after == Delivery.objects.get().next_attempt_at


class TestACrashMidBatch:
    def test_the_next_run_sends_the_rest_and_nothing_twice(self, series, lesson, monkeypatch):
        readers = [reader_with_access(series) for _ in range(5)]
        announcements.queue(lesson=lesson, site_url="https://x.example")
        backend = type(announcements.mailers.default)
        real = backend.send_messages

        def dies_on_the_third(self, messages):
            if len(mail.outbox) == 2:
                raise SystemExit("killed")  # the process is stopped while it talks to SMTP
            return real(self, messages)

        monkeypatch.setattr(backend, "send_messages", dies_on_the_third)
        with pytest.raises(SystemExit):
            send()
        monkeypatch.undo()
        statuses = list(Delivery.objects.order_by("pk").values_list("status", flat=True))
        assert statuses == ["sent", "sent", "sending", "queued", "queued"]

        assert "Sent 2" in send()  # the rest; the one being sent is left to its claim's end
        Delivery.objects.filter(status="sending").update(
            claimed_at=timezone.now() - timedelta(seconds=announcements.CLAIM_SECONDS + 1)
        )
        assert "Sent 1" in send()
        assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in readers)
        ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
        assert len(ids) == 5  # one Message-ID per delivery, the same on every try


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_mail_server_is_spoken_to(monkeypatch):
    series = make_series()
    lesson = make_lesson(series, access="premium")
    for _ in range(3):
        reader_with_access(series)
    backend = type(announcements.mailers.default)
    real = backend.send_messages
    seen = []

    def send_messages(self, messages):
        seen.append(connection.in_atomic_block)
        return real(self, messages)

    monkeypatch.setattr(backend, "send_messages", send_messages)
    # Committed, the queue starts the sending task (run at once by the tests' backend) ...
    announcements.queue(lesson=lesson, site_url="https://x.example")
    assert seen == [False, False, False]
    # ... and the command, the same way.
    Delivery.objects.update(status="queued")
    assert "Sent 3" in send()
    assert seen == [False] * 6


@pytest.mark.django_db(transaction=True)
def test_senders_at_the_same_time_send_each_email_once():
    """Workers on several machines, and the timer's command, may send at the same moment:
    each delivery is claimed by one of them (row locks skipped on PostgreSQL)."""
    require_postgres()
    series = make_series()
    lesson = make_lesson(series, access="premium")
    readers = [reader_with_access(series) for _ in range(20)]
    with override_tasks_dummy():
        announcements.queue(lesson=lesson, site_url="https://x.example")
    barrier = threading.Barrier(4)
    errors = []

    def sender():
        try:
            barrier.wait()
            announcements.send_due(size=3)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in readers)
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def override_tasks_dummy():
    """Queue without starting the worker's task (the test's threads are the senders)."""
    from django.test import override_settings

    return override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    )


class TestUnsubscribe:
    def url(self, reader):
        return reverse("access:unsubscribe", args=[announcements.unsubscribe_token(reader)])

    def test_the_link_shows_a_button_and_changes_nothing_by_itself(self, series):
        reader = reader_with_access(series)
        response = Client().get(self.url(reader))
        assert response.status_code == 200
        assert "Stop new-lesson e-mails" in response.text
        assert "no-store" in response["Cache-Control"]
        reader.refresh_from_db()
        assert reader.lesson_emails

    def test_one_click_without_logging_in_or_a_csrf_token(self, series):
        reader = reader_with_access(series)
        make_follow(series, user=reader)
        response = Client(enforce_csrf_checks=True).post(
            self.url(reader), {"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
        reader.refresh_from_db()
        assert not reader.lesson_emails
        assert not Follow.objects.exists()  # nor as a follower

    def test_a_follower_without_an_account(self, series):
        kept = make_follow(series, "kept@example.com")
        follow = make_follow(series, "fan@example.com")
        make_follow(make_series(), "fan@example.com")
        token = announcements.follower_token(follow)
        response = Client(enforce_csrf_checks=True).post(
            reverse("access:unsubscribe", args=[token])
        )
        assert "Follow a series again from its page" in response.text
        assert list(Follow.objects.all()) == [kept]  # every series, that address only
        again = Client().post(reverse("access:unsubscribe", args=[token]))
        assert again.status_code == 200  # a second click finds it done

    @pytest.mark.parametrize("token", ["1", "1:forged", "not-a-token"])
    def test_a_forged_link_does_nothing(self, series, token):
        reader = reader_with_access(series)
        response = Client().post(reverse("access:unsubscribe", args=[token]))
        assert response.status_code == 404
        reader.refresh_from_db()
        assert reader.lesson_emails


def test_opting_in_at_sign_up(client):
    sign_up(client, "keen@example.com", lesson_emails="on")
    sign_up(Client(), "quiet@example.com")
    from accounts.models import User

    assert User.objects.get(email="keen@example.com").lesson_emails
    assert not User.objects.get(email="quiet@example.com").lesson_emails


def test_opting_in_and_out_on_my_access(reader_client, reader):
    page = reader_client.get("/access/mine/").text
    assert 'name="lesson_emails"' in page
    reader_client.post("/access/mine/emails/", {"lesson_emails": "on"})
    reader.refresh_from_db()
    assert reader.lesson_emails
    response = reader_client.post("/access/mine/emails/", {}, follow=True)
    reader.refresh_from_db()
    assert not reader.lesson_emails
    assert "We will not e-mail you about new lessons." in response.text
