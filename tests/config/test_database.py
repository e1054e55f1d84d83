"""Fail fast on the database: connect and statement timeouts from the environment, and a
deadline on every reply, so a hung PostgreSQL gives an error in seconds, never a hang."""

import json
import time

import pytest
from django.db import OperationalError, connection, connections

from config.postgresql.base import PING_SECONDS, DatabaseWrapper
from tests.config.test_security import manage
from tests.e2e.servers import Outage
from tests.postgres import require_postgres

OPTIONS = (
    "import json; from django.conf import settings; "
    "d = settings.DATABASES['default']; print(json.dumps([d['ENGINE'], d['OPTIONS']]))"
)


@pytest.mark.parametrize(
    ("env", "options"),
    [
        (
            {},
            {
                "connect_timeout": 3,
                "options": "-c statement_timeout=5s",
                "reply_timeout": 6,
                "keepalives": 1,
                "keepalives_idle": 30,
            },
        ),
        (
            {"DATABASE_CONNECT_TIMEOUT": "2", "DATABASE_STATEMENT_TIMEOUT": "20"},
            {
                "connect_timeout": 2,
                "options": "-c statement_timeout=20s",
                "reply_timeout": 21,
                "keepalives": 1,
                "keepalives_idle": 30,
            },
        ),
        (
            {"DATABASE_STATEMENT_TIMEOUT": "0"},  # for long migrations
            {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 30},
        ),
    ],
    ids=["defaults", "set", "statement timeout off"],
)
def test_postgresql_timeouts_come_from_the_environment(env, options):
    url = {"DATABASE_URL": "postgres://lessons@127.0.0.1:5432/lessons"}
    result = manage("shell", "-c", OPTIONS, env={"DEBUG": "1", **url, **env})
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["config.postgresql", options]


def test_a_bad_timeout_stops_start_up_with_a_clear_message():
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://l@h/l", "DATABASE_CONNECT_TIMEOUT": "1"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_CONNECT_TIMEOUT must be at least 2; got 1." in result.stderr


@pytest.fixture
def proxied(db):
    """A second connection to the test database, through a proxy the test can hang."""
    require_postgres()
    settings = connection.settings_dict
    outage = Outage(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    options = {
        **settings["OPTIONS"],
        "connect_timeout": 2,
        "options": "-c statement_timeout=1s",
        "reply_timeout": 2,
    }
    wrapper = DatabaseWrapper(
        {**settings, "HOST": "127.0.0.1", "PORT": outage.port, "OPTIONS": options}, "proxied"
    )
    # Registered by alias: django.contrib.postgres looks the connection up when it opens.
    connections["proxied"] = wrapper
    yield wrapper, outage
    wrapper.close()
    del connections["proxied"]
    outage.close()


def timed(call):
    started = time.monotonic()
    try:
        call()
    except OperationalError as error:
        return time.monotonic() - started, str(error)
    return time.monotonic() - started, None


def select_one(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()


def test_a_server_that_stops_answering_mid_connection_is_given_up_on(proxied):
    wrapper, outage = proxied
    assert select_one(wrapper) == (1,)
    outage.hang()
    seconds, error = timed(lambda: select_one(wrapper))
    assert error == "the database did not answer within 2 s"
    assert seconds < 15  # instead of forever
    assert wrapper.connection.closed


def test_a_server_that_accepts_but_never_answers_a_new_connection_times_out(proxied):
    wrapper, outage = proxied
    outage.hang()
    seconds, error = timed(lambda: select_one(wrapper))
    assert error is not None
    assert seconds < 15


def test_a_slow_statement_is_cancelled_by_the_server(proxied):
    wrapper, _ = proxied
    seconds, error = timed(lambda: wrapper.cursor().execute("SELECT pg_sleep(30)"))
    assert "statement timeout" in error
    assert seconds < 15
    assert select_one(wrapper) == (1,)  # the connection is still good


def test_the_health_check_of_a_reused_connection_is_quick(proxied):
    wrapper, outage = proxied
    select_one(wrapper)
    outage.hang()
    started = time.monotonic()
    assert wrapper.is_usable() is False
    assert time.monotonic() - started < PING_SECONDS + 5
    assert wrapper.connection.reply_timeout == 2


def test_the_connection_recovers_without_a_restart(proxied):
    wrapper, outage = proxied
    select_one(wrapper)
    outage.hang()
    timed(lambda: select_one(wrapper))
    outage.restore()
    wrapper.close()
    assert select_one(wrapper) == (1,)


def request(wrapper):
    """What Django does around a request that reads the database: its start and end signals
    (close_if_unusable_or_obsolete) around a query."""
    wrapper.close_if_unusable_or_obsolete()
    try:
        return select_one(wrapper)
    finally:
        wrapper.close_if_unusable_or_obsolete()


@pytest.fixture
def pings(proxied, monkeypatch):
    """The health checks (SELECT 1 before a request's first query) the proxied connection
    makes, counted."""
    wrapper, _ = proxied
    wrapper.health_check_enabled = True
    made = []
    real = wrapper.is_usable

    def is_usable():
        made.append(1)
        return real()

    monkeypatch.setattr(wrapper, "is_usable", is_usable)
    return made


def test_a_connection_that_just_answered_is_used_without_a_health_check(proxied, pings):
    wrapper, _ = proxied
    request(wrapper)  # connects: nothing to check
    for _ in range(5):
        assert request(wrapper) == (1,)
    assert pings == []


def test_a_connection_idle_for_a_while_is_checked_first_and_replaced_if_gone(
    proxied, pings, monkeypatch
):
    from config.postgresql import base

    wrapper, outage = proxied
    request(wrapper)
    later = time.monotonic() + base.IDLE_SECONDS + 1
    monkeypatch.setattr(base.time, "monotonic", lambda: later)
    assert request(wrapper) == (1,)
    assert pings == [1]
    # Cut while idle: the check finds it gone, and the request connects afresh.
    later += base.IDLE_SECONDS + 1
    first = wrapper.connection
    outage.cut()
    outage.restore()
    assert request(wrapper) == (1,)
    assert wrapper.connection is not first


def test_a_connection_cut_under_load_fails_one_request_and_is_replaced(proxied, pings):
    wrapper, outage = proxied
    request(wrapper)
    outage.cut()
    outage.restore()
    with pytest.raises(OperationalError):
        request(wrapper)
    assert request(wrapper) == (1,)  # closed at the end of the failed request
