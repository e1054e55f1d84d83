"""Announcing a lesson by e-mail from the seller's desk: a page that says how many readers it
reaches, queueing without sending, only a published lesson, and only once however often the
form is sent (even at the same moment)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import Client
from django.urls import reverse

from access import announcements
from access.models import Announcement, Delivery
from tests.access.helpers import reader_with_access
from tests.conftest import run
from tests.factories import make_follow, make_lesson, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(series):
    return make_lesson(
        series, number=3, slug="fresh", title="Fresh lesson", access="premium",
        summary="What the new lesson is about.",
    )  # fmt: skip


@pytest.fixture
def author(db):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_queueing_sends_nothing_and_starts_the_sending_task(
    author, series, lesson, task_queue, django_capture_on_commit_callbacks
):
    readers = [reader_with_access(series) for _ in range(4)]
    make_follow(series, "fan@example.com")
    page = author.get(reverse("admin:access_announcement_announce", args=[lesson.pk]))
    assert "This e-mails <strong>5 readers</strong>" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = author.post(reverse("admin:access_announcement_announce", args=[lesson.pk]))
    assert response.status_code == 302
    assert mail.outbox == []  # the request never talks to the mail server
    assert Delivery.objects.filter(status="queued").count() == 5
    assert [r.task.name for r in task_queue.results] == ["send_queued"]

    assert run(task_queue) == [{"sent": 5, "skipped": 0}]
    addressed = sorted(m.to[0] for m in mail.outbox)
    assert addressed == sorted([r.email for r in readers] + ["fan@example.com"])
    assert task_queue.results == []  # nothing waits: the task did not queue itself again


def test_only_a_published_lesson_is_announced_and_only_once(author, series, lesson):
    draft = make_lesson(series, number=8, status="draft", access="premium")
    url = reverse("admin:access_announcement_announce", args=[draft.pk])
    assert "Only a published lesson" in author.get(url).text
    assert author.post(url).status_code == 409
    announce = reverse("admin:access_announcement_announce", args=[lesson.pk])
    assert "This e-mails" in author.get(announce).text
    author.post(announce)
    assert "announced already" in author.get(announce).text
    assert Announcement.objects.count() == 1


def test_announcing_twice_queues_once_and_shows_the_announcement(
    author, series, lesson, task_queue
):
    """A second post (a double tap, a reload, or one at the same moment that lost the race
    for the lesson's one announcement) queues nothing and lands on the first's page."""
    reader_with_access(series)
    announce = reverse("admin:access_announcement_announce", args=[lesson.pk])
    first = author.post(announce)
    again = author.post(announce, follow=True)
    announcement = Announcement.objects.get()
    assert first["Location"] == again.redirect_chain[0][0]
    assert again.redirect_chain[0][0].endswith(f"/{announcement.pk}/change/")
    assert "announced already: nothing more was queued" in again.text
    assert Delivery.objects.count() == 1
    assert LogEntry.objects.filter(object_id=str(announcement.pk)).count() == 1


def test_queueing_a_lesson_announced_at_the_same_moment_returns_that_announcement(series, lesson):
    """queue() trusts the one announcement per lesson, not a check before it: as if the
    other post had written its row between this one's check and its insert."""
    reader_with_access(series)
    first, created = announcements.queue(lesson=lesson, site_url="https://x.example")
    assert created
    again, created = announcements.queue(lesson=lesson, site_url="https://x.example")
    assert (again, created) == (first, False)
    assert Delivery.objects.count() == 1


def test_the_lesson_page_in_the_admin_offers_the_announcement(author, lesson):
    page = author.get(reverse("admin:lessons_lesson_change", args=[lesson.pk])).text
    assert reverse("admin:access_announcement_announce", args=[lesson.pk]) in page
