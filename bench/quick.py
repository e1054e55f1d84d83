"""`make bench-quick` (python -m bench.quick): throughput of the hot paths, on a throwaway DB.

Timings live here, never in the test suite. Run on an otherwise idle machine; compare runs on
the same machine only.
"""

import io
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def rate(label, count, seconds, unit):
    print(f"{label:<48} {count / seconds:>10,.0f} {unit}/s   ({count:,} in {seconds:.2f} s)")


def timed(fn, count):
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return time.perf_counter() - start


def main():
    warnings.filterwarnings("ignore", message="No directory at")
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    from access import services
    from accounts.models import User
    from lessons.models import Lesson
    from lessons.rendering.pipeline import render

    call_command(
        "import_series", str(ROOT / "content" / "became-ai-engineer"), stdout=io.StringIO()
    )
    lesson_1 = Lesson.objects.get(number=1)
    lesson_2 = Lesson.objects.select_related("series").get(number=2)
    series = lesson_2.series

    rate(
        "Markdown render + sanitise (lesson 1)",
        200,
        timed(lambda: render(lesson_1.body), 200),
        "renders",
    )

    anonymous = Client()
    url_1, url_2 = lesson_1.get_absolute_url(), lesson_2.get_absolute_url()
    for label, client, url in [
        ("GET free lesson, anonymous", anonymous, url_1),
        ("GET premium lesson (teaser), anonymous", anonymous, url_2),
    ]:
        rate(label, 300, timed(lambda c=client, u=url: c.get(u), 300), "requests")

    reader = User.objects.create_user("bench@example.com", "x")
    for _ in range(20):
        services.grant(user=reader, series=series)
    entitled = Client()
    entitled.force_login(reader)
    rate(
        "GET premium lesson (full), reader with 20 grants",
        300,
        timed(lambda: entitled.get(url_2), 300),
        "requests",
    )
    rate(
        "GET series page, reader",
        300,
        timed(lambda: entitled.get(series.get_absolute_url()), 300),
        "requests",
    )

    # What readers find, share and follow the series with (issue 11), beside the lesson page.
    from lessons import share

    token = services.renew_feed_token(user=reader).token
    image = f"{url_2}share-{share.lesson_card(lesson_2).version}.png"
    anonymous.get("/feed/")  # the feeds and the sitemap are cached after the first request
    for label, client, url in [
        ("GET /feed/ (cached), anonymous", anonymous, "/feed/"),
        (
            "GET series Atom feed (cached), anonymous",
            anonymous,
            f"{series.get_absolute_url()}feed/atom/",
        ),
        ("GET /sitemap.xml (cached)", anonymous, "/sitemap.xml"),
        ("GET /robots.txt", anonymous, "/robots.txt"),
        ("GET share image (file), anonymous", anonymous, image),
        ("GET /search/?q=context window, anonymous", anonymous, "/search/?q=context+window"),
        ("GET /search/?q=exercise, reader with access", entitled, "/search/?q=exercise"),
        ("GET private feed (cached)", anonymous, f"/access/feed/{token}/"),
    ]:
        client.get(url)
        rate(label, 300, timed(lambda c=client, u=url: c.get(u), 300), "requests")
    progress = f"{url_2}progress/"
    rate(
        "POST progress beacon (one write), reader",
        300,
        timed(lambda: entitled.post(progress, {"state": "opened", "via": "beacon"}), 300),
        "requests",
    )

    start = time.perf_counter()
    issued = services.issue_pins(series=series, count=10_000, batch="bench")
    rate("issue_pins, one batch of 10,000", 10_000, time.perf_counter() - start, "PINs")

    users = [User.objects.create_user(f"r{i}@example.com", "x") for i in range(300)]
    start = time.perf_counter()
    for user, item in zip(users, issued, strict=False):
        services.redeem(user=user, typed_pin=item.pin)
    rate(
        "redeem a PIN (service, sequential)", len(users), time.perf_counter() - start, "redemptions"
    )

    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
