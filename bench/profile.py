"""Where a logged-in reader's request spends its time: one page asked for many times in
process, by a reader with access, under cProfile, on the database `make bench` last built
(DATABASE_URL, REDIS_URL as for `make bench`; production settings, DEBUG off).

    python -m bench.profile [--path /series/became-ai-engineer/models-tokens-and-context-windows/]
                            [--requests 500] [--top 25]

Prints the milliseconds per request (without the profiler, then with it), the queries of one
request, and the functions that take the most time of their own.
"""

import argparse
import cProfile
import os
import pstats
import time

from bench.run import PG_URL, REDIS_URL

DEFAULT_PATH = "/series/became-ai-engineer/models-tokens-and-context-windows/"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
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
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from access.models import Entitlement

    reader = Entitlement.objects.filter(series__slug="became-ai-engineer").first().user
    client = Client()
    client.force_login(reader)
    for _ in range(20):  # warm: what a worker keeps is kept
        assert client.get(args.path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(args.path)
    started = time.perf_counter()
    for _ in range(args.requests):
        client.get(args.path)
    plain = (time.perf_counter() - started) / args.requests * 1000
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.requests):
        client.get(args.path)
    profiler.disable()
    profiled = (time.perf_counter() - started) / args.requests * 1000
    print(f"{args.path} as {reader.email}, {connection.vendor}")
    print(f"{plain:.2f} ms a request ({profiled:.2f} ms profiled); {len(queries)} queries:")
    for query in queries.captured_queries:
        print(f"  {query['sql'][:150]}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
