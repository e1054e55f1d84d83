"""`make bench FRONT=1`: the same visits through nginx (docs/samples/nginx.conf, as the front's
tests start it: TLS, HTTP/1.1 from wrk, the micro-cache), two ratios per page:

- anonymous pages, kept by nginx's micro-cache, against nginx serving a static file of the same
  page (the front's ceiling: nothing is faster than a file from nginx);
- logged-in pages, which nginx passes through, against the same visits sent to the app
  directly (what the front costs them).

Each ratio is against the mean of its two neighbours, as in `make bench`; the share of
responses nginx answered from its cache is reported too.

One change to the sample: wrk names the address it connects to (127.0.0.1) in its TLS
handshake, which the sample's catch-all server refuses (`ssl_reject_handshake`), so the bench
drops the catch-all's TLS listener and the site's server answers that handshake.
"""

import shutil
import statistics
import urllib.request
from pathlib import Path

from bench.run import errors_of, print_table, save, summarise, write_script, wrk
from tests.e2e import servers

ANONYMOUS = ["teaser", "free", "series", "home", "cold_anon"]
LOGGED_IN = ["full", "noaccess", "series_in", "search_in", "cold_full"]


def _static_copies(site, static: Path, plan: dict, workdir: Path) -> dict[str, Path]:
    """For each anonymous page, its first visit's HTML as a static file, and a script that
    fetches that file with the page's own checks."""
    scripts = {}
    for name in ANONYMOUS:
        rows = plan["rows"][name]
        path, _, present, absent = rows[len(rows) // 2]
        request = urllib.request.Request(  # noqa: S310 (the site started here)
            site.url + path, headers={"Host": servers.PUBLIC_HOST}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            (static / f"bench-{name}.html").write_bytes(response.read())
        scripts[name] = write_script(
            workdir / f"static-{name}.lua",
            [(f"/static/bench-{name}.html", "", present, absent)],
            {"Host": servers.PUBLIC_HOST},
        )
    return scripts


CATCH_ALL_TLS = "    listen 443 ssl http2 default_server;\n    ssl_reject_handshake on;\n"


def run(site, env, plan, workdir, args, say):
    from tests.e2e import front as tested

    sample = tested.SAMPLE.read_text()
    assert CATCH_ALL_TLS in sample, "the sample's catch-all changed: update bench/front.py"
    bench_sample = workdir / "nginx.conf"
    bench_sample.write_text(sample.replace(CATCH_ALL_TLS, ""))
    tested.SAMPLE = bench_sample

    static = workdir / "front-static"
    shutil.copytree(env["STATIC_ROOT"], static)
    statics = _static_copies(site, static, plan, workdir)
    media = workdir / "media"
    media.mkdir(exist_ok=True)
    upstream = site.url.removeprefix("http://")
    scripts = plan["scripts"]
    load = {"seconds": args.seconds, "connections": args.connections}
    runs = {name: [] for name in [*ANONYMOUS, *LOGGED_IN]}
    with tested.Front(
        upstreams=[upstream, upstream], static_root=static, media_root=media
    ) as front:
        base = f"https://127.0.0.1:{front.https}"
        for name in [*ANONYMOUS, *LOGGED_IN]:  # warm the workers and the cache
            wrk(base, scripts[name], seconds=1, connections=args.connections)
        for round_number in range(1, args.rounds + 1):
            say(f"Round {round_number} of {args.rounds} through nginx…")
            for name in ANONYMOUS:
                before = wrk(base, statics[name], **load)
                result = wrk(base, scripts[name], **load)
                after = wrk(base, statics[name], **load)
                result["against_rps"] = statistics.mean([before["rps"], after["rps"]])
                result["ratio"] = result["rps"] / result["against_rps"]
                result["errors_against"] = errors_of(before) + errors_of(after)
                runs[name].append(result)
            for name in LOGGED_IN:
                before = wrk(site.url, scripts[name], **load)
                result = wrk(base, scripts[name], **load)
                after = wrk(site.url, scripts[name], **load)
                result["against_rps"] = statistics.mean([before["rps"], after["rps"]])
                result["ratio"] = result["rps"] / result["against_rps"]
                result["errors_against"] = errors_of(before) + errors_of(after)
                runs[name].append(result)
    summary = summarise(runs)
    for name, results in runs.items():
        summary[name]["cache_hit_share"] = round(
            sum(r["cache_hits"] for r in results) / max(1, sum(r["checked"] for r in results)), 3
        )
        summary[name]["against_rps_median"] = round(
            statistics.median(r["against_rps"] for r in results), 1
        )
        summary[name]["errors"] += sum(r["errors_against"] for r in results)
    print_table(summary)
    print("\nmicro-cache hits: " + ", ".join(
        f"{name} {summary[name]['cache_hit_share']:.0%}" for name in ANONYMOUS
    ))  # fmt: skip
    save("front", {"settings": vars(args), "summary": summary, "rounds": runs})
    errors = sum(s["errors"] for s in summary.values())

    def ratios(names):
        return ", ".join(f"{name} {summary[name]['ratio_median']:.2f}x" for name in names)

    print(
        f"front: {ratios(ANONYMOUS)} of a static file; "
        f"{ratios(LOGGED_IN)} of the app directly; errors {errors}"
    )
