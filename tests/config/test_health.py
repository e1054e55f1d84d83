"""Health checks, and what readers see while the database is away."""

import pytest
from django.db import OperationalError, connection
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


def test_a_database_error_gives_readers_a_styled_503_page(monkeypatch, free_lesson):
    import lessons.views

    def broken(request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(lessons.views, "_visible_lessons", broken)
    response = Client(raise_request_exception=False).get(free_lesson.get_absolute_url())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Back in a moment" in response.content.decode()
    assert "site.css" in response.content.decode()


def test_other_errors_give_the_styled_500_page(monkeypatch, free_lesson):
    import lessons.views

    def broken(request):
        raise ValueError("bug")

    monkeypatch.setattr(lessons.views, "_visible_lessons", broken)
    response = Client(raise_request_exception=False).get(free_lesson.get_absolute_url())
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
