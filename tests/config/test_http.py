"""HTTP details: HEAD is GET without a body, and never counts as an attempt."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from tests.access.helpers import REDEEM

pytestmark = pytest.mark.django_db


def wsgi(method: str, path: str) -> tuple[str, dict, bytes]:
    """Status, headers and body bytes exactly as a WSGI server (gunicorn) receives them; the
    test client drops HEAD bodies itself, so it cannot show this."""
    environ = RequestFactory().generic(method, path).environ
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=dict(headers))

    response = WSGIHandler()(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        response.close()
    return started["status"], started["headers"], body


@pytest.mark.parametrize(
    "path", ["/", "lesson", "/healthz", "/accounts/login/", REDEEM, "/nowhere/"]
)
def test_head_gets_the_headers_of_get_and_no_body(free_lesson, path):
    path = free_lesson.get_absolute_url() if path == "lesson" else path
    get_status, get_headers, get_body = wsgi("GET", path)
    status, headers, body = wsgi("HEAD", path)
    assert get_body
    assert body == b""
    assert status == get_status
    assert headers["Content-Type"] == get_headers["Content-Type"]
    assert headers["Content-Length"] == str(len(get_body))


def test_head_of_an_error_page_has_no_body(monkeypatch, free_lesson):
    import lessons.pages

    def broken(staff):
        raise ValueError("a bug")

    monkeypatch.setattr(lessons.pages, "visible_lessons", broken)
    status, _, body = wsgi("HEAD", free_lesson.get_absolute_url())
    assert status.startswith("500")
    assert body == b""


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/accounts/login/", 30), ("/accounts/signup/", 20), ("/accounts/password/reset/", 20)],
)
def test_head_requests_never_count_as_attempts(client, reader, path, limit):
    for _ in range(limit + 5):
        assert client.head(path).status_code == 200
    response = client.post(
        "/accounts/login/", {"login": "reader@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    client.logout()
    assert client.get(path).status_code == 200
