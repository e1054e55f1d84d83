"""`make bench`: readers' visits under load, against a ceiling measured between every page.

The site runs as `make serve` runs it (gunicorn with config/gunicorn.py, DEBUG off) on
PostgreSQL and Redis on 127.0.0.1 (as CI starts them; DATABASE_URL and REDIS_URL name others),
beside the ceiling (bench/ceiling.py: a bare Django view, no middleware, a fixed 20 KB page)
with the same number of workers. The database is built afresh (bench/data.py: 1,000 series of
10 lessons, 10,000 readers, 100,000 PINs; plus a 500-lesson series imported through
`import_series`); readers log in through the log-in form and redeem PINs through the redeem
form over HTTP, so their sessions are the ones a browser holds.

Each page kind is loaded by wrk with bench/visits.lua: many addresses and many readers'
cookies in rotation, every response checked for its page's own text (and, for a reader
without access, for the absence of the premium text); any non-200 or wrong page counts as an
error. The ceiling runs before, between and after the pages of every round, and each page's
ratio is against the mean of its two neighbours. `_in`: a logged-in reader; `cold_`: every
lesson of the 500-lesson series visited round-robin (anonymous, and by 23 readers with access).
The 28 logged-in readers are part-way through the demo series, at 13 places between them
(bench.data.place_readers): a series page shows each reader theirs.

    python -m bench.run [--rounds 3] [--seconds 5] [--connections 8]
    python -m bench.run --sqlite     # the embedded run: SQLite, no Redis
    python -m bench.run --front      # through nginx (docs/samples/nginx.conf), see bench/front.py

Prints a table, writes the raw figures to bench/results/, and ends with one line.
"""

import argparse
import html
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
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

from tests.e2e import servers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "visits.lua"
PAGES = [
    "teaser", "free", "full", "noaccess", "series", "home",
    "series_in", "search_in", "cold_anon", "cold_full",
]  # fmt: skip
COLD_LESSONS = 500
# Readers who log in (allauth allows 30 log-ins a minute from one address): with access (a
# prime number, so that with 500 lessons every reader meets every lesson) and without.
ENTITLED_READERS = 23
NO_ACCESS_READERS = 5
PASSWORD = "bench-reader-password"  # bench/data.py's readers'
PG_URL = "postgres://postgres@127.0.0.1:5432/lessons_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"


def server_env(workdir: Path, *, sqlite: bool) -> dict:
    extra = {"DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}"}
    if not sqlite:
        extra = {
            "DATABASE_URL": os.environ.get("DATABASE_URL") or PG_URL,
            "REDIS_URL": os.environ.get("REDIS_URL") or REDIS_URL,
            # The Redis server may be shared: this run's keys are its own.
            "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        }
    return servers.server_env(
        SECRET_KEY="bench-only-" + "x" * 50,
        PIN_HASH_KEY="bench-only-pins-" + "y" * 40,
        ALLOWED_HOSTS=f"127.0.0.1,localhost,testserver,{servers.PUBLIC_HOST}",
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
        **extra,
    )


def manage(env, *args) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def fresh_database(url: str) -> None:
    """Drop and create the PostgreSQL database `url` names."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def analyze(url: str) -> None:
    """Gather the planner's statistics, as autovacuum does soon after a database changes this
    much: without them PostgreSQL plans every query for tables of one row (a lesson's
    neighbours took 1.5 ms instead of 0.1)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")


class Server(servers.Gunicorn):
    """The site or the ceiling under gunicorn as `make serve` runs it, all its workers."""

    def __init__(self, env: dict, app: str):
        super().__init__(env, app=app, workers=None)

    def workers_rss_mb(self) -> list[float]:
        return [memory["rss"] for memory in self.workers_memory_mb()]

    def workers_memory_mb(self) -> list[dict]:
        """Each worker's resident memory (RSS: everything it maps, the pages it shares with
        the others and with the master it was forked from included), its proportional share
        (PSS: a shared page counted once across the processes sharing it) and what is its own
        alone (private), in MB."""
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
                rollup = (status.parent / "smaps_rollup").read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
            if not ppid or int(ppid[1]) != self.process.pid:
                continue

            def kb(field, source=rollup):
                match = re.search(rf"^{field}:\s+(\d+) kB", source, re.M)
                return int(match[1]) / 1024 if match else 0.0

            found.append(
                {
                    "rss": kb("VmRSS", text),
                    "pss": kb("Pss"),
                    "private": kb("Private_Clean") + kb("Private_Dirty"),
                }
            )
        return found


def write_script(path: Path, visits: list[tuple], headers: dict) -> Path:
    def lua(value: str | list) -> str:
        if isinstance(value, list):
            return "{" + ", ".join(map(lua, value)) + "}"
        return json.dumps(value)  # a JSON string is a valid Lua string for this text

    rows = ",\n".join("  {" + ", ".join(lua(part) for part in visit) + "}" for visit in visits)
    sent = ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items())
    path.write_text(f"visits = {{\n{rows}\n}}\nheaders = {{ {sent} }}\n" + LUA.read_text())
    return path


