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
# The app serves uploaded files here as in development, so tests can fetch them.
SERVE_MEDIA = True
