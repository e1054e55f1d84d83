"""Health checks, and what readers see while the database is away."""

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_answers_503_without_a_traceback_when_the_database_does_not(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
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
    import lessons.views

    def broken(request):
        raise error

    monkeypatch.setattr(lessons.views, "_visible_lessons", broken)
    response = Client(raise_request_exception=False).get(free_lesson.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == status
    assert text in page
    assert "site.css" in page
    assert str(error) not in page
    assert response.has_header("Retry-After") is (status == 503)
