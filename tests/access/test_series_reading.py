"""What a series page asks of a logged-in reader, in one query (Entitlement.objects.
series_reading, asked through request.access.listing): their grants in the series, their marks
on the listed lessons and whether they follow it. It answers as the three reads it stands for
(grants_for, Progress.objects.marks_for, follows.follows) answer one by one, for this reader
and nobody else, and a change to any of them shows on the next request."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from access import follows, services
from access.models import Entitlement
from accounts.models import Session
from accounts.sessions import SessionStore
from lessons.models import Progress
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def one_by_one(user, series, lessons):
    return (
        set(Entitlement.objects.grants_for(user, NOW, series_id=series.pk)),
        Progress.objects.marks_for(user, lessons),
        follows.follows(user, series.pk),
    )


def at_once(user, series, lessons):
    grants, marks, following = Entitlement.objects.series_reading(
        user, series_id=series.pk, lessons=lessons, progress_model=Progress, now=NOW
    )
    return set(grants), marks, following


@pytest.fixture
def page():
    """A series of six lessons, the page listing lessons 2 to 5 of them, and another series."""
    series = make_series()
    lessons = [make_lesson(series, number=n, access="premium") for n in range(1, 7)]
    other = make_series()
    return series, lessons, lessons[1:5], other, make_lesson(other, number=3, access="premium")


READERS = {
    "nothing": {},
    "the whole series": {"grant": "whole", "holds": True},
    "two lessons, one of them listed": {"grant": "lessons", "holds": True},
    "a revoked grant": {"grant": "whole", "revoked": True},
    "an ended grant": {"grant": "whole", "ends": -timedelta(seconds=1)},
    "a grant that ends later": {"grant": "whole", "ends": timedelta(days=1), "holds": True},
    "a follower": {"follow": True},
    "progress on and off the page": {"progress": True},
    "everything": {"grant": "lessons", "follow": True, "progress": True, "holds": True},
}


def reader_in(page, state):
    """A reader in `state` on the page's series, and a neighbour who holds, follows and read
    all of it."""
    series, lessons, _listed, other, elsewhere = page
    reader, neighbour = make_user(), make_user()
    # the neighbour holds, follows and read everything: none of it is the reader's
    services.grant(user=neighbour, series=series)
    follows.follow(user=neighbour, series=series)
    for lesson in lessons:
        Progress.objects.record(user=neighbour, lesson=lesson, finished=True)
    if state.get("grant"):
        entitlement = services.grant(
            user=reader,
            series=series,
            lessons=[lessons[0], lessons[2]] if state["grant"] == "lessons" else (),
            expires_at=NOW + state["ends"] if "ends" in state else None,
        )
        if state.get("revoked"):
            Entitlement.objects.filter(pk=entitlement.pk).update(revoked_at=NOW)
    services.grant(user=reader, series=other)  # another series' grant is not this page's
    if state.get("follow"):
        follows.follow(user=reader, series=series)
    follows.follow(user=reader, series=other)
    if state.get("progress"):
        for lesson, finished in [(lessons[0], True), (lessons[1], True), (lessons[3], False),
                                 (lessons[5], True), (elsewhere, True)]:  # fmt: skip
            Progress.objects.record(user=reader, lesson=lesson, finished=finished)
    return reader


@pytest.mark.parametrize("state", READERS.values(), ids=READERS)
def test_it_answers_as_the_three_reads_for_this_reader_only(page, state, django_assert_num_queries):
    series, _lessons, listed, _other, _elsewhere = page
    reader = reader_in(page, state)
    with django_assert_num_queries(1):
        answer = at_once(reader, series, listed)
    assert answer == one_by_one(reader, series, listed)
    grants, (opened, done), following = answer
    assert following is bool(state.get("follow"))
    assert (opened, done) == (
        ({listed[0].pk, listed[2].pk}, {listed[0].pk}) if state.get("progress") else (set(), set())
    )
    assert len(grants) == (1 if state.get("holds") else 0)


@pytest.mark.parametrize("state", READERS.values(), ids=READERS)
def test_read_with_the_session_it_answers_the_same(page, state, django_assert_num_queries):
    """As a series page asks before anything asks who the reader is: the session, its user
    and the same three reads, in one query (series_reading_with_session)."""
    series, _lessons, listed, _other, _elsewhere = page
    reader = reader_in(page, state)
    client = Client()
    client.force_login(reader)
    store = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    with django_assert_num_queries(1):
        grants, marks, following = Entitlement.objects.series_reading_with_session(
            store, series_id=series.pk, lessons=listed, progress_model=Progress
        )
    assert store.row_user_pk == reader.pk and store.get(SESSION_KEY) == str(reader.pk)
    assert (set(grants), marks, following) == one_by_one(reader, series, listed)


def test_another_users_rows_never_show_on_the_series_page(page):
    """A session whose row names a user who holds, follows and read the series, but whose data
    logs in another: the page is the logged-in reader's, with nothing of the other's."""
    series, lessons, _listed, _other, _elsewhere = page
    holder, reader = make_user(), make_user()
    services.grant(user=holder, series=series)
    follows.follow(user=holder, series=series)
    Progress.objects.record(user=holder, lesson=lessons[1], finished=True)
    client = Client()
    client.force_login(reader)
    Session.objects.filter(pk=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        user=holder
    )
    page = client.get(series.get_absolute_url())
    assert page.wsgi_request.user == reader
    assert "badge--unlocked" not in page.text and "badge--done" not in page.text
    assert "You follow" not in page.text


def test_a_page_of_no_lessons_has_no_marks(page):
    series, _lessons, _listed, _other, _elsewhere = page
    reader = make_user()
    follows.follow(user=reader, series=series)
    assert at_once(reader, series, []) == (set(), (set(), set()), True)


def test_the_series_page_asks_once_and_a_revoked_grant_locks_it_on_the_next_request(
    reader_client, reader, series, django_assert_num_queries
):
    lessons = [make_lesson(series, number=n, access="premium") for n in (1, 2)]
    entitlement = services.grant(user=reader, series=series)
    follows.follow(user=reader, series=series)
    Progress.objects.record(user=reader, lesson=lessons[0], finished=True)
    page = reader_client.get(series.get_absolute_url()).text
    assert page.count("badge--unlocked") == 2 and page.count("badge--done") == 1
    assert "You follow" in page
    services.revoke_entitlements(Entitlement.objects.filter(pk=entitlement.pk), reason="refund")
    # the session with its user, the reader's grants, marks and follow, in one query (the
    # series and its lessons are kept)
    with django_assert_num_queries(1):
        page = reader_client.get(series.get_absolute_url()).text
    assert "badge--unlocked" not in page and page.count("badge--premium") == 2
    assert page.count("badge--done") == 1 and "You follow" in page
