"""Plain SQL written once (config/plainsql.py): a read is its QuerySet's own statement,
compiled once, run with new values, read through the ORM's converters, so it answers as the
QuerySet does."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Session
from accounts.sessions import SessionStore
from config import plainsql
from tests.postgres import require_postgres

pytestmark = pytest.mark.django_db


def live_sessions(calls=None):
    def build(key, now):
        if calls is not None:
            calls.append(key)
        return Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
            "session_key", "expire_date"
        )

    field = Session._meta.get_field
    return plainsql.Prepared(
        build, key=lambda: field("session_key"), now=lambda: field("expire_date")
    )


@pytest.fixture
def sessions():
    now = timezone.now()
    for key, moved in [("ends-later", timedelta(hours=1)), ("ends-now", timedelta(0)),
                       ("ended", -timedelta(microseconds=1))]:  # fmt: skip
        Session.objects.create(session_key=key, session_data="", expire_date=now + moved)
    return now


@pytest.mark.parametrize("key", ["ends-later", "ends-now", "ended", "unknown"])
def test_a_prepared_read_answers_as_its_queryset(sessions, key, django_assert_num_queries):
    now = sessions
    expected = [
        list(row)
        for row in Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
            "session_key", "expire_date"
        )
    ]
    with django_assert_num_queries(1):
        rows = live_sessions().rows(using="default", key=key, now=now)
    assert rows == expected
    assert all(timezone.is_aware(expire_date) for _key, expire_date in rows)


def test_it_is_compiled_once_per_connection(sessions):
    calls = []
    read = live_sessions(calls)
    for key in ("ends-later", "ended", "unknown"):
        read.rows(using="default", key=key, now=sessions)
    assert len(calls) == 1


def test_a_number_beyond_its_columns_range_finds_nothing_as_the_orm_says(reader):
    from django.contrib.auth import get_user_model

    too_big = connection.ops.integer_field_range("BigAutoField")[1] + 1
    assert not get_user_model()._base_manager.filter(pk=too_big).exists()
    assert plainsql.select_one(get_user_model(), ["email"], pk=too_big) is None
    assert plainsql.select_one(get_user_model(), ["email"], pk=reader.pk) == [reader.email]


def test_a_value_the_query_does_not_use_is_refused():
    read = plainsql.Prepared(
        lambda key, now: Session.objects.filter(session_key=key).values_list("session_data"),
        key=lambda: Session._meta.get_field("session_key"),
        now=lambda: Session._meta.get_field("expire_date"),
    )
    with pytest.raises(ValueError, match="does not use"):
        read.rows(using="default", key="x", now=timezone.now())


def test_a_session_is_read_in_one_query_until_it_expires(django_assert_num_queries):
    store = SessionStore()
    store["reader"] = 7
    store.set_expiry(60)
    store.save()
    with django_assert_num_queries(1):
        assert SessionStore(store.session_key).load() == {"reader": 7, "_session_expiry": 60}
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now())
    again = SessionStore(store.session_key)
    assert again.load() == {}
    assert again.session_key is None


def _reads_of(columns: tuple[str, ...]):
    """A read of these columns of live sessions, and the statements PostgreSQL holds
    prepared for it on this connection."""
    field = Session._meta.get_field
    read = plainsql.Prepared(
        lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
            *columns
        ),
        key=lambda: field("session_key"),
        now=lambda: field("expire_date"),
    )

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            statements = [row[0] for row in cursor.fetchall()]
        return sum(
            re.findall(r'"accounts_session"\."(\w+)" AS', statement.partition(" FROM ")[0])
            == list(columns)
            for statement in statements
        )

    return read, prepared


def test_on_postgresql_each_read_is_prepared_once_per_connection(sessions):
    """Parsed and planned once per connection, then only executed (config/postgresql)."""
    require_postgres()
    read, prepared = _reads_of(("expire_date", "session_key"))
    assert prepared() == 0
    for key in ("ends-later", "ended", "unknown", "ends-later"):
        expected = [[sessions + timedelta(hours=1), key]] if key == "ends-later" else []
        assert read.rows(using="default", key=key, now=sessions) == expected
    assert prepared() == 1


def test_behind_a_pooler_in_transaction_mode_nothing_is_prepared(sessions):
    require_postgres()
    read, prepared = _reads_of(("session_data", "expire_date"))
    settings_dict = connection.settings_dict
    saved = settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        for _ in range(3):
            assert len(read.rows(using="default", key="ends-later", now=sessions)) == 1
    finally:
        settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = saved
    assert prepared() == 0


@pytest.mark.django_db(transaction=True)
def test_a_read_prepared_before_a_migration_changed_its_columns_type_still_answers():
    """A migration run from another connection (a deploy) changes the type of a column a
    prepared read returns: PostgreSQL refuses the old plan ("cached plan must not change
    result type"); the read forgets its statements and runs again, not a 500 on every
    logged-in request until the connection is recycled."""
    require_postgres()
    import psycopg

    read, _ = _reads_of(("session_data",))
    now = timezone.now()
    Session.objects.create(session_key="k", session_data="data", expire_date=now)
    assert read.rows(using="default", key="k", now=now - timedelta(hours=1)) == [["data"]]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("ALTER TABLE accounts_session ALTER COLUMN session_data TYPE varchar")
        try:
            assert read.rows(using="default", key="k", now=now - timedelta(hours=1)) == [["data"]]
        finally:
            other.execute("ALTER TABLE accounts_session ALTER COLUMN session_data TYPE text")
