"""The site's request handler (config/handlers.py, what gunicorn serves through config/wsgi.py)
resolves each address once per worker, by the address, the URL configuration and the language:
it answers exactly as Django's resolving does, in each language, never keeps an address that
resolves to nothing, and keeps a bounded number of them."""

import io
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory, override_settings
from django.urls import Resolver404, get_resolver
from django.utils import translation

from config import handlers, wsgi
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db

# Each address in the language it is read in (the other's under its prefix).
ADDRESSES = [
    ("/", "en"),
    ("/id/", "id"),
    ("/series/a-series/", "en"),
    ("/id/series/a-series/a-lesson/", "id"),
    ("/series/a-series/a-lesson/", "en"),
    ("/accounts/login/", "en"),
    ("/id/access/redeem/", "id"),
    ("/healthz", "en"),
    ("/healthz", "id"),
]


def resolved(handler, path, language):
    with translation.override(language):
        request = RequestFactory().get(path)
        return handler.resolve_request(request), request


def as_django(path, language):
    with translation.override(language):
        return get_resolver().resolve(path)


def same(match, expected) -> bool:
    return (match.func, match.args, match.kwargs, match.view_name, match.route) == (
        expected.func,
        expected.args,
        expected.kwargs,
        expected.view_name,
        expected.route,
    )


@pytest.mark.parametrize(("path", "language"), ADDRESSES)
def test_an_address_resolves_as_django_resolves_it_the_first_time_and_after(path, language):
    handler = handlers.WSGIHandler()
    first, request = resolved(handler, path, language)
    again, request_again = resolved(handler, path, language)
    expected = as_django(path, language)
    assert same(first, expected) and same(again, expected)
    assert request.resolver_match is first and request_again.resolver_match is again


def test_the_language_is_part_of_what_names_an_address():
    handler = handlers.WSGIHandler()
    # A prefixed address exists only in its language; the plain one is the default's.
    assert resolved(handler, "/id/series/a-series/", "id")[0].kwargs == {"slug": "a-series"}
    with pytest.raises(Resolver404):
        resolved(handler, "/id/series/a-series/", "en")
    assert len(handler.resolved) == 1


def test_an_address_that_resolves_to_nothing_is_never_kept():
    handler = handlers.WSGIHandler()
    for _ in range(2):
        with pytest.raises(Resolver404):
            resolved(handler, "/no/such/address/", "en")
    assert handler.resolved == {}


def test_it_keeps_a_bounded_number_of_addresses(monkeypatch):
    monkeypatch.setattr(handlers, "RESOLVED_MAX", 3)
    handler = handlers.WSGIHandler()
    for n in range(5):
        resolved(handler, f"/series/series-{n}/", "en")
    kept = [path for _resolver, path, _language in handler.resolved]
    assert kept == ["/series/series-2/", "/series/series-3/", "/series/series-4/"]


@override_settings(ROOT_URLCONF="tests.config.urls_other")
def test_another_url_configuration_is_resolved_by_its_own():
    handler = handlers.WSGIHandler()
    assert resolved(handler, "/healthz", "en")[0].url_name == "other-healthz"


@pytest.fixture
def connections_kept():
    """As the test client does: the connection (and the test's transaction with it) is not
    closed at the start and end of a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_served_application_is_this_handler(connections_kept):
    lesson = make_lesson(access="free")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": lesson.get_absolute_url(),
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    statuses = []
    for _ in range(2):
        response = wsgi.application(dict(environ), lambda status, headers: statuses.append(status))
        body = b"".join(response)
        response.close()
        assert lesson.title.encode() in body
    assert isinstance(wsgi.application, handlers.WSGIHandler)
    assert statuses == ["200 OK", "200 OK"]
