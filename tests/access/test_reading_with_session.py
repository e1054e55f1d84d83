"""A lesson page reads the reader's session, their user, their grants in the lesson's series and
their progress on the lesson in one statement (Entitlement.objects.
grants_and_progress_with_session, asked through request.access.reading before anything asks
who the reader is). It answers as the session read on its own and grants_and_progress() for
its user answer, gives nothing to a session that is not live, and its rows open a page only to
the user Django's get_user() logs in, who must be the user the session's row names."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.utils import timezone

from access import querysets, services
from access.models import Entitlement
from accounts.models import Session
from accounts.sessions import SessionStore
from lessons.models import Progress
from tests.factories import make_lesson, make_series, make_user
from tests.postgres import require_postgres

pytestmark = pytest.mark.django_db

PREMIUM_TEXT = "The premium body only a reader with access may read."


@pytest.fixture
def lesson():
    series = make_series()
    make_lesson(series, number=1, access="free")
    return make_lesson(series, number=2, access="premium", body=PREMIUM_TEXT)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def with_session(key, lesson):
    """What the one statement reads: (the session store it loaded, its grants and finish)."""
    store = SessionStore(key)
    read = Entitlement.objects.grants_and_progress_with_session(
        store, lesson=lesson, progress_model=Progress
    )
    return store, read


@pytest.mark.parametrize(
    "state",
    ["nothing", "whole series", "this lesson", "another lesson", "ended", "revoked", "finished"],
)
def test_it_answers_as_the_session_and_the_grants_read_one_by_one(lesson, state):
    reader = make_user()
    other = make_lesson(lesson.series, number=3, access="premium")
    if state == "whole series":
        services.grant(user=reader, series=lesson.series)
    elif state == "this lesson":
        services.grant(user=reader, series=lesson.series, lessons=[lesson])
    elif state == "another lesson":
        services.grant(user=reader, series=lesson.series, lessons=[other])
    elif state == "ended":
        services.grant(
            user=reader, series=lesson.series, expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif state == "revoked":
        services.grant(user=reader, series=lesson.series)
        services.revoke_entitlements(Entitlement.objects.filter(user=reader), reason="refund")
    elif state == "finished":
        services.grant(user=reader, series=lesson.series)
        Progress.objects.record(user=reader, lesson=lesson, finished=True)
    # a neighbour who holds the series and read the lesson: none of it is the reader's
    neighbour = make_user()
    services.grant(user=neighbour, series=lesson.series)
    Progress.objects.record(user=neighbour, lesson=lesson, finished=True)
    logged_in(neighbour)
    key = session_key(logged_in(reader))

    store, (grants, finished) = with_session(key, lesson)

    # as the session, the reader's grants and their progress read one by one answer
    alone = SessionStore(key)
    assert dict(store.items()) == dict(alone.items()) and store.row_user_pk == reader.pk
    assert set(grants) == set(Entitlement.objects.grants_for(reader, series_id=lesson.series_id))
    assert finished == Progress.objects.finished_at(reader, lesson)
    assert (finished is not None) == (state == "finished")


def test_a_session_that_is_not_live_reads_nothing(lesson):
    reader = make_user()
    services.grant(user=reader, series=lesson.series)
    key = session_key(logged_in(reader))
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))

    store, (grants, finished) = with_session(key, lesson)

    assert grants == () and finished is None
    assert dict(store.items()) == {} and store.session_key is None


def test_values_that_cannot_be_read_in_one_statement_leave_the_session_to_its_own_read(lesson):
    """A number beyond its column's range finds no row: the statement is not run, and the
    session is loaded on its own when asked (the reader stays logged in)."""
    reader = make_user()
    key = session_key(logged_in(reader))
    store = SessionStore(key)
    beyond = type(lesson)(pk=2**63, series_id=lesson.series_id)
    assert (
        Entitlement.objects.grants_and_progress_with_session(
            store, lesson=beyond, progress_model=Progress
        )
        is None
    )
    assert not hasattr(store, "_session_cache")
    assert store.get(SESSION_KEY) == str(reader.pk) and store.session_key == key


def test_a_session_loaded_already_is_left_to_the_ordinary_reads(lesson):
    key = session_key(logged_in(make_user()))
    store = SessionStore(key)
    assert store.get(SESSION_KEY) is not None  # loaded, as anything asking who it is loads it
    assert (
        Entitlement.objects.grants_and_progress_with_session(
            store, lesson=lesson, progress_model=Progress
        )
        is None
    )
    assert with_session(None, lesson)[1] is None  # and a visitor without a session


class TestTheLessonPage:
    def test_reads_the_reader_with_their_access_in_one_query(
        self, lesson, django_assert_num_queries
    ):
        reader = make_user()
        services.grant(user=reader, series=lesson.series)
        client = logged_in(reader)
        client.get(lesson.get_absolute_url())
        with django_assert_num_queries(1) as captured:
            page = client.get(lesson.get_absolute_url())
        assert PREMIUM_TEXT in page.text and page.wsgi_request.user == reader
        (sql,) = [query["sql"] for query in captured.captured_queries]
        tables = ("accounts_session", "accounts_user", "access_entitlement", "lessons_progress")
        assert all(table in sql for table in tables)

    def test_a_revocation_locks_it_on_the_next_request(self, lesson):
        reader = make_user()
        services.grant(user=reader, series=lesson.series)
        client = logged_in(reader)
        assert PREMIUM_TEXT in client.get(lesson.get_absolute_url()).text
        services.revoke_entitlements(Entitlement.objects.filter(user=reader), reason="refund")
        page = client.get(lesson.get_absolute_url())
        assert PREMIUM_TEXT not in page.text and 'class="paywall"' in page.text

    def test_another_users_grants_never_open_it(self, lesson):
        """A session whose row names a user with access but whose data logs in another (rows
        out of step): the page is the logged-in reader's, locked."""
        holder, reader = make_user(), make_user()
        services.grant(user=holder, series=lesson.series)
        client = logged_in(reader)
        Session.objects.filter(pk=session_key(client)).update(user=holder)
        page = client.get(lesson.get_absolute_url())
        assert page.wsgi_request.user == reader
        assert PREMIUM_TEXT not in page.text and 'class="paywall"' in page.text

    @pytest.mark.parametrize("ended_by", ["deactivation", "a password change", "expiry"])
    def test_a_session_that_no_longer_logs_in_reads_the_teaser(self, lesson, ended_by):
        reader = make_user()
        services.grant(user=reader, series=lesson.series)
        client = logged_in(reader)
        if ended_by == "deactivation":
            type(reader).objects.filter(pk=reader.pk).update(is_active=False)
        elif ended_by == "a password change":
            reader.set_password("another horse battery staple")
            reader.save()
        else:
            Session.objects.filter(pk=session_key(client)).update(
                expire_date=timezone.now() - timedelta(seconds=1)
            )
        page = client.get(lesson.get_absolute_url())
        assert not page.wsgi_request.user.is_authenticated
        assert PREMIUM_TEXT not in page.text


@pytest.mark.parametrize(
    "statement",
    [
        querysets._grants_and_progress_with_session,
        querysets._series_reading_with_session,
    ],
    ids=["lesson page", "series page"],
)
def test_each_statement_is_one_psycopg_keeps_converted(statement):
    """psycopg converts a statement's placeholders once and keeps it only when it is at most
    MAX_CACHED_STATEMENT_LENGTH bytes long, with at most MAX_CACHED_STATEMENT_PARAMS values;
    a longer one is parsed again on every request (about 4% of a series page)."""
    require_postgres()
    from psycopg import _queries

    read = statement(Entitlement, Progress, Session)
    _connection, sql, params, *_ = read.prepared._compile(connection, "default")
    assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
