"""The site's number of gunicorn workers, compared: each page kind against a ceiling with the
same number of workers, for each number in turn, interleaved, so that the machine's moment
weighs on every number alike. (`make bench` runs one number, config/gunicorn.py's; started with
WEB_CONCURRENCY=n, it runs n for the site and the ceiling alike.)

    python -m bench.workers [--counts 3,5] [--pages full,noaccess,series_in,cold_full]
                            [--rounds 3] [--seconds 5] [--connections 8]

Builds the benchmark database and logs the readers in as `make bench` does (bench/run.py),
then starts a site and a ceiling for each number of workers. In each round, for each page
kind and each number: ceiling, page, ceiling, the page's ratio against the mean of the two.
Every response is checked as `make bench` checks it. Prints each ratio as it comes, then the
median and range of each page kind at each number, and writes the raw figures to
bench/results/<time>-workers-<host>.json.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench import run


def positive(text: str) -> int:
    if not (text.isascii() and text.isdecimal() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def listed(kind):
    """A comma-separated list of `kind`, each given once, in order, at least one."""

    def parse(text: str) -> list:
        items = list(dict.fromkeys(kind(item) for item in text.split(",") if item))
        if not items:
            raise argparse.ArgumentTypeError("name at least one")
        return items

    return parse


def page_kind(name: str) -> str:
    if name not in run.PAGES:
        raise argparse.ArgumentTypeError(f"{name!r}: the page kinds are {', '.join(run.PAGES)}")
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--counts", type=listed(positive), default=[3, 5], help="comma-separated numbers of workers"
    )
    parser.add_argument(
        "--pages", type=listed(page_kind), default=["full", "noaccess", "series_in", "cold_full"]
    )
    parser.add_argument("--rounds", type=positive, default=3)
    parser.add_argument("--seconds", type=positive, default=5)
    parser.add_argument("--connections", type=positive, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.workers needs wrk, the HTTP load generator: apt-get install wrk")
    counts, pages = args.counts, args.pages

    def say(line):
        print(line, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="lessons-bench-workers-"))
    env = run.server_env(workdir, sqlite=False)
    db = run.build(workdir, env, False, say)
    first = run.Server(env, "config.wsgi")
    try:
        plan = run.plan_visits(first.url, db, workdir, say)
    finally:
        first.stop()
    scripts, started, running = plan["scripts"], {}, []
    load = {"seconds": args.seconds, "connections": args.connections}
    ratios = {(page, count): [] for page in pages for count in counts}
    rounds = []
    try:
        for count in counts:
            with_count = {**env, "WEB_CONCURRENCY": str(count)}
            for app in ("config.wsgi", "bench.ceiling"):
                running.append(run.Server(with_count, app))  # each stopped below, whatever fails
            started[count] = tuple(running[-2:])
        for site, ceiling in started.values():  # warm every worker, as a site in service is
            for page in pages:
                run.wrk(site.url, scripts[page], seconds=1, connections=args.connections)
            run.wrk(ceiling.url, scripts["ceiling"], seconds=1, connections=args.connections)
        for number in range(1, args.rounds + 1):
            say(f"Round {number} of {args.rounds}…")
            for page in pages:
                for count, (site, ceiling) in started.items():
                    before = run.wrk(ceiling.url, scripts["ceiling"], **load)
                    result = run.wrk(site.url, scripts[page], **load)
                    after = run.wrk(ceiling.url, scripts["ceiling"], **load)
                    ratio = result["rps"] / statistics.mean([before["rps"], after["rps"]])
                    errors = sum(map(run.errors_of, (before, result, after)))
                    ratios[(page, count)].append(ratio)
                    rounds.append(
                        {
                            "round": number,
                            "page": page,
                            "workers": count,
                            "ratio": round(ratio, 3),
                            "errors": errors,
                            "page_result": result,
                            "ceiling_before": before,
                            "ceiling_after": after,
                        }
                    )
                    say(
                        f"  {page:<10} {count} workers: {result['rps']:>7,.0f} req/s, ceiling "
                        f"{before['rps']:,.0f} and {after['rps']:,.0f}, {ratio:.3f}x, "
                        f"errors {errors}"
                    )
    finally:
        for server in running:
            server.stop()
    print(f"\n{'page':<10} " + " ".join(f"{f'{count} workers':>19}" for count in counts))
    summary = {}
    for page in pages:
        cells = []
        for count in counts:
            found = ratios[(page, count)]
            median = statistics.median(found)
            summary[f"{page}@{count}"] = {
                "ratio_median": round(median, 3),
                "ratio_range": [round(min(found), 3), round(max(found), 3)],
            }
            cells.append(f"{median:.2f}x ({min(found):.2f}–{max(found):.2f})")
        print(f"{page:<10} " + " ".join(f"{cell:>19}" for cell in cells))
    errors = sum(entry["errors"] for entry in rounds)
    print(f"errors {errors} (the pages' and their ceilings')")
    run.save("workers", {"settings": vars(args), "summary": summary, "rounds": rounds})
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
