"""What a series page asks of a logged-in reader, in one query (Entitlement.objects.
series_reading, asked through request.access.listing): their grants in the series, their marks
on the listed lessons and whether they follow it. It answers as the three reads it stands for
(grants_for, Progress.objects.marks_for, follows.follows) answer one by one, for this reader
and nobody else, and a change to any of them shows on the next request."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import follows, services
from access.models import Entitlement
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


@pytest.mark.parametrize("state", READERS.values(), ids=READERS)
def test_it_answers_as_the_three_reads_for_this_reader_only(page, state, django_assert_num_queries):
    series, lessons, listed, other, elsewhere = page
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

    with django_assert_num_queries(1):
        answer = at_once(reader, series, listed)
    assert answer == one_by_one(reader, series, listed)
    grants, (opened, done), following = answer
    assert following is bool(state.get("follow"))
    assert (opened, done) == (
        ({listed[0].pk, listed[2].pk}, {listed[0].pk}) if state.get("progress") else (set(), set())
    )
    assert len(grants) == (1 if state.get("holds") else 0)


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
    # the session with its user, then the reader's grants, marks and follow (the series and
    # its lessons are kept)
    with django_assert_num_queries(2):
        page = reader_client.get(series.get_absolute_url()).text
    assert "badge--unlocked" not in page and page.count("badge--premium") == 2
    assert page.count("badge--done") == 1 and "You follow" in page
