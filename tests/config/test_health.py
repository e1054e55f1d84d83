"""Health checks, and what readers see while the database is away."""

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_cache(settings):
    """The default cache without REDIS_URL: a table in the database."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    }


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)


@pytest.fixture
def cache_down(settings):
    from tests.caching.test_backend import use_redis_at
    from tests.e2e.servers import free_port

    use_redis_at(settings, free_port())


@pytest.mark.parametrize(
    ("faults", "status", "body"),
    [
        ([], 200, {"status": "ok", "database": "up", "cache": "up"}),
        (["cache_down"], 200, {"status": "degraded", "database": "up", "cache": "down"}),
        (
            ["database_cache", "database_down"],
            503,
            {"status": "unavailable", "database": "down", "cache": "down"},
        ),
        (
            ["database_down", "cache_down"],
            503,
            {"status": "unavailable", "database": "down", "cache": "down"},
        ),
    ],
    ids=["all up", "cache down", "database down (and its cache table)", "both down"],
)
def test_healthz_reports_each_part_and_503_only_without_the_database(
    request, client, faults, status, body
):
    for fault in faults:
        request.getfixturevalue(fault)
    response = client.get("/healthz")
    assert response.status_code == status
    assert response.json() == body
    assert response.has_header("Retry-After") is (status == 503)
    assert "no-store" in response["Cache-Control"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (OperationalError("server closed the connection"), 503, "Back in a moment"),
        (InterfaceError("connection already closed"), 503, "Back in a moment"),
        (IntegrityError("a bug, not an outage"), 500, "Something went wrong on our side"),
        (ValueError("a bug"), 500, "Something went wrong on our side"),
    ],
    ids=["database away", "connection closed", "integrity error", "other error"],
)
def test_errors_give_styled_pages_and_503_only_while_the_database_is_away(
    monkeypatch, free_lesson, error, status, text
):
    import lessons.pages

    def broken(staff):
        raise error

    monkeypatch.setattr(lessons.pages, "visible_lessons", broken)
    response = Client(raise_request_exception=False).get(free_lesson.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == status
    assert text in page
    assert "site.css" in page
    assert str(error) not in page
    assert response.has_header("Retry-After") is (status == 503)


def test_log_ins_that_failed_for_the_database_do_not_lock_the_reader_out(monkeypatch, reader):
    from django.contrib.auth.backends import ModelBackend

    def away(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    client = Client(raise_request_exception=False)
    credentials = {"login": "reader@example.com", "password": "correct horse battery"}
    with monkeypatch.context() as outage:
        outage.setattr(ModelBackend, "authenticate", away)
        statuses = [client.post("/accounts/login/", credentials).status_code for _ in range(8)]
    assert statuses == [503] * 8
    response = client.post("/accounts/login/", credentials)
    assert response.status_code == 302
