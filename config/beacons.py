"""A cheap per-client limit for the small requests pages send after they have loaded
(beacons: reading progress, a paywall coming into view, a tap on a contact button), which
anyone can send in a loop: at most BEACONS_PER_MINUTE from one address in a minute.

Counted in the shared cache (one increment per request), under a key holding a hash of the
address, never the address, for two minutes at most. When the cache cannot answer, the limit
is open: a beacon is never refused for want of a cache."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from config.http import client_ip

WINDOW_SECONDS = 60


def allow(request, scope: str) -> bool:
    """Whether this client may send one more `scope` request this minute."""
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:20]
    key = f"beacons:{scope}:{digest}:{int(time.time() // WINDOW_SECONDS)}"
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # the first this minute (or the cache is away: it says "missing")
            if cache.add(key, 1, 2 * WINDOW_SECONDS):
                return True
            count = cache.incr(key)
    except Exception:  # any failure of the cache: open, as the module says
        return True
    return count <= settings.BEACONS_PER_MINUTE
