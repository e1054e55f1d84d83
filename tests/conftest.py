import itertools

import pytest
from django.core.cache import cache

from caching import stores
from tests.factories import make_lesson, make_series, make_staff, make_user

_cache_names = itertools.count()


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with empty caches (every store of caching/, rate limits)."""
    cache.clear()
    stores.clear_all()


class CacheOutage:
    """The shared cache going away as caching/backend.py serves it then (every read misses,
    every write is lost) and coming back with what it held before."""

    AWAY = {
        "get": lambda key, default=None, version=None: default,
        "set": lambda *args, **kwargs: None,
        "add": lambda *args, **kwargs: True,
        "delete": lambda *args, **kwargs: False,
    }

    def __init__(self):
        from django.core.cache import caches

        self.target = caches["default"]

    def start(self):
        self.target.__dict__.update(self.AWAY)

    def end(self):
        from caching import backend

        was_away = "get" in self.target.__dict__
        for name in self.AWAY:
            self.target.__dict__.pop(name, None)
        if was_away:  # as caching/backend.py says when it answers again
            backend.recovered.send(sender=type(self.target), location="test")


@pytest.fixture
def cache_outage():
    outage = CacheOutage()
    yield outage
    outage.end()


@pytest.fixture
def task_queue(settings):
    """Tasks kept, not run (django.tasks' dummy backend): `task_queue.results` lists what was
    queued, and `run(task_queue)` runs it as the worker would."""
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    return task_backends["default"]


def run(queue, name: str | None = None) -> list:
    """Run the queued tasks (those of the function `name` only, when given) as the worker
    would, whatever their `run_after`; tasks they queue wait for the next call. Their
    results, in order; an exception a task raises is returned, not raised."""
    waiting = [r for r in queue.results if name is None or r.task.name == name]
    queue.results[:] = [r for r in queue.results if r not in waiting]
    outcomes = []
    for result in waiting:
        try:
            outcomes.append(result.task.call(*result.args, **result.kwargs))
        except Exception as error:  # the worker records it as the task's failure
            outcomes.append(error)
    return outcomes


@pytest.fixture
def smtp(settings):
    """A real SMTP server (tests/smtp_server.py) that the site's mailer talks to."""
    from tests.smtp_server import SMTPServer

    with SMTPServer() as server:
        settings.MAILERS = {"default": server.mailer(timeout=1)}
        yield server


@pytest.fixture
def series(db):
    return make_series(title="Became an AI Engineer", slug="ai")


@pytest.fixture
def free_lesson(series):
    return make_lesson(series, number=1, slug="free-one", title="Free one", body="Free words.")


@pytest.fixture
def premium_lesson(series):
    return make_lesson(
        series,
        number=2,
        slug="premium-two",
        title="Premium two",
        access="premium",
        body="Public opening.\n\n<!-- more -->\n\nSECRET-PREMIUM-SENTENCE lives here.",
    )


@pytest.fixture
def reader(db):
    return make_user(email="reader@example.com")


@pytest.fixture
def staff(db):
    return make_staff(email="staff@example.com")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def local_cache(settings):
    """A cache of this test's own in process memory, so that cache reads cost no query and
    nothing cached by another test is found."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{next(_cache_names)}",
        }
    }
    cache.clear()
    return cache
