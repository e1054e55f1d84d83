"""Secure defaults: what production settings refuse, and what every response carries."""

import os
import re
from pathlib import Path

import pytest

from config import envfile
from tests.access.helpers import REDEEM
from tests.e2e.servers import run_manage

ROOT = Path(__file__).resolve().parents[2]
# The production environment as documented: docs/samples/env.production, its secrets filled
# in. The same file is what CI checks with `check --deploy`.
SAMPLE = ROOT / "docs" / "samples" / "env.production"
PRODUCTION_ENV = envfile.fill_secrets(envfile.read(SAMPLE))


def manage(*args, env):
    """manage.py with the production settings and only `env` of the deployment's variables;
    returns the finished process, whatever its exit status."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.pop("DEBUG", None)
    base = {**clean, "ENV_FILE": "/nonexistent", "DJANGO_SETTINGS_MODULE": "config.settings"}
    return run_manage(*args, env={**base, **env})


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_pins_are_hashed_with_the_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PIN_HASH_KEY"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 1
    assert "access.W001" in result.stderr
    assert "PIN_HASH_KEY is the same as SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("debug", "pin_hash_key", "warned"),
    [
        (False, "same", True),
        (False, "its own random value", False),
        (True, "same", False),
    ],
    ids=["production, same key", "production, own key", "debug"],
)
def test_the_pin_hash_key_check(settings, debug, pin_hash_key, warned):
    from access.checks import check_pin_hash_key

    settings.DEBUG = debug
    settings.PIN_HASH_KEY = settings.SECRET_KEY if pin_hash_key == "same" else pin_hash_key
    assert [w.id for w in check_pin_hash_key(None)] == (["access.W001"] if warned else [])


def test_a_missing_secret_key_without_debug_stops_with_one_line():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "SECRET_KEY is not set: set it in the environment or .env (or set DEBUG=1)."
    ]


def test_a_fresh_checkout_checks_its_migrations_without_a_secret_key():
    """makemigrations --check reads only models and migrations: no key, no DEBUG, no .env."""
    result = manage("makemigrations", "--check", "--dry-run", env={"SECRET_KEY": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.parametrize("command", ["migrate", "runserver", "issue_pins", "shell"])
def test_commands_that_may_sign_or_hash_still_need_the_secret_key(command):
    result = manage(command, "--help", env={"SECRET_KEY": ""})
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("debug", [None, "", "0"], ids=["unset", "empty", "0"])
def test_debug_is_off_unless_asked(debug):
    env = {"SECRET_KEY": "x" * 50} | ({} if debug is None else {"DEBUG": debug})
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_the_admin_lives_where_admin_path_says():
    code = "from django.urls import reverse; print(reverse('admin:index'))"
    result = manage("shell", "-c", code, env={"DEBUG": "1", "ADMIN_PATH": "backstage-7f3/"})
    assert result.stdout.strip().splitlines()[-1] == "/backstage-7f3/"


def test_production_settings_are_strict():
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_HSTS_SECONDS, s.X_FRAME_OPTIONS, s.SECURE_PROXY_SSL_HEADER, "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], "
        "s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1], "
        "s.TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.strip().splitlines()[-1] == (
        "True True True True 31536000 DENY ('HTTP_X_FORWARDED_PROTO', 'https') "
        "FailSoftRedisCache CompressedManifestStaticFilesStorage 1 1"
    )


def test_redis_url_selects_the_redis_cache():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage(
        "shell", "-c", code, env={"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    )
    assert result.stdout.strip().splitlines()[-1] == "caching.backend.FailSoftRedisCache"


@pytest.mark.parametrize(
    ("env", "shared"),
    [
        ({**PRODUCTION_ENV}, "True"),  # Redis: what one worker keeps, every worker reads
        ({**PRODUCTION_ENV, "REDIS_URL": ""}, "False"),  # the database cache: each its own
        ({"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3"}, "False"),  # templates reload
    ],
)
def test_the_stores_share_through_redis_in_production_only(env, shared):
    code = "from django.conf import settings; print(settings.KEPT_IN_SHARED_CACHE)"
    assert manage("shell", "-c", code, env=env).stdout.strip().splitlines()[-1] == shared


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(client, free_lesson):
    response = client.get(free_lesson.get_absolute_url())
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp


@pytest.mark.django_db
def test_diagram_pages_need_no_script_and_no_inline_style(client, series):
    from tests.factories import make_lesson

    lesson = make_lesson(
        series,
        body="```mermaid\nflowchart LR\n A --> B\n classDef hot fill:#f96\n class A hot\n```",
    )
    response = client.get(lesson.get_absolute_url())
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "<svg" in response.text
    # Structured data is the only script element: a data block, which browsers never run.
    assert re.findall(r"<script[^>]*>", response.text) == ['<script type="application/ld+json">']
    assert "<style" not in response.text
    assert "style=" not in response.text


@pytest.mark.django_db
def test_no_page_has_inline_script_or_style(client, premium_lesson, free_lesson):
    for url in ["/", premium_lesson.get_absolute_url(), "/accounts/login/", REDEEM]:
        page = client.get(url).text
        # JSON-LD is a data block, never run (so the CSP does not apply to it); nothing else
        # is inline.
        assert not re.search(r'<script(?![^>]*\b(src=|type="application/ld\+json"))', page), url
        assert "<style" not in page, url
        assert not re.search(r"\sstyle=", page), url


def test_the_media_storage_is_set_from_the_environment():
    code = (
        "from django.conf import settings; s = settings.STORAGES['default']; "
        "print(s['BACKEND'], s['OPTIONS'])"
    )
    backend = "django.core.files.storage.FileSystemStorage"
    result = manage(
        "shell", "-c", code,
        env={"DEBUG": "1", "MEDIA_STORAGE_BACKEND": backend,
             "MEDIA_STORAGE_OPTIONS": '{"location": "/srv/media"}'},
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == f"{backend} {{'location': '/srv/media'}}"
    bad = manage("check", env={"DEBUG": "1", "MEDIA_STORAGE_OPTIONS": "[1]"})
    assert "MEDIA_STORAGE_OPTIONS must be a JSON object" in bad.stderr


@pytest.mark.parametrize(
    "url", ["/accounts/email/", "/accounts/password/change/", "/accounts/logout/"]
)
def test_account_pages_are_never_stored_so_back_after_log_out_shows_none(client, reader, url):
    client.force_login(reader)
    response = client.get(url)
    assert response.status_code == 200
    assert reader.email in response.text or url != "/accounts/email/"
    assert "no-store" in response["Cache-Control"]


def test_the_log_in_page_is_not_stored_either(client):
    assert "no-store" in client.get("/accounts/login/")["Cache-Control"]
