"""Sessions read with their user in one query (accounts/sessions.py): log-in, log-out, a
password change and a deactivated or deleted account hold exactly as with Django's own."""

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session as DjangoSession
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import sessions
from accounts.models import Session
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def whoami(client) -> str | None:
    """The address of whoever the client's session logs in (None: nobody)."""
    page = client.get("/access/mine/")
    if page.status_code == 302:
        return None
    return page.wsgi_request.user.email


def session_of(client) -> Session | None:
    return Session.objects.filter(pk=client.cookies[settings.SESSION_COOKIE_NAME].value).first()


def test_the_session_row_names_the_user_it_logs_in(reader):
    client = logged_in(reader)
    assert session_of(client).user_id == reader.pk


def test_a_logged_in_request_reads_session_and_user_in_one_query(reader, django_assert_num_queries):
    client = logged_in(reader)
    lesson = make_lesson(access="free")
    client.get(lesson.get_absolute_url())
    # a lesson whose shared part is kept: the session with its user and the reader's grants
    # with their progress (access.middleware.ReaderAccess.reading()), then whether they
    # follow the series
    with django_assert_num_queries(2) as captured:
        page = client.get(lesson.get_absolute_url())
    assert page.wsgi_request.user == reader
    sessions = [q["sql"] for q in captured.captured_queries if "accounts_session" in q["sql"]]
    assert len(sessions) == 1 and "accounts_user" in sessions[0]


def test_the_user_read_with_the_session_is_the_orms(reader):
    client = logged_in(reader)
    user = client.get("/access/mine/").context["user"]
    expected = type(reader).objects.filter(pk=reader.pk).first()
    fields = [field.attname for field in type(reader)._meta.concrete_fields]
    assert [getattr(user, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert user._state.adding is False and user._state.db == "default"


def test_logging_out_ends_the_session_for_good(reader):
    client = logged_in(reader)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(pk=cookie).exists()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert whoami(stale) is None


def test_a_log_out_during_a_cache_outage_holds_when_the_cache_is_back(reader, cache_outage):
    """Nothing of a session is kept in the cache: a log-out the cache never heard of cannot
    be undone by it."""
    client = logged_in(reader)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert whoami(client) == reader.email
    cache_outage.start()
    client.post("/accounts/logout/")
    cache_outage.end()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert whoami(stale) is None


def test_a_password_change_logs_out_every_other_session(reader):
    here, elsewhere = logged_in(reader), logged_in(reader)
    assert whoami(elsewhere) == reader.email
    response = here.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "a new long passphrase",
            "password2": "a new long passphrase",
        },
    )
    assert response.status_code == 302
    assert whoami(here) == reader.email  # the session that changed it stays logged in
    assert whoami(elsewhere) is None
    assert session_of(elsewhere) is None  # flushed, as Django's get_user() does


def test_a_deactivated_account_is_logged_out(reader):
    client = logged_in(reader)
    type(reader).objects.filter(pk=reader.pk).update(is_active=False)
    assert whoami(client) is None


def test_deleting_an_account_deletes_its_sessions(reader):
    client = logged_in(reader)
    other = logged_in(make_user())
    reader.delete()
    assert session_of(client) is None
    assert session_of(other) is not None


def test_logging_in_as_someone_else_names_them(reader):
    client = logged_in(reader)
    other = make_user()
    client.force_login(other)
    assert session_of(client).user_id == other.pk
    assert whoami(client) == other.email


def test_the_migration_moves_live_sessions_with_their_user(reader):
    """Nobody is logged out by the change: live sessions move to the new table, each with
    the user its data logs in (nobody for data that does not verify)."""
    migration = importlib.import_module("accounts.migrations.0005_sessions_with_their_user")
    later = timezone.now() + timezone.timedelta(days=1)
    store = DjangoSessionStore()
    DjangoSession.objects.create(
        session_key="logged-in-key",
        session_data=store.encode({"_auth_user_id": str(reader.pk)}),
        expire_date=later,
    )
    DjangoSession.objects.create(
        session_key="anonymous-key", session_data=store.encode({"x": 1}), expire_date=later
    )
    DjangoSession.objects.create(
        session_key="forged-key", session_data="not signed", expire_date=later
    )
    DjangoSession.objects.create(
        session_key="expired-key",
        session_data=store.encode({"_auth_user_id": str(reader.pk)}),
        expire_date=timezone.now(),
    )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.forwards(apps, editor)
    assert dict(Session.objects.values_list("session_key", "user_id")) == {
        "logged-in-key": reader.pk,
        "anonymous-key": None,
        "forged-key": None,
    }
    assert not DjangoSession.objects.exists()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = "logged-in-key"
    assert stale.session.get("_auth_user_id") == str(reader.pk)


class TestDecodedOncePerWorker:
    """A session's signed data is checked and decoded once per worker (accounts.sessions.
    decoded, by the signed text itself and the keys that checked it); the row is still read
    on every request."""

    @pytest.fixture(autouse=True)
    def emptied(self):
        sessions.decoded.clear()
        yield
        sessions.decoded.clear()

    def test_each_session_decodes_to_its_own_data(self, reader):
        other = make_user(email="other@example.com")
        texts = {user.pk: session_of(logged_in(user)).session_data for user in (reader, other)}
        for _ in range(2):  # the second time from the store
            for pk, text in texts.items():
                assert sessions.SessionStore().decode(text)["_auth_user_id"] == str(pk)

    def test_a_request_that_changes_its_session_changes_no_other_requests_copy(self, reader):
        text = session_of(logged_in(reader)).session_data
        first = sessions.SessionStore().decode(text)
        first["_auth_user_id"] = "someone else"
        first.clear()
        assert sessions.SessionStore().decode(text)["_auth_user_id"] == str(reader.pk)

    def test_data_signed_with_a_retired_key_is_refused_though_it_was_decoded_before(
        self, reader, settings
    ):
        text = session_of(logged_in(reader)).session_data
        assert sessions.SessionStore().decode(text)["_auth_user_id"] == str(reader.pk)
        retired = settings.SECRET_KEY
        settings.SECRET_KEY = "a-new-secret-key-" + "z" * 40
        assert sessions.SessionStore().decode(text) == {}
        settings.SECRET_KEY_FALLBACKS = [retired]  # while it is still a fallback: accepted
        assert sessions.SessionStore().decode(text)["_auth_user_id"] == str(reader.pk)

    def test_a_text_changed_by_one_character_is_refused(self, reader):
        text = session_of(logged_in(reader)).session_data
        sessions.SessionStore().decode(text)
        forged = text[:-1] + ("A" if text[-1] != "A" else "B")
        assert sessions.SessionStore().decode(forged) == {}

    def test_a_logged_out_session_stays_out_though_its_data_was_decoded(self, reader):
        client = logged_in(reader)
        assert whoami(client) == reader.email  # decoded, and kept
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        text = session_of(client).session_data
        client.post("/accounts/logout/")
        stale = Client()
        stale.cookies[settings.SESSION_COOKIE_NAME] = cookie
        assert whoami(stale) is None
        # A row that holds the same text but is no longer live logs nobody in either: the row
        # decides, read on every request; the kept decoding only spares the signature check.
        Session.objects.create(
            session_key="x" * 32, session_data=text, expire_date=timezone.now(), user=reader
        )
        stale.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
        assert whoami(stale) is None  # expired
