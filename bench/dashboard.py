"""`make bench-dashboard`: how long the sales dashboard takes with a large redemption log.

Builds a throwaway database (SQLite in a temporary folder, or the database DATABASE_URL names,
which is emptied first): 10,000 readers, 5,000 PINs (a third of them sold to buyers, at a
price), 10,000 entitlements, 20,000 paywall views, a year of anonymous views and taps per
lesson and day, and 100,000 redemption attempts spread over a year. Then requests the
dashboard through the whole Django stack (middleware, the view, the template; DEBUG off) for
several periods, with and without a series, and prints the median and slowest time and the
queries per request.

    python -m bench.dashboard [--rows 100000] [--repeat 15]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def configure(workdir: Path) -> None:
    os.environ.update(
        {
            "ENV_FILE": "/nonexistent",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECURE_HTTPS": "0",
            "SECRET_KEY": "bench-only-" + "x" * 50,
            "ALLOWED_HOSTS": "testserver",
            "STATIC_ROOT": str(workdir / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'dashboard.sqlite3'}")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(rows: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from access import services
    from access.models import AccessPin, Entitlement, OfferCount, PaywallView, RedemptionAttempt
    from access.offer.models import Offer
    from accounts.models import User
    from lessons.models import Lesson, Series
    from lessons.services import save_lesson

    call_command("flush", "--no-input", verbosity=0)
    rng = random.Random(12)
    now = timezone.now()

    def some_time():
        return now - timedelta(seconds=rng.randrange(365 * 24 * 3600))

    started = time.perf_counter()
    series = [
        Series.objects.create(title=f"Series {n}", slug=f"series-{n}", is_published=True)
        for n in range(3)
    ]
    Offer.objects.bulk_create([Offer(series=s, price_amount=149000) for s in series])
    lessons = [
        Lesson(
            series=s,
            number=n,
            slug=f"l{n}",
            title=f"Lesson {n}",
            body="Text.",
            access="free" if n == 1 else "premium",
            status="published",
        )
        for s in series
        for n in range(1, 8)
    ]
    for lesson in lessons:
        save_lesson(lesson)
    premium = [lesson for lesson in lessons if lesson.access == "premium"]
    password = make_password("bench")
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(email=f"r{n}@bench.test", password=password, date_joined=some_time())
                for n in range(10_000)
            ],
            batch_size=2000,
        )
    readers = list(User.objects.values_list("pk", flat=True))
    pins = []
    for s in series:
        pins += [item.record for item in services.issue_pins(series=s, count=1700, batch="b")]
    for n, pin in enumerate(pins):
        pin.created_at = some_time()
        if n % 3 == 0:
            pin.kind, pin.batch, pin.buyer = AccessPin.Kind.SALE, "", f"@buyer{n}"
    AccessPin.objects.bulk_update(pins, ["created_at", "kind", "batch", "buyer"], batch_size=2000)
    today = timezone.localdate()
    OfferCount.objects.bulk_create(
        [
            OfferCount(
                series=lesson.series,
                lesson=lesson,
                day=today - timedelta(days=day),
                event=event,
                count=rng.randrange(1, 50),
            )
            for lesson in lessons
            for day in range(366)
            for event in ("paywall", "dm", "whatsapp")
        ],
        batch_size=5000,
    )
    with transaction.atomic():
        Entitlement.objects.bulk_create(
            [
                Entitlement(
                    user_id=rng.choice(readers),
                    series=rng.choice(series),
                    source=Entitlement.Source.PIN,
                    granted_at=some_time(),
                )
                for _ in range(10_000)
            ],
            batch_size=2000,
        )
        pairs = {(rng.choice(readers), rng.choice(premium).pk) for _ in range(20_000)}
        PaywallView.objects.bulk_create(
            [PaywallView(user_id=u, lesson_id=n, created_at=some_time()) for u, n in pairs],
            batch_size=2000,
        )
        outcomes = (
            ["unknown"] * 55 + ["unlocked"] * 25 + ["throttled"] * 10
            + ["expired", "revoked", "used up"] * 3 + ["already unlocked"]
        )  # fmt: skip
        RedemptionAttempt.objects.bulk_create(
            [
                RedemptionAttempt(
                    user_id=rng.choice(readers),
                    pin=rng.choice(pins) if rng.random() < 0.5 else None,
                    outcome=rng.choice(outcomes),
                    ip=f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
                    lesson=rng.choice(premium) if rng.random() < 0.3 else None,
                    created_at=some_time(),
                )
                for _ in range(rows)
            ],
            batch_size=5000,
        )
    print(
        f"  built: 10,000 readers, {len(pins):,} PINs, 10,000 entitlements, {len(pairs):,} "
        f"paywall views, {rows:,} redemption attempts ({time.perf_counter() - started:.1f} s)"
    )


def measure(repeat: int) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from lessons.models import Series

    seller = User.objects.create_superuser("seller@bench.test", "bench")
    client = Client()
    client.force_login(seller)
    series = Series.objects.order_by("pk").first()
    url = "/admin/access/accesspin/dashboard/"
    results = []
    for days in ("week", "7", "30", "90", "365"):
        for label, extra in (("all series", {}), ("one series", {"series": series.pk})):
            query = {"period": days, **extra}
            client.get(url, query)  # warm up
            timings = []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url, query)
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            results.append(
                (f"{days:>4}, {label}", statistics.median(timings), max(timings), len(queries))
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        configure(Path(folder))
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--no-input", verbosity=0)
        print(f"Dashboard benchmark on {connection.vendor}")
        build(args.rows)
        results = measure(args.repeat)
        print(f"  {'request':<24} {'median':>9} {'slowest':>9} {'queries':>8}")
        for label, median, slowest, queries in results:
            print(f"  {label:<24} {median:>7.1f} ms {slowest:>6.1f} ms {queries:>8}")
        worst = max(median for _, median, _, _ in results)
        verdict = "under" if worst < 300 else "OVER"
        print(f"Slowest median {worst:.0f} ms with {args.rows:,} log rows: {verdict} 300 ms.")


if __name__ == "__main__":
    main()
