"""Database sessions that carry the user they log in, so that a logged-in reader's session and
user are read together, in one query.

Every logged-in request reads its session and then its user. The session row names its user
(`accounts.models.Session.user`, written from the session's own data whenever Django saves it),
so `load()` reads the session's data and its user's row in one plain statement (the ORM's own
query, compiled once: config/plainsql.py) and keeps the user's values on the store. While
authentication looks the user up (accounts.middleware.AuthenticationMiddleware),
`User.objects.get(pk=…)` answers from those values instead of asking the database again;
everything else is Django's own `get_user()`: the backend named in the session, whether the
user may log in (is_active), the session hash that logs out the other sessions after a
password change. The user is read in the same statement as the session, so it is never older
than when they were two queries. Nothing about a session outlives its request but the
decoding of its signed data (`decoded`, by that very text): the row is read on every request,
so a log-out or a password change holds whatever the cache does. Writing, creating and
deleting sessions stay Django's own.

A page that knows, before it asks who the reader is, which rows of the reader it will need
(a lesson page: the reader's grants in its series and their progress on it) reads them in the
same statement (config.plainsql.ReadWithSession, `SessionStore.load_with()`): the session's
row, and beside it the rows of whoever the session's row names, by a subquery on the
session, never by a value from the request. What the session's data then logs in is still
decided by Django's own `get_user()`; the caller uses the rows only for that user.
"""

import contextlib
import contextvars
import functools
import hashlib
import pickle

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db import router
from django.utils import timezone

from caching.stores import MISSING, Store
from config import plainsql

# Session data as checked and decoded in this worker, by the signed text a session's row
# holds and a fingerprint of the keys it was checked with (caching.stores: bounded in bytes;
# not dropped when the content changes, which it does not depend on). Checking the signature
# and decoding cost about 50 µs of every logged-in request; the row is still read from the
# database on every request, so a session logged out, expired or changed is never answered
# from here: only the same signed text, checked under the same keys, decodes to the same data.
DECODED_MAX_BYTES = 512 * 1024  # about 1.2 KB a session as measured: about 400 sessions
decoded = Store("sessions' data", max_bytes=DECODED_MAX_BYTES, generational=False)

# The session of the request whose user authentication is looking up, while it does.
_authenticating: contextvars.ContextVar = contextvars.ContextVar("authenticating", default=None)


class SessionStore(DatabaseSessionStore):
    # The user's row as load() read it with the session: (alias, pk, names, values), or None.
    user_row = None

    @classmethod
    def get_model_class(cls):
        from accounts.models import Session

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = _user_id(self.model, data.get(SESSION_KEY))
        return instance

    def decode(self, session_data):
        """Django's decode() (the signature checked against SECRET_KEY and its fallbacks; {}
        for data that does not pass), once per worker for each signed text and keys, kept in
        `decoded`. Each call gets data of its own: a request may change its session."""
        key = (
            session_data,
            self.key_salt,
            _fingerprint(settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS),
        )
        found = decoded.lookup(key)
        if found is not MISSING:
            return pickle.loads(found)  # noqa: S301 (what this worker pickled, from a signed text)
        data = super().decode(session_data)
        if data:  # data that does not pass is checked (and logged) again each time
            decoded.put(key, pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
        return data

    def load(self):
        self.user_row = None
        if not self.session_key:
            return {}
        alias = router.db_for_read(self.model)
        read = _live_with_user(self.model)
        rows = read.rows(using=alias, key=self.session_key, now=timezone.now())
        return self._loaded(alias, rows[0] if rows else None)

    def _loaded(self, alias, row) -> dict:
        """The session's data from its row (session data, then its user's fields), keeping
        the user's values; {} and no key when there is no live session."""
        self.user_row = None
        if row is None:
            self._session_key = None
            return {}
        data, *values = row
        names = plainsql.session_user_names(self.model)
        user_pk = values[names.index(_user_model(self.model)._meta.pk.attname)]
        if user_pk is not None:
            self.user_row = (alias, user_pk, names, values)
        return self.decode(data)

    @property
    def row_user_pk(self):
        """The primary key of the user the session's row names (None: nobody, or not loaded
        yet): whose rows `load_with()` returned. Who the session logs in is Django's
        `get_user()`'s to say, from the session's data."""
        return self.user_row[1] if self.user_row else None

    def load_with(self, read: plainsql.ReadWithSession, **values) -> list[list] | None:
        """Load the session (as reading it first would) and, in the same statement, the rows
        `read` asks of the user its row names; return those rows (an empty list when the
        session is not live or names nobody). Return None, loading nothing, when the session
        is loaded already, has no key, or `values` cannot be read in one statement: the
        caller then asks for its rows on its own."""
        if hasattr(self, "_session_cache") or not self.session_key:
            return None
        alias = router.db_for_read(self.model)
        found = read.rows(using=alias, key=self.session_key, now=timezone.now(), **values)
        if found is None:
            return None
        session, rows = found
        self.accessed = True  # as reading the session does
        self._session_cache = self._loaded(alias, session)
        return rows if self.user_row is not None else []

    def clear(self):
        super().clear()  # flush() too: the data that named the user is gone
        self.user_row = None


@functools.lru_cache(maxsize=4)
def _fingerprint(*keys: str) -> str:
    """What names the secret keys in `decoded`'s keys, never the keys themselves."""
    return hashlib.sha256("\0".join(keys).encode()).hexdigest()


def _user_model(session_model):
    return session_model._meta.get_field("user").related_model


def _user_id(session_model, value):
    """The primary key that the session's data logs in (None: nobody, or not a key)."""
    if value is None:
        return None
    try:
        return _user_model(session_model)._meta.pk.to_python(value)
    except ValidationError:
        return None


@functools.cache
def _live_with_user(model) -> plainsql.Prepared:
    """A session's data, while it has not expired, and every field of the user it logs in
    (all None when it logs in nobody)."""
    field = model._meta.get_field
    return plainsql.Prepared(
        lambda key, now: model.objects.filter(session_key=key, expire_date__gt=now).values_list(
            *plainsql.session_columns(model)
        ),
        key=lambda: field("session_key"),
        now=lambda: field("expire_date"),
    )


def user_read_with_session(pk):
    """The user whose row was read with this request's session, if it is the one with this
    primary key and authentication is looking it up now (else None): built from that row."""
    session = _authenticating.get()
    row = getattr(session, "user_row", None)
    if row is None:
        return None
    alias, user_pk, names, values = row
    if user_pk != pk:
        return None
    return _user_model(session.model).from_db(alias, names, values)


@contextlib.contextmanager
def authenticating(session):
    """While authentication looks up the user of `session` (the user read with it answers)."""
    token = _authenticating.set(session)
    try:
        yield
    finally:
        _authenticating.reset(token)
