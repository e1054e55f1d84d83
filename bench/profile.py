"""Where a logged-in reader's request spends its time: one page asked for many times in
process, by a reader with access, under cProfile, on the database `make bench` last built
(DATABASE_URL, REDIS_URL as for `make bench`; production settings, DEBUG off).

    python -m bench.profile [--path /series/became-ai-engineer/models-tokens-and-context-windows/]
                            [--requests 500] [--top 25] [--sort tottime] [--anonymous] [--cold]
                            [--like series_in|search_in [--progress]] [--dump FILE]

--cold: every lesson of the 500-lesson series in turn instead of one page (as cold_ visits).
--like series_in|search_in: the visits of that page kind of `make bench`, by its 28 readers in
turn (23 with access to the demo series, 5 without; bench/run.py), each with a session of their
own: the demo series' page, or its seven lessons' titles searched.
--progress: first give those readers different progress in the demo series (lesson k opened
and the ones before it done, k from the reader's place): it writes, so it refuses the database
`make bench` builds (copy it: createdb -T, or pg_dump | psql, and name the copy in DATABASE_URL).
--check-every-request: the database's health check before every request, as before
config/postgresql/base.py skipped it for a connection that has just answered.

Each request goes through the WSGI application as gunicorn calls it (config.wsgi: the
project's handler, which resolves each address once, and request_started and
request_finished, which check the connection), with the reader's session and CSRF cookies;
the test client, which adds its own work and leaves the handler out, only logs the readers in
and warms what is kept.

Prints the milliseconds per request (without the profiler, then with it), the round trips to
the database per request, and the functions that take the most time of their own.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time

from bench.run import PG_URL, REDIS_URL

DEFAULT_PATH = "/series/became-ai-engineer/models-tokens-and-context-windows/"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--check-every-request", action="store_true")
    parser.add_argument("--sort", default="tottime", help="pstats' order: tottime, cumulative…")
    parser.add_argument("--like", choices=["series_in", "search_in"])
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--dump", help="also write the profile to this file (pstats' format)")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        ENV_FILE="/nonexistent",
        DEBUG="0",
        SECURE_HTTPS="0",
        SECRET_KEY="bench-only-" + "x" * 50,
        PIN_HASH_KEY="bench-only-pins-" + "y" * 40,
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=os.environ.get("DATABASE_URL") or PG_URL,
        REDIS_URL=os.environ.get("REDIS_URL") or REDIS_URL,
        CACHE_KEY_PREFIX=os.environ.get("CACHE_KEY_PREFIX") or "bench-profile",
        STATIC_ROOT=os.path.join(tempfile.gettempdir(), "lessons-profile-static"),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.db import connection
    from django.test import Client

    from access import services
    from access.models import Entitlement
    from lessons.models import Lesson

    reader = Entitlement.objects.filter(series__slug="became-ai-engineer").first().user
    paths = [args.path]
    if args.cold:
        cold = Lesson.objects.filter(series__slug="imported").select_related("series")
        paths = [lesson.get_absolute_url() for lesson in cold.order_by("number")]
        services.grant(user=reader, series=cold[0].series)
    client = Client()
    if not args.anonymous:
        client.force_login(reader)
    visits = [(path, client) for path in paths]
    if args.like:
        visits = bench_visits(args.like, progress=args.progress)
        paths = [path for path, _ in visits]
    for path, visitor in visits[:20] if not args.like else visits:  # warm: what is kept is kept
        assert visitor.get(path).status_code == 200  # and the CSRF cookie set
        assert through_wsgi(path, visitor) == 200

    if args.check_every_request:
        from config.postgresql import base

        base.IDLE_SECONDS = 0

    def visit(n):
        path, visitor = visits[n % len(visits)]
        through_wsgi(path, visitor)

    started, cpu = time.perf_counter(), time.process_time()
    for n in range(args.requests):
        visit(n)
    plain = (time.perf_counter() - started) / args.requests * 1000
    cpu = (time.process_time() - cpu) / args.requests * 1000
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for n in range(args.requests, 2 * args.requests):
        visit(n)
    profiler.disable()
    profiled = (time.perf_counter() - started) / args.requests * 1000
    who = "anonymous" if args.anonymous else reader.email
    if args.like:
        who = f"{args.like}'s 28 readers in turn{' with progress' if args.progress else ''}"
    print(f"{paths[0]}{' and on' if args.cold else ''} as {who}, {connection.vendor}")
    stats = pstats.Stats(profiler)
    # Round trips to the server: psycopg's sends (queries and health checks alike; a
    # statement prepared on the server is sent once to be prepared, then executed by name).
    sends = sum(
        calls
        for (filename, _, name), (calls, *_) in stats.stats.items()
        if name in ("_execute_send", "_send_prepare", "_send_query_prepared")
        and "psycopg" in filename
    )
    print(
        f"{plain:.2f} ms a request, {cpu:.2f} ms of it this process's CPU "
        f"({profiled:.2f} ms profiled); "
        f"{sends / args.requests:g} round trips to the database a request"
    )
    from caching import kept

    pages = sum(1 for key in kept.whole_pages.entries if str(key[1]).startswith("page:"))
    print(f"{pages} pages kept per tier in the worker (caching.kept.whole_pages) after the run")
    stats.sort_stats(args.sort).print_stats(args.top)
    if args.dump:
        stats.dump_stats(args.dump)


def through_wsgi(path: str, client) -> int:
    """GET `path` through config.wsgi's application as gunicorn calls it, with `client`'s
    cookies: the response's status, its body read and the response closed."""
    from config.wsgi import application  # once the settings are read (main())

    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT": "text/html",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookies := "; ".join(f"{name}={c.value}" for name, c in client.cookies.items()):
        environ["HTTP_COOKIE"] = cookies
    status = []
    response = application(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(response)
    finally:
        response.close()  # request_finished, as gunicorn sends it
    return int(status[0].split()[0])


def bench_visits(like: str, *, progress: bool) -> list:
    """(path, client) for each visit of the page kind `like` as bench/run.py plans them: the
    readers it logs in (the last 28 bench readers; the first 23 hold the demo series, which
    bench/run.py's PINs gave them), each in a client of their own."""
    from urllib.parse import quote_plus

    from django.conf import settings
    from django.test import Client

    from access.models import Entitlement
    from accounts.models import User
    from bench import data
    from bench.run import ENTITLED_READERS, NO_ACCESS_READERS
    from lessons.models import Lesson, Progress

    users = list(
        User.objects.filter(email__endswith="@bench.test").order_by("-pk")[
            : ENTITLED_READERS + NO_ACCESS_READERS
        ]
    )
    demo = list(
        Lesson.objects.filter(series__slug="became-ai-engineer")
        .select_related("series")
        .order_by("number")
    )
    held = set(
        Entitlement.objects.filter(user__in=users, series=demo[0].series).values_list(
            "user_id", flat=True
        )
    )
    assert held == {user.pk for user in users[:ENTITLED_READERS]}, "not the bench's readers"
    if progress:
        name = settings.DATABASES["default"]["NAME"]
        assert name != PG_URL.rsplit("/", 1)[1], "--progress writes: use a copy of lessons_bench"
        Progress.objects.filter(user__in=users).delete()
        data.place_readers(users, demo, holders=held)
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    if like == "series_in":
        return [(demo[0].series.get_absolute_url(), client) for client in clients]
    return [
        (f"/search/?q={quote_plus(lesson.title)}", client)
        for lesson in demo
        for client in clients[lesson.number :: len(demo)]
    ]


if __name__ == "__main__":
    main()
