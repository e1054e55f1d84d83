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
than when they were two queries, and nothing is kept beyond the request: no cache is involved,
so a log-out or a password change holds whatever the cache does. Writing, creating and
deleting sessions stay Django's own.
"""

import contextlib
import contextvars
import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db import router
from django.utils import timezone

from config import plainsql

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

    def load(self):
        self.user_row = None
        if not self.session_key:
            return {}
        alias = router.db_for_read(self.model)
        read = _live_with_user(self.model)
        rows = read.rows(using=alias, key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return {}
        data, *values = rows[0]
        names = _user_names(self.model)
        user_pk = values[names.index(_user_model(self.model)._meta.pk.attname)]
        if user_pk is not None:
            self.user_row = (alias, user_pk, names, values)
        return self.decode(data)

    def clear(self):
        super().clear()  # flush() too: the data that named the user is gone
        self.user_row = None


def _user_model(session_model):
    return session_model._meta.get_field("user").related_model


def _user_names(session_model) -> list[str]:
    return [field.attname for field in _user_model(session_model)._meta.concrete_fields]


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
            "session_data", *(f"user__{name}" for name in _user_names(model))
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
