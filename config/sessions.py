"""Database sessions, each read with one plain query.

A logged-in reader's every request reads their session; building that query through the ORM
costs about ten times running it. Writing, creating and deleting sessions stay Django's own.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def load(self):
        if not self.session_key:
            return {}
        meta = self.model._meta
        connection = connections[router.db_for_read(self.model)]
        name = connection.ops.quote_name
        # Names from the model's meta, values as parameters: no SQL from a request.
        sql = (
            f"SELECT {name(meta.get_field('session_data').column)} FROM {name(meta.db_table)} "  # noqa: S608
            f"WHERE {name(meta.get_field('session_key').column)} = %s "
            f"AND {name(meta.get_field('expire_date').column)} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
