"""Fault figures: a real gunicorn (one worker, production settings and default timeouts) on
PostgreSQL and Redis, each cut or hung through a TCP proxy while a reader keeps asking.

    .venv/bin/python -m tests.faults      # needs PostgreSQL and Redis on 127.0.0.1
    .venv/bin/python -m tests.faults renderer    # only the rendering cases

Prints, per fault, the requests made during it, their statuses, the time each took, and how
long after the restore /healthz said all was well again; then hostile live previews and workers
killed mid-drawing (tests/faults_renderer.py). Not a test: timings are the output.
"""

import statistics
import sys
import time
import uuid
from collections import Counter

from tests import faults_renderer
from tests.e2e.servers import Browser, Gunicorn, Outage, create_reader, manage, server_env

PG, REDIS = ("127.0.0.1", 5432), ("127.0.0.1", 6379)
EMAIL, PASSWORD = "reader@example.com", "a-long-pass-phrase-9"
ROUNDS = 10
HEALTHY = '{"status": "ok", "database": "up", "cache": "up"}'


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG[0], port=PG[1], user="postgres", autocommit=True) as db:
        db.execute(sql)


def timed(call):
    started = time.monotonic()
    try:
        status, _ = call()
    except OSError as error:  # no answer within the client's 10 s
        status = type(error).__name__
    return status, time.monotonic() - started


def measure(server, outage, fault, requests):
    getattr(outage, fault)()
    results = [
        (kind, *timed(request)) for _ in range(ROUNDS) for kind, request in requests(server).items()
    ]
    outage.restore()
    restored = time.monotonic()
    while Browser().request(server.url + "/healthz")[1] != HEALTHY:
        time.sleep(0.05)
    recovery = time.monotonic() - restored
    print(f"{fault}: recovered {recovery:.2f} s after the restore")
    for kind in requests(server):
        seconds = [s for k, _, s in results if k == kind]
        statuses = Counter(str(status) for k, status, _ in results if k == kind)
        print(
            f"  {kind:8} {len(seconds):3} requests, statuses {dict(statuses)}, seconds each: "
            f"median {statistics.median(seconds):.2f}, max {max(seconds):.2f}"
        )


def reader_requests(server):
    """A page, /healthz, and a log-in by a new reader."""
    return {
        "page": lambda: Browser().request(server.url + "/series/became-ai-engineer/"),
        "/healthz": lambda: Browser().request(server.url + "/healthz"),
        "log-in": lambda: Browser().post_form(
            server.url + "/accounts/login/", {"login": EMAIL, "password": PASSWORD}
        ),
    }


def main(cases=("outages", "renderer")):
    name = f"faults_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    pg, redis = Outage(*PG), Outage(*REDIS)
    try:
        direct = server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}")
        manage("migrate", "-v0", env=direct)
        manage("createcachetable", env=direct)
        manage("import_series", "content/became-ai-engineer", env=direct)
        create_reader(EMAIL, PASSWORD, env=direct)
        manage("collectstatic", "--no-input", "-v0", env=direct)
        env = server_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg.port}/{name}",
            CONN_MAX_AGE="60",
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/7",
            CACHE_KEY_PREFIX=f"faults-{uuid.uuid4().hex}",
        )
        if "outages" in cases:
            with Gunicorn(env) as server:
                for outage, label in ((redis, "Redis"), (pg, "PostgreSQL")):
                    print(f"\n{label} (page, /healthz and a log-in, {ROUNDS} times):")
                    for fault in ("cut", "hang"):
                        measure(server, outage, fault, reader_requests)
        if "renderer" in cases:
            faults_renderer.run(
                {**direct, "REDIS_URL": f"redis://127.0.0.1:{REDIS[1]}/7",
                 "CACHE_KEY_PREFIX": f"faults-{uuid.uuid4().hex}"}
            )  # fmt: skip
    finally:
        pg.close()
        redis.close()
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("outages", "renderer"))
