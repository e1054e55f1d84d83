"""The site's request handler (config/handlers.py, what gunicorn serves through config/wsgi.py)
resolves each address once per worker, by the address, the URL configuration and the language:
it answers exactly as Django's resolving does, in each language, never keeps an address that
resolves to nothing, and keeps a bounded number of them."""

import contextlib
import io
import sys
import threading

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory, override_settings
from django.urls import Resolver404, get_resolver, set_urlconf
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


def test_another_url_configuration_is_resolved_by_its_own():
    handler = handlers.WSGIHandler()
    assert resolved(handler, "/healthz", "en")[0].url_name == "healthz"
    with override_settings(ROOT_URLCONF="tests.config.urls_other"):
        assert resolved(handler, "/healthz", "en")[0].url_name == "other-healthz"
    assert resolved(handler, "/healthz", "en")[0].url_name == "healthz"


def test_a_request_with_its_own_url_configuration_is_resolved_by_it_and_not_kept():
    handler = handlers.WSGIHandler()
    request = RequestFactory().get("/healthz")
    request.urlconf = "tests.config.urls_other"
    try:
        assert handler.resolve_request(request).url_name == "other-healthz"
    finally:
        set_urlconf(None)
    assert handler.resolved == {}
    assert resolved(handler, "/healthz", "en")[0].url_name == "healthz"


class DroppingTogether(dict):
    """The kept addresses, where letting one go (chosen already) waits, half a second at
    most, for a second thread to be letting one go too."""

    def __init__(self, *args):
        super().__init__(*args)
        self.both = threading.Barrier(2, timeout=0.5)

    def __delitem__(self, key):
        with contextlib.suppress(threading.BrokenBarrierError):
            self.both.wait()
        super().__delitem__(key)


def test_two_threads_past_the_bound_at_once_each_let_a_different_address_go(monkeypatch):
    """A worker's threads (GUNICORN_THREADS) adding addresses at the bound together: one at a
    time chooses what to drop, so no two drop the same one (a KeyError: a 500)."""
    monkeypatch.setattr(handlers, "RESOLVED_MAX", 2)
    handler = handlers.WSGIHandler()
    for n in range(2):
        resolved(handler, f"/series/kept-{n}/", "en")
    handler.resolved = DroppingTogether(handler.resolved)
    failures = []

    def add(name):
        try:
            resolved(handler, f"/series/{name}/", "en")
        except Exception as error:  # any failure of a thread fails the test
            failures.append(error)

    threads = [threading.Thread(target=add, args=(name,)) for name in ("new-1", "new-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(path for _resolver, path, _language in handler.resolved) == [
        "/series/new-1/",
        "/series/new-2/",
    ]


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
