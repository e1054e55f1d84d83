import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as get_wsgi_application() does

from config.handlers import WSGIHandler  # noqa: E402 (after the apps are set up)

# Django's, each address resolved once per worker (config/handlers.py).
application = WSGIHandler()


def _warm_up() -> None:
    """Load here what every worker would otherwise load on its first request: gunicorn forks
    its workers from this process (preload_app), and what they all read stays shared between
    them instead of being loaded once a worker (about 10 MB each, docs/performance.md). Nothing
    here opens a connection: a connection made before the fork would be shared by every worker.

    - what each app loads lazily (its AppConfig's `warm_up()`, where it has one: caching/ works
      out the code version its keys name);
    - the URLs, and with them every view module;
    - the site's templates, compiled;
    - each language's translations;
    - the Redis client library, when the cache is Redis."""
    from django.apps import apps
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    for app in apps.get_app_configs():
        if hasattr(app, "warm_up"):
            app.warm_up()
    get_resolver().reverse_dict  # noqa: B018 (imports every view, builds the URL lookups)
    for language, _ in settings.LANGUAGES:
        translation.activate(language)  # loads the language's catalogues
    translation.deactivate()
    templates = settings.BASE_DIR / "templates"
    for path in sorted(templates.rglob("*.html")):
        get_template(str(path.relative_to(templates)))
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        import redis  # noqa: F401


_warm_up()
