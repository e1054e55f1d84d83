"""Database sessions, each read with one plain query.

A logged-in reader's every request reads their session; building that query through the ORM
costs about ten times running it, so the ORM's own query (the one Django's database backend
runs: this key, not yet expired) is compiled once and run in plain SQL (config/plainsql.py).
Writing, creating and deleting sessions stay Django's own.
"""

import functools

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router
from django.utils import timezone

from config import plainsql


class SessionStore(DatabaseSessionStore):
    def load(self):
        if not self.session_key:
            return {}
        rows = _live(self.model).rows(
            using=router.db_for_read(self.model), key=self.session_key, now=timezone.now()
        )
        if not rows:
            self._session_key = None
            return {}
        return self.decode(rows[0][0])


@functools.cache
def _live(model) -> plainsql.Prepared:
    """A session's data, while it has not expired."""
    field = model._meta.get_field
    return plainsql.Prepared(
        lambda key, now: model.objects.filter(session_key=key, expire_date__gt=now).values_list(
            "session_data"
        ),
        key=lambda: field("session_key"),
        now=lambda: field("expire_date"),
    )
