"""One token for "what readers can see may have changed": caches built from lessons and
series (the feeds) put it in their keys, so that any write makes them miss.

It changes wherever lessons and series are written: their `save()` and `delete()`, and their
querysets' `update()` and `delete()` (the admin's bulk actions, the importer). A lesson whose
scheduled time comes is not a write; caches that hold lists of lessons expire by then
(`seconds_until_next_publication()`).
"""

import secrets

from django.core.cache import cache
from django.db import transaction

KEY = "lessons:content-version"


def current() -> str:
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, secrets.token_hex(8), None)
        version = cache.get(KEY) or "unknown"
    return version


def changed() -> None:
    """Call after writing lessons or series. It changes now, and again when the transaction
    commits, so that nothing cached from a view of the data before the commit outlives it."""
    cache.set(KEY, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(KEY, secrets.token_hex(8), None))
