"""The scale table: pages timed cold with a lot of content, on SQLite and on PostgreSQL.

For each database and each size of tests/scale.py (one series of 10,000 lessons; 2,000
series), a fresh database is migrated and filled, then each page is asked for cold: just
after a series was saved through lessons.services (which drops every kept page and part, as
any write does), in a process whose templates are loaded already. Each page is asked for
cold TIMES times, each after a save of its own: on a shared machine one request's time is
mostly what else ran beside it, so the table shows the median (the raw figures keep every
time, in order). Prints milliseconds and queries per page, and writes them to
bench/results/.

    python -m bench.scale                      # both databases (PostgreSQL on 127.0.0.1)
    python -m bench.scale --databases sqlite

PostgreSQL: DATABASE_URL's server, database `lessons_scale` (dropped and made afresh).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgres://postgres@127.0.0.1:5432/lessons_scale"
TIMES = 5  # cold requests per page, each after a write
TARGET_MS = {"search": 100, "search, logged in": 100, "home": 20, "series, last page": 20}


def pages(big) -> dict[str, str]:
    lessons = big.lessons.count()
    last = big.lessons.get(number=lessons)
    found = {
        "home": "/",
        "series, last page": f"{big.get_absolute_url()}?page={-(-lessons // 50)}",
        "last lesson": last.get_absolute_url(),
        "search": "/search/?q=vectors",
        "search, logged in": "/search/?q=vectors",
        "sitemap index": "/sitemap.xml",
        "sitemap, last file": None,  # read from the index
    }
    if big.slug != "series-1":
        found["home, last page"] = "/?page=100"
    return found


def inner(size: str) -> None:
    """In a process with its database migrated: fill it, then time each page cold."""
    import re

    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client

    from access import services
    from lessons.models import Series
    from lessons.services import save_series
    from tests import scale
    from tests.factories import make_user

    started = time.perf_counter()
    big = scale.build(size)
    if connection.vendor == "postgresql":  # as autovacuum would, soon after (bench.run.analyze)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    built = time.perf_counter() - started
    other = Series.objects.exclude(pk=big.pk).first() or big
    anonymous, reader = Client(), Client()
    user = make_user()
    services.grant(user=user, series=big)
    reader.force_login(user)
    for client in (anonymous, reader):  # templates loaded, connections open
        client.get("/?page=2")
        client.get(big.get_absolute_url())
        client.get(big.lessons.get(number=1).get_absolute_url())
    results = {}
    connection.force_debug_cursor = True
    for name, url in pages(big).items():
        if url is None:
            index = anonymous.get("/sitemap.xml").content.decode()
            url = re.findall(r"<loc>http://testserver([^<]+)</loc>", index)[-1].replace(
                "&amp;", "&"
            )
        client = reader if "logged in" in name else anonymous
        times = []
        for _ in range(TIMES):
            save_series(other)  # a write: every kept page and part is dropped
            reset_queries()
            began = time.perf_counter()
            response = client.get(url)
            times.append(round((time.perf_counter() - began) * 1000, 1))
            assert response.status_code == 200, (name, url, response.status_code)
        results[name] = {
            "ms": statistics.median(times),
            "ms_each": times,
            "queries": len(connection.queries),
            "url": url,
        }
    print(json.dumps({"built_seconds": round(built, 1), "pages": results}))


def run(database: str, size: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lessons-scale-"))
    env = {
        **os.environ,
        "ENV_FILE": "/nonexistent",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "SECRET_KEY": "scale-only-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "STATIC_ROOT": str(folder / "static"),
        "LOG_LEVEL": "ERROR",
        # Filling the database in bulk may take longer than a request's statement timeout.
        "DATABASE_STATEMENT_TIMEOUT": "0",
    }
    env.pop("REDIS_URL", None)
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{folder / 'scale.sqlite3'}"
    else:
        from bench.run import fresh_database

        env["DATABASE_URL"] = os.environ.get("SCALE_DATABASE_URL") or PG_URL
        fresh_database(env["DATABASE_URL"])

    def manage(*args):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    manage("migrate", "--no-input", "-v0")
    manage("createcachetable")
    manage("collectstatic", "--no-input", "-v0")
    output = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--inner", size],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner)
        return
    from bench.run import save
    from tests.scale import SIZES

    table = {}
    for database in args.databases.split(","):
        for size in SIZES:
            print(f"{database}, {size}…", flush=True)
            table[f"{database}, {size}"] = run(database, size)
    names = [
        "home", "home, last page", "series, last page", "last lesson", "search",
        "search, logged in", "sitemap index", "sitemap, last file",
    ]  # fmt: skip
    heading = f"ms (queries), cold, median of {TIMES}"
    print(f"\n{heading:<44}" + "".join(f"{n:>20}" for n in names))
    for label, row in table.items():
        cells = [
            f"{row['pages'][n]['ms']:.0f} ({row['pages'][n]['queries']})"
            if n in row["pages"] else "–"
            for n in names
        ]  # fmt: skip
        print(f"{label:<44}" + "".join(f"{c:>20}" for c in cells))
    print(f"\ntargets (ms): {TARGET_MS}")
    save("scale", {"table": table, "targets_ms": TARGET_MS})


if __name__ == "__main__":
    main()
