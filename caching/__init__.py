"""One owner for everything the site keeps to serve pages faster (docs/performance.md).

- generation.py: the one content-generation token, and `content_changed()`, which the saving
  services call (lessons.services, access.offer.services); nothing else invalidates.
- stores.py: the worker's in-memory stores, each bounded in bytes.
- anonymous.py: anonymous readers' pages kept whole (a middleware), and their shared-cache
  headers.
- kept.py and templatetags/shared.py: parts of pages kept per their named values, rendered
  from those alone; the CSRF token swapped in per request.
- keys.py: every key, built from the data a kept thing is made of.
- responses.py: feeds and the sitemap kept whole in the shared cache.
- backend.py: the Redis cache the site can do without.

caching/ imports only django and config; the apps import it, never the other way.
"""

from caching.generation import content_changed

__all__ = ["content_changed"]
