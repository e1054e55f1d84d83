"""Django's PostgreSQL backend, failing fast when the database stops answering.

settings.py gives psycopg a `connect_timeout` and the server a `statement_timeout`. Neither
helps when the server accepts a connection and then never answers (a hung server or pooler, a
network path that drops packets): the server cannot cancel a statement it never received, and
the client would wait for a reply forever. So here every wait for a reply has a deadline,
OPTIONS["reply_timeout"] (a little longer than the statement timeout, so a slow statement is
still cancelled by the server first), and the health check of a reused connection one of
PING_SECONDS. Past it the connection is closed and an OperationalError raised, which the site
answers with its 503 page; the next request connects afresh, so the site recovers by itself.
The wait itself is psycopg's own (its C wait with a timeout); this class only gives it one.

The health check (CONN_HEALTH_CHECKS, a `SELECT 1` before a request's first query) is a round
trip of its own on every request. Here it is asked only of a connection that has been idle
for IDLE_SECONDS or more: one that answered a moment ago, as under load, is used at once. If
the server went away in that moment, the request's query fails instead of the check, the
reader gets the 503 page, and Django closes the broken connection at the end of the request
(its errors make it check the connection then), so the next request connects afresh.
"""

import time

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format, TransactionStatus

# psycopg raises this OperationalError (a private class) when a wait's timeout expires.
_WAIT_TIMEOUT = psycopg.errors._WaitTimeout
# A reused connection is checked with SELECT 1 before a request uses it; that answers in
# milliseconds from a live server.
PING_SECONDS = 1.0
# A connection that answered less than this long ago is not checked before a request.
IDLE_SECONDS = 1.0
# psycopg prepares a statement run this many times even when not asked to: never, here.
NEVER_BY_COUNT = 2**31 - 1


class ReplyTimeoutConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server end after `reply_timeout` seconds."""

    reply_timeout: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):
        if timeout is not None or not self.reply_timeout:
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.reply_timeout)
        except _WAIT_TIMEOUT:
            # Mid-protocol, the connection cannot be used again.
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.reply_timeout:g} s"
            ) from None


class PreparedCursor(base.ServerBindingCursor):
    """A cursor whose statements are bound and prepared on the server: the first time a
    connection runs one it is parsed and planned, then only executed (psycopg keeps the
    prepared statements of each connection)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        except psycopg.errors.FeatureNotSupported:
            # "cached plan must not change result type": a migration changed a column the
            # statement reads since it was prepared. Inside a transaction its rollback makes
            # psycopg forget its statements; outside one, forget them now and run it again.
            if self.connection.info.transaction_status != TransactionStatus.IDLE:
                raise
            self.connection.execute("DEALLOCATE ALL")
            return super().execute(query, params, prepare=True, binary=binary)


class DatabaseWrapper(base.DatabaseWrapper):
    reply_timeout: float | None = None
    _preparing = False
    # When the connection last ended a request without errors (monotonic seconds).
    answered_at: float = float("-inf")

    def close_if_health_check_failed(self):
        if self.connection is not None and time.monotonic() - self.answered_at < IDLE_SECONDS:
            self.health_check_done = True
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self):
        # Called as a request starts and as it ends: a connection that a request used without
        # errors has just answered.
        used = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if used and self.connection is not None:
            self.answered_at = time.monotonic()

    def prepared_cursor(self):
        """A cursor for the few statements every logged-in request runs (config/plainsql.py),
        each prepared on the server once per connection rather than parsed and planned on
        every request (planning is most of what PostgreSQL does for them). Behind a pooler in
        transaction mode (DISABLE_SERVER_SIDE_CURSORS), which cannot keep a prepared statement
        from one transaction to the next, the ordinary cursor."""
        if self.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
            return self.cursor()
        self._preparing = True
        try:
            return self.cursor()
        finally:
            self._preparing = False

    def create_cursor(self, name=None):
        if name or not self._preparing:
            return super().create_cursor(name)
        cursor = PreparedCursor(self.connection)
        # as Django's own cursors: datetimes read in the connection's time zone
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != loader.timezone:
            register_tzloader(self.timezone, cursor)
        return cursor

    def get_connection_params(self):
        params = super().get_connection_params()
        self.reply_timeout = params.pop("reply_timeout", None)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if isinstance(connection, psycopg.Connection) and self.reply_timeout:
            # psycopg.connect() has no connection class argument: adopt the one it made.
            connection.__class__ = ReplyTimeoutConnection
            connection.reply_timeout = self.reply_timeout
        if (
            isinstance(connection, psycopg.Connection)
            and connection.prepare_threshold is None
            and not self.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        ):
            # psycopg prepares nothing while this is None (Django's default, for poolers).
            # Django's cursors bind on the client and never prepare whatever it is; so only
            # PreparedCursor's statements are prepared, as it asks for each.
            connection.prepare_threshold = NEVER_BY_COUNT
        return connection

    def is_usable(self):
        saved = getattr(self.connection, "reply_timeout", None)
        if saved:
            self.connection.reply_timeout = min(saved, PING_SECONDS)
        try:
            return super().is_usable()
        finally:
            if saved and self.connection is not None:
                self.connection.reply_timeout = saved
