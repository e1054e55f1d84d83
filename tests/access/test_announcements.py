"""New-lesson e-mails: opting in, queueing from the admin, sending in batches by a command,
never premium text, and a one-click unsubscribe without logging in."""

import io
import re
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from access import announcements, services
from access.models import Announcement, Delivery
from tests.accounts.flows import sign_up
from tests.factories import make_lesson, make_user

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


def reader_with_access(series, *, wants=True, email=None):
    reader = make_user(email=email, lesson_emails=wants)
    services.grant(user=reader, series=series)
    return reader


@pytest.fixture
def author(db):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def send(*args) -> str:
    out = io.StringIO()
    call_command("send_announcements", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_recipients_are_readers_with_access_who_asked(series, lesson):
    wanted = reader_with_access(series, email="yes@example.com")
    reader_with_access(series, wants=False)
    make_user(lesson_emails=True)  # no access
    reader_with_access(series, email="unverified@example.com").emailaddress_set.update(
        verified=False
    )
    ended = reader_with_access(series)
    services.revoke_entitlements(ended.entitlements.all(), reason="refund")
    assert list(announcements.recipients(lesson)) == [wanted]


def test_queueing_sends_nothing_and_the_command_sends_in_batches(author, series, lesson):
    readers = [reader_with_access(series) for _ in range(5)]
    page = author.get(reverse("admin:access_announcement_announce", args=[lesson.pk]))
    assert "This e-mails <strong>5 readers</strong>" in page.text
    response = author.post(reverse("admin:access_announcement_announce", args=[lesson.pk]))
    assert response.status_code == 302
    assert mail.outbox == []  # the request never waits on the mail server
    assert Delivery.objects.filter(status="queued").count() == 5

    assert "Sent 5, skipped 0" in send("--batch-size", "2")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in readers)
    assert "Sent 0, skipped 0" in send()  # each e-mail goes once
    assert len(mail.outbox) == 5


def test_the_email_has_the_summary_and_link_never_premium_text(author, series, lesson):
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
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_readers_who_stopped_wanting_or_lost_access_are_skipped(series, lesson):
    stopped, lost, kept = (reader_with_access(series) for _ in range(3))
    announcements.queue(lesson=lesson, site_url="https://x.example")
    type(stopped).objects.filter(pk=stopped.pk).update(lesson_emails=False)
    services.revoke_entitlements(lost.entitlements.all(), reason="refund")
    assert "Sent 1, skipped 2" in send()
    assert [m.to for m in mail.outbox] == [[kept.email]]


def test_a_mail_server_failure_leaves_the_email_queued_for_the_next_run(
    series, lesson, monkeypatch
):
    reader_with_access(series)
    announcements.queue(lesson=lesson, site_url="https://x.example")

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    backend = type(announcements.mailers.default)
    monkeypatch.setattr(backend, "send_messages", refuse)
    assert "Sent 0" in send()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    monkeypatch.undo()
    assert "Sent 1" in send()


def test_only_a_published_lesson_is_announced_and_only_once(author, series, lesson):
    draft = make_lesson(series, number=8, status="draft", access="premium")
    url = reverse("admin:access_announcement_announce", args=[draft.pk])
    assert "Only a published lesson" in author.get(url).text
    assert author.post(url).status_code == 409
    announce = reverse("admin:access_announcement_announce", args=[lesson.pk])
    author.post(announce)
    assert author.post(announce).status_code == 409
    assert Announcement.objects.count() == 1


def test_the_lesson_page_in_the_admin_offers_the_announcement(author, lesson):
    page = author.get(reverse("admin:lessons_lesson_change", args=[lesson.pk])).text
    assert reverse("admin:access_announcement_announce", args=[lesson.pk]) in page


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
        response = Client(enforce_csrf_checks=True).post(
            self.url(reader), {"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
        reader.refresh_from_db()
        assert not reader.lesson_emails

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
    assert re.search(r'name="lesson_emails"[^>]*>', page)
    reader_client.post("/access/mine/emails/", {"lesson_emails": "on"})
    reader.refresh_from_db()
    assert reader.lesson_emails
    response = reader_client.post("/access/mine/emails/", {}, follow=True)
    reader.refresh_from_db()
    assert not reader.lesson_emails
    assert "We will not e-mail you about new lessons." in response.text