def wrk(base: str, script: Path, *, seconds: int, connections: int) -> dict:
    # One connection per thread: bench/visits.lua matches each response to its request.
    command = [
        "wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--latency",
        "--timeout", "10s", "-s", str(script), base,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(percentile):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)", output, re.M)
        return round(float(match[1]) * units[match[2]], 3) if match else None

    checks = re.search(r"checked (\d+) not_200 (\d+) wrong_content (\d+) cache_hits (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "checked": int(checks[1]),
        "not_200": int(checks[2]),
        "wrong_content": int(checks[3]),
        "cache_hits": int(checks[4]),
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def full_marker(body_html: str, teaser_html: str) -> str:
    """A piece of text from the end of a lesson's body that its teaser does not hold."""
    last = body_html.rsplit("<p>", 1)[1].split("</p>", 1)[0]
    words = re.sub(r"<[^>]+>|&\w+;|&#\w+;", " ", last).split()
    marker = " ".join(words[len(words) // 2 : len(words) // 2 + 6])
    assert marker and marker not in teaser_html, marker
    return marker


def build(workdir: Path, env: dict, sqlite: bool, say) -> dict:
    """The database, and what the visits need to know about it."""
    # Building in bulk may take longer than a request's statement timeout on a busy machine.
    os.environ.update(env, DATABASE_STATEMENT_TIMEOUT="0")
    import django

    django.setup()
    from allauth.account.models import EmailAddress

    from access.models import Entitlement
    from accounts.models import User
    from bench import data
    from lessons.models import Lesson

    if not sqlite:
        fresh_database(env["DATABASE_URL"])
    say("Building the benchmark database…")
    started = time.perf_counter()
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "createcachetable")
    manage(env, "import_series", "content/became-ai-engineer")
    data.build(stdout=say)
    manage(env, "collectstatic", "--no-input", "-v0")

    data.long_series("imported", COLD_LESSONS)
    say(f"  a series of {COLD_LESSONS} lessons ({time.perf_counter() - started:.1f} s)")
    if not sqlite:
        analyze(env["DATABASE_URL"])
        say(f"  statistics gathered ({time.perf_counter() - started:.1f} s)")

    readers = list(
        User.objects.filter(email__endswith="@bench.test")
        .order_by("-pk")
        .values_list("pk", "email")[: ENTITLED_READERS + NO_ACCESS_READERS]
    )
    # Their access comes from the PINs they redeem below, nothing else.
    Entitlement.objects.filter(user_id__in=[pk for pk, _ in readers]).delete()
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=pk, email=email, verified=True, primary=True) for pk, email in readers
    )
    demo = Lesson.objects.select_related("series").filter(series__slug="became-ai-engineer")
    cold = list(
        Lesson.objects.select_related("series").filter(series__slug="imported").order_by("number")
    )
    return {
        "readers": [email for _, email in readers],
        "demo": list(demo.order_by("number")),
        "cold": cold,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def log_in(url: str, email: str, pins: list[str]) -> str:
    """A reader's session through the log-in form, with `pins` redeemed through the redeem
    form: their Cookie header."""
    browser = servers.Browser()
    login = {"login": email, "password": PASSWORD}
    status, page = browser.post_form(f"{url}/accounts/login/", login)
    assert status == 302, (email, status, page[-500:])
    for pin in pins:
        status, page = browser.post_form(f"{url}/access/redeem/", {"pin": pin})
        assert status == 302, (email, pin, status, page[-800:])
    return "; ".join(
        f"{c.name}={c.value}" for c in browser.jar if c.name in ("sessionid", "csrftoken")
    )


def plan_visits(site_url: str, db: dict, workdir: Path, say) -> dict:
    """Log the readers in, redeem their PINs, and write one wrk script per page kind."""
    from access import services

    demo, cold = db["demo"], db["cold"]
    free, premium = demo[0], demo[1]
    entitled_emails = db["readers"][:ENTITLED_READERS]
    no_access_emails = db["readers"][ENTITLED_READERS:]
    demo_pins = services.issue_pins(series=premium.series, count=ENTITLED_READERS)
    cold_pins = services.issue_pins(series=cold[0].series, count=ENTITLED_READERS)
    say(f"Logging {len(db['readers'])} readers in and redeeming {2 * ENTITLED_READERS} PINs…")
    with ThreadPoolExecutor(4) as pool:
        entitled = list(
            pool.map(
                lambda args: log_in(site_url, args[0], [args[1].pin, args[2].pin]),
                zip(entitled_emails, demo_pins, cold_pins, strict=True),
            )
        )
        no_access = list(pool.map(lambda email: log_in(site_url, email, []), no_access_emails))
    # Readers part-way through the demo series, each at a place of their own or shared with
    # some others (the series page shows each reader theirs).
    from accounts.models import User
    from bench import data

    by_email = User.objects.in_bulk(db["readers"], field_name="email")
    readers = [by_email[email] for email in db["readers"]]
    places = data.place_readers(
        readers, demo, holders={by_email[email].pk for email in entitled_emails}
    )
    say(f"  {len(readers)} readers part-way through the demo series, at {places} places")

    def title(lesson):
        return html.escape(lesson.title)

    series_url = premium.series.get_absolute_url()
    premium_text = full_marker(premium.body_html, premium.teaser_html)
    in_series = [title(demo[-1])]
    cold_text = {lesson.pk: full_marker(lesson.body_html, lesson.teaser_html) for lesson in cold}
    visits = {
        "teaser": [(premium.get_absolute_url(), "", [title(premium)], premium_text)],
        "free": [
            (free.get_absolute_url(), "", [full_marker(free.body_html, free.teaser_html)], "")
        ],
        "full": [(premium.get_absolute_url(), c, [premium_text], "") for c in entitled],
        "noaccess": [
            (premium.get_absolute_url(), c, [title(premium)], premium_text) for c in no_access
        ],
        "series": [(series_url, "", in_series, "")],
        "home": [("/", "", [html.escape(premium.series.title)], "")],
        "series_in": [(series_url, c, in_series, "") for c in entitled + no_access],
        "search_in": [
            (f"/search/?q={quote_plus(lesson.title)}", c, [title(lesson)], "")
            for lesson in demo
            for c in (entitled + no_access)[lesson.number :: len(demo)]
        ],
        "cold_anon": [
            (lesson.get_absolute_url(), "", [f">{title(lesson)}<"], cold_text[lesson.pk])
            for lesson in cold
        ],
        # Visit k: lesson k mod 500 by reader k mod 23, so every reader reads every lesson.
        "cold_full": [
            (
                lesson.get_absolute_url(),
                entitled[k % len(entitled)],
                [f">{title(lesson)}<", cold_text[lesson.pk]],
                "",
            )
            for k in range(len(cold) * len(entitled))
            for lesson in [cold[k % len(cold)]]
        ],
    }
    headers = {"Host": servers.PUBLIC_HOST}
    scripts = {
        name: write_script(workdir / f"{name}.lua", rows, headers) for name, rows in visits.items()
    }
    scripts["ceiling"] = write_script(
        workdir / "ceiling.lua", [("/", "", ["Lorem ipsum dolor sit amet"], "")], headers
    )
    check_once(site_url, visits)
    return {"scripts": scripts, "rows": visits, "visits": {k: len(v) for k, v in visits.items()}}


def check_once(site_url: str, visits: dict) -> None:
    """Before any load: the first visit of every kind answers as the load will check it."""
    import urllib.request

    for name, rows in visits.items():
        path, cookie, present, absent = rows[0]
        request = urllib.request.Request(  # noqa: S310 (the site started here)
            site_url + path, headers={"Host": servers.PUBLIC_HOST, "Cookie": cookie}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read().decode()
            assert response.status == 200, (name, response.status)
        assert all(text in body for text in present), (name, path, present)
        assert not absent or absent not in body, (name, path, absent)


def measure(site, ceiling, scripts, pages, args, say) -> dict:
    """Rounds of ceiling, page, ceiling, page, …, ceiling; each page's ratio against the mean
    of the ceilings before and after it."""
    runs = {name: [] for name in ["ceiling", *pages]}
    load = {"seconds": args.seconds, "connections": args.connections}
    for name in pages:  # warm every worker, as a site in service is
        wrk(site.url, scripts[name], seconds=1, connections=args.connections)
    wrk(ceiling.url, scripts["ceiling"], seconds=1, connections=args.connections)
    for round_number in range(1, args.rounds + 1):
        say(f"Round {round_number} of {args.rounds}…")
        before = wrk(ceiling.url, scripts["ceiling"], **load)
        runs["ceiling"].append(before)
        for name in pages:
            result = wrk(site.url, scripts[name], **load)
            after = wrk(ceiling.url, scripts["ceiling"], **load)
            runs["ceiling"].append(after)
            result["ratio"] = result["rps"] / statistics.mean([before["rps"], after["rps"]])
            runs[name].append(result)
            before = after
    return runs


def errors_of(result: dict) -> int:
    return result["not_200"] + result["wrong_content"] + result["socket_errors"]


def summarise(runs: dict) -> dict:
    summary = {}
    for name, results in runs.items():
        ratios = [r["ratio"] for r in results if "ratio" in r] or [1.0]
        summary[name] = {
            "rps_median": round(statistics.median(r["rps"] for r in results), 1),
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results),
            "checked": sum(r["checked"] for r in results),
            "errors": sum(errors_of(r) for r in results),
        }
    return summary


def print_table(summary: dict) -> None:
    print(
        f"\n{'page':<10} {'req/s':>9} {'ratio':>7} {'range':>13} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'checked':>8} {'errors':>7}"
    )
    for name, s in summary.items():
        low, high = s["ratio_range"]
        print(
            f"{name:<10} {s['rps_median']:>9,.0f} {s['ratio_median']:>6.2f}x "
            f"{low:>5.2f}–{high:<5.2f}  {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
            f"{s['checked']:>8} {s['errors']:>7}"
        )


def save(kind: str, record: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-{kind}-{platform.node() or 'host'}.json"
    record = {
        "when": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
        },
        **record,
    }
    path.write_text(json.dumps(record, indent=2, default=str))
    print(f"raw figures: {path.relative_to(ROOT)}")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sqlite", action="store_true", help="SQLite, no Redis")
    parser.add_argument("--front", action="store_true", help="through nginx (bench/front.py)")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page kinds")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("make bench needs wrk, the HTTP load generator: apt-get install wrk")

    def say(line):
        print(line, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="lessons-bench-"))
    env = server_env(workdir, sqlite=args.sqlite)
    database = "sqlite" if args.sqlite else "postgresql+redis"
    db = build(workdir, env, args.sqlite, say)
    site = Server(env, "config.wsgi")
    ceiling = None
    started_rss = site.workers_rss_mb()
    try:
        plan = plan_visits(site.url, db, workdir, say)
        if args.front:
            from bench import front

            front.run(site, env, plan, workdir, args, say)
            return
        ceiling = Server(env, "bench.ceiling")
        pages = [p for p in args.pages.split(",") if p]
        runs = measure(site, ceiling, plan["scripts"], pages, args, say)
        memory = site.workers_memory_mb()
        rss = [worker["rss"] for worker in memory]
        ceiling_rss = ceiling.workers_rss_mb()
    finally:
        site.stop()
        if ceiling:
            ceiling.stop()
    summary = summarise(runs)
    print_table(summary)
    sizes = ", ".join(f"{r:.0f}" for r in rss)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{database}; {len(rss)} workers, memory (RSS) {sizes} MB (at start "
        f"{max(started_rss):.0f} MB; the ceiling's {max(ceiling_rss):.0f} MB); each worker's "
        f"share (PSS) at most {max(w['pss'] for w in memory):.0f} MB, its own alone (private) "
        f"at most {max(w['private'] for w in memory):.0f} MB; "
        f"database built in {db['build_seconds']} s; load average {load}"
    )
    errors = sum(s["errors"] for s in summary.values())
    save(
        database,
        {
            "database": database,
            "settings": vars(args),
            "visits": plan["visits"],
            "summary": summary,
            "rounds": runs,
            "worker_rss_mb": [round(r, 1) for r in rss],
            "ceiling_worker_rss_mb": [round(r, 1) for r in ceiling_rss],
            "worker_rss_at_start_mb": [round(r, 1) for r in started_rss],
            "worker_pss_mb": [round(w["pss"], 1) for w in memory],
            "worker_private_mb": [round(w["private"], 1) for w in memory],
        },
    )
    parts = ", ".join(f"{name} {summary[name]['ratio_median']:.2f}x" for name in pages)
    print(f"bench: {parts} of ceiling; rss {max(rss):.0f} MB; errors {errors}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
