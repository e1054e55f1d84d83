"""The test configuration: the real settings, plus what only tests may have."""

import os

# Tests never read a developer's .env, so they run here as they run in CI.
os.environ["ENV_FILE"] = "/nonexistent"
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from config.settings import *  # noqa: F403

# The test client speaks plain http; production's HTTPS settings are checked in
# tests/config/test_security.py against the real settings module.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Render lessons in-process: a child process per save would add a third to the suite's time.
# tests/lessons/rendering/test_limits.py turns the time limit on, and the e2e servers run with it.
LESSON_RENDER_SECONDS = 0

# An in-process cache: it costs no queries, so the query counts asserted in the tests are the
# views' own (production's database or Redis cache adds one round trip). Cleared before each
# test (tests/conftest.py), as the database cache was by each test's rollback.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# E-mail tasks run as they are queued, so a test reads what was sent in mail.outbox at once;
# tests/config/test_mail.py runs the database backend and its worker.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# The app serves uploaded files here as in development, so tests can fetch them.
SERVE_MEDIA = True

# Kept things last a minute at most in tests (an hour in production), so that tests that walk
# a kept page's whole life take a few hundred steps, not thousands.
PAGE_CACHE_SECONDS = 60
# The stores' shared tier is on, in the in-process cache above (with Redis in production).
KEPT_IN_SHARED_CACHE = True

# A kept part of a page that reads a variable its {% shared %} tag does not pass fails the test
# that renders it (caching/kept.py).
KEPT_TEMPLATES_STRICT = True
