"""Where a logged-in reader's request spends its time: one page asked for many times in
process, by a reader with access, under cProfile, on the database `make bench` last built
(DATABASE_URL, REDIS_URL as for `make bench`; production settings, DEBUG off).

    python -m bench.profile [--path /series/became-ai-engineer/models-tokens-and-context-windows/]
                            [--requests 500] [--top 25] [--anonymous] [--cold]

--cold: every lesson of the 500-lesson series in turn instead of one page (as cold_ visits).
--check-every-request: the database's health check before every request, as before
config/postgresql/base.py skipped it for a connection that has just answered.

Each request is wrapped as a server wraps it (close_old_connections() as it starts and ends,
which the test client leaves out), so the connection's checks are those of gunicorn.

Prints the milliseconds per request (without the profiler, then with it), the round trips to
the database per request, and the functions that take the most time of their own.
"""

import argparse
import cProfile
import os
import pstats
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
        CACHE_KEY_PREFIX="bench-profile",
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
    for path in paths[:20]:  # warm: what a worker keeps is kept
        assert client.get(path).status_code == 200

    from django.db import close_old_connections

    if args.check_every_request:
        from config.postgresql import base

        base.IDLE_SECONDS = 0

    def visit(n):
        close_old_connections()  # request_started, as under gunicorn
        client.get(paths[n % len(paths)])
        close_old_connections()  # request_finished

    started = time.perf_counter()
    for n in range(args.requests):
        visit(n)
    plain = (time.perf_counter() - started) / args.requests * 1000
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for n in range(args.requests, 2 * args.requests):
        visit(n)
    profiler.disable()
    profiled = (time.perf_counter() - started) / args.requests * 1000
    who = "anonymous" if args.anonymous else reader.email
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
        f"{plain:.2f} ms a request ({profiled:.2f} ms profiled); "
        f"{sends / args.requests:g} round trips to the database a request"
    )
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
