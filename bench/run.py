"""`make bench`: the site's reader pages and PIN redemption under load, against a ceiling.

On one machine, in one run: builds the benchmark database (bench/data.py; SQLite in a
temporary folder, or the database DATABASE_URL names, which is emptied first), starts the
production server as `make serve` does (gunicorn with config/gunicorn.py, DEBUG off) and beside
it the ceiling (bench/ceiling.py: a bare Django view, no middleware, a fixed 20 KB page) the same
way, and loads each with wrk in interleaved rounds. Reports requests per second, the ratio to
the ceiling measured in the same round (median and range), p50 and p99 latency, errors, queries
per request and worker memory; writes the raw figures to bench/results/; ends with one line.

    python -m bench.run [--rounds 3] [--seconds 5] [--connections 8]
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e import servers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PAGES = ["home", "series", "free", "teaser", "full", "noaccess", "redeem"]
# The same pages at another size, to show they stay flat: a series of 1,000 lessons (against
# the demo's 7), lesson 900 of it for the reader without access (against lesson 2 of 7), and a
# reader holding 1 entitlement (against 200).
FLAT = {"series-big": "series", "lesson-big": "noaccess", "full-1": "full"}
TARGETS = {
    "teaser": 0.35,
    "free": 0.35,
    "series": 0.35,
    "home": 0.35,
    "full": 0.20,
    "noaccess": 0.20,
}


def server_env(workdir: Path) -> dict:
    return servers.server_env(
        SECRET_KEY="bench-only-" + "x" * 50,
        PIN_HASH_KEY="bench-only-pins-" + "y" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}",
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
    )


def manage(env, *args, stdout=subprocess.DEVNULL) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=stdout
    )
    return time.perf_counter() - started


class Server(servers.Gunicorn):
    """The site or the ceiling under gunicorn as `make serve` runs it, all its workers."""

    def __init__(self, env: dict, app: str):
        super().__init__(env, app=app, workers=None)

    def workers_rss_mb(self) -> list[float]:
        sizes = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if ppid and rss and int(ppid[1]) == self.process.pid:
                sizes.append(int(rss[1]) / 1024)
        return sizes


def wrk(url: str, *, seconds: int, connections: int, headers=(), script=None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(percentile):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)", output, re.M)
        return round(float(match[1]) * units[match[2]], 3) if match else None

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "errors": (int(non_2xx[1]) if non_2xx else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    }


def prepare(workdir: Path, env: dict, say) -> dict:
    """Build the database and everything the load needs: URLs, cookies, a form to post."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from bench import data
    from lessons.models import Lesson

    if connection.vendor == "postgresql":
        manage(env, "flush", "--no-input")
    say("Building the benchmark database…")
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "createcachetable")
    manage(env, "import_series", "content/became-ai-engineer")
    built = data.build(stdout=lambda line: say(line))
    manage(env, "collectstatic", "--no-input", "-v0")

    folder = workdir / "import-1000"
    folder.mkdir()
    (folder / "series.yaml").write_text("title: Imported\nslug: imported\n")
    for n in range(1, 1001):
        (folder / f"{n:04}.md").write_text(
            f"---\ntitle: Imported lesson {n}\nnumber: {n}\naccess: premium\nstatus: published\n"
            f"---\n{data.body(n % 6)}"
        )
    import_seconds = manage(env, "import_series", str(folder))
    pins_seconds = manage(env, "issue_pins", "--series", "imported", "--count", "10000")
    say(f"  import of 1,000 lessons: {import_seconds:.1f} s; 10,000 PINs: {pins_seconds:.1f} s")

    demo = Lesson.objects.select_related("series").filter(series__slug="became-ai-engineer")
    free, premium = demo.get(number=1), demo.get(number=2)
    urls = {
        "home": "/",
        "series": premium.series.get_absolute_url(),
        "free": free.get_absolute_url(),
        "teaser": premium.get_absolute_url(),
        "full": premium.get_absolute_url(),
        "noaccess": premium.get_absolute_url(),
        "redeem": "/access/redeem/",
    }
    from access import services

    big = Lesson.objects.select_related("series").get(series__slug="imported", number=900)
    urls |= {
        "series-big": big.series.get_absolute_url(),
        "lesson-big": big.get_absolute_url(),
        "full-1": premium.get_absolute_url(),
    }
    one_grant = User.objects.create_user("one-entitlement@bench.test", "bench-reader-password")
    services.grant(user=one_grant, series=premium.series)
    clients = {"anonymous": Client()}
    for name, pk in (
        ("entitled", built["entitled_reader"]),
        ("noaccess", built["no_access_reader"]),
        ("one grant", one_grant.pk),
    ):
        clients[name] = Client()
        clients[name].force_login(User.objects.get(pk=pk))
    who = {
        "full": "entitled",
        "noaccess": "noaccess",
        "redeem": "entitled",
        "lesson-big": "noaccess",
        "full-1": "one grant",
    }

    pin = services.issue_pins(series=premium.series, max_uses=1_000_000)[0].pin
    page = clients["entitled"].get("/access/redeem/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    body = f"csrfmiddlewaretoken={token}&pin={pin}&next={urls['teaser']}"
    script = workdir / "redeem.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        'wrk.headers["Referer"] = "http://127.0.0.1/access/redeem/"\n'
    )

    queries = {}  # of a request after the first, as under load (what workers keep is kept)
    for name, url in urls.items():
        client = clients[who.get(name, "anonymous")]
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                if name == "redeem":
                    response = client.post(url, {"csrfmiddlewaretoken": token, "pin": pin})
                else:
                    response = client.get(url)
            assert response.status_code in (200, 302), (name, response.status_code)
        queries[name] = len(captured)
    headers = {}
    for name in urls:
        client = clients[who.get(name, "anonymous")]
        # A reader's steady state: their session and CSRF cookies, and no message waiting
        # (the redemption above left one, which a browser would show once and drop).
        kept = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
        cookie = "; ".join(
            f"{k}={v.value}" for k, v in client.cookies.items() if k in kept and v.value
        )
        headers[name] = [f"Cookie: {cookie}"] if cookie else []
    return {
        "urls": urls,
        "headers": headers,
        "script": str(script),
        "queries": queries,
        "build_seconds": built["seconds"],
        "import_1000_lessons_seconds": round(import_seconds, 2),
        "issue_10000_pins_seconds": round(pins_seconds, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("make bench needs wrk, the HTTP load generator: apt-get install wrk")

    def say(line):
        print(line, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="lessons-bench-"))
    env = server_env(workdir)
    plan = prepare(workdir, env, say)
    site, ceiling = Server(env, "config.wsgi"), Server(env, "bench.ceiling")
    runs = {name: [] for name in ["ceiling", *PAGES, *FLAT]}
    try:
        for url in plan["urls"].values():  # warm up every worker
            wrk(site.url + url, seconds=1, connections=args.connections)
        wrk(ceiling.url + "/", seconds=1, connections=args.connections)
        for round_number in range(1, args.rounds + 1):
            say(f"Round {round_number} of {args.rounds}…")
            ceilings = [wrk(ceiling.url + "/", seconds=args.seconds, connections=args.connections)]
            for name in [*PAGES, *FLAT]:
                result = wrk(
                    site.url + plan["urls"][name],
                    seconds=args.seconds,
                    connections=args.connections,
                    headers=plan["headers"][name],
                    script=plan["script"] if name == "redeem" else None,
                )
                runs[name].append(result)
            ceilings.append(
                wrk(ceiling.url + "/", seconds=args.seconds, connections=args.connections)
            )
            ceiling_rps = statistics.mean(c["rps"] for c in ceilings)
            runs["ceiling"].append({**ceilings[0], "rps": ceiling_rps})
            for name in [*PAGES, *FLAT]:
                runs[name][-1]["ratio"] = runs[name][-1]["rps"] / ceiling_rps
        rss = max(site.workers_rss_mb())
    finally:
        site.stop()
        ceiling.stop()
    report(plan, runs, rss, args)
    shutil.rmtree(workdir, ignore_errors=True)


def report(plan, runs, rss, args):
    summary = {}
    for name in ["ceiling", *PAGES, *FLAT]:
        results = runs[name]
        rps = statistics.median(r["rps"] for r in results)
        ratios = [r["ratio"] for r in results if "ratio" in r]
        summary[name] = {
            "rps_median": round(rps, 1),
            "ratio_median": round(statistics.median(ratios), 3) if ratios else 1.0,
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)] if ratios else [1, 1],
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results),
            "errors": sum(r["errors"] for r in results),
            "queries": plan["queries"].get(name, 0),
        }
    print()
    print(
        f"{'page':<10} {'req/s':>9} {'ratio':>7} {'range':>13} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'queries':>8}"
    )
    for name, s in summary.items():
        low, high = s["ratio_range"]
        print(
            f"{name:<10} {s['rps_median']:>9,.0f} {s['ratio_median']:>6.2f}x "
            f"{low:>5.2f}–{high:<5.2f}  {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
            f"{s['errors']:>7} {s['queries']:>8}"
        )
    errors = sum(s["errors"] for s in summary.values())
    flat = "; ".join(
        f"{big} {summary[big]['ratio_median'] / summary[small]['ratio_median'] - 1:+.0%} "
        f"against {small}"
        for big, small in FLAT.items()
    )
    print(f"\nflat (rate at the other size): {flat}")
    print(
        f"\nworker memory: {rss:.0f} MB; database built in {plan['build_seconds']} s; "
        f"import of 1,000 lessons {plan['import_1000_lessons_seconds']} s; "
        f"10,000 PINs issued in {plan['issue_10000_pins_seconds']} s"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-{platform.node() or 'host'}.json"
    path.write_text(
        json.dumps(
            {
                "when": stamp,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "database": os.environ.get("DATABASE_URL", "sqlite")[:10],
                },
                "settings": vars(args),
                "summary": summary,
                "rounds": runs,
                "worker_rss_mb": round(rss, 1),
                "import_1000_lessons_seconds": plan["import_1000_lessons_seconds"],
                "issue_10000_pins_seconds": plan["issue_10000_pins_seconds"],
            },
            indent=2,
        )
    )
    print(f"raw figures: {path.relative_to(ROOT)}")
    parts = ", ".join(f"{name} {summary[name]['ratio_median']:.2f}x" for name in TARGETS)
    print(f"bench: {parts} of ceiling; rss {rss:.0f} MB; errors {errors}")


if __name__ == "__main__":
    main()
