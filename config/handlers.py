"""Django's request handlers, each address resolved once per worker (while it is kept).

Resolving an address walks the URL configuration on every request: the language prefix
(i18n_patterns), the includes, a ResolverMatch built at each level (about 5% of a logged-in
lesson page's instructions). What an address resolves to depends on the address, the URL
configuration and the active language (a prefix is matched against it, and against
LANGUAGE_CODE, a setting fixed for a server's life), so the match is kept per worker by those
three, for the addresses the site has (an address that resolves to nothing raises Resolver404
each time and is never kept), a bounded number of them, the oldest let go first. A request
with a URL configuration of its own (`request.urlconf`) is resolved as Django does.
"""

import threading

from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.urls import get_resolver
from django.utils import translation

# Addresses kept per worker (about 3.5 KB each, measured: 0.9 MB at most, for the pages read
# most); the oldest is let go first.
RESOLVED_MAX = 256


class ResolvedOnce:
    """A handler whose resolve_request() keeps what each address resolves to (see above)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resolved: dict = {}
        # A worker may run threads (GUNICORN_THREADS): one of them at a time adds and drops.
        self.lock = threading.Lock()

    def resolve_request(self, request):
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver = get_resolver()
        key = (resolver, request.path_info, translation.get_language())
        match = self.resolved.get(key)
        if match is None:
            match = resolver.resolve(request.path_info)
            with self.lock:
                while len(self.resolved) >= RESOLVED_MAX:
                    del self.resolved[next(iter(self.resolved))]
                self.resolved[key] = match
        request.resolver_match = match
        return match


class WSGIHandler(ResolvedOnce, DjangoWSGIHandler):
    pass


class ASGIHandler(ResolvedOnce, DjangoASGIHandler):
    pass
