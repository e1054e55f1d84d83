"""The benchmark database: the demo series plus 1,000 generated series of 10 lessons of about
2,000 words with code and a diagram, 10,000 readers, 100,000 PINs and 50,000 entitlements.

Generated lessons are rendered through the real pipeline, a handful of distinct bodies once
each, and inserted in bulk with that HTML: what a save would store, without rendering 10,000
lessons one by one (the import of 1,000 lessons is timed on its own, through `import_series`).
"""

import random
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

SERIES = 1_000
LESSONS_PER_SERIES = 10
READERS = 10_000
PINS = 100_000
ENTITLEMENTS = 50_000
WORDS = (
    "model prompt token context window retrieval embedding vector agent tool latency cost "
    "evaluation dataset pipeline service request response cache index query ranking answer "
    "system user feedback metric trace error budget deploy monitor quality schema function"
).split()


def paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def body(variant: int, *, marker: bool = True) -> str:
    """About 2,000 words in sections, with a code block and a coloured diagram."""
    rng = random.Random(variant)
    parts = [paragraph(rng, 60), paragraph(rng, 70)]
    if marker:
        parts.append("<!-- more -->")
    for section in range(1, 9):
        parts.append(f"## Section {section}: {rng.choice(WORDS)} and {rng.choice(WORDS)}")
        parts += [paragraph(rng, 80) for _ in range(3)]
        if section == 3:
            parts.append(
                "```python\nimport json\n\n\ndef answer(question: str) -> dict:\n"
                '    """Ask the model and parse its reply."""\n'
                "    reply = client.complete(prompt=question, max_tokens=300)\n"
                "    return json.loads(reply.text)\n```"
            )
        if section == 5:
            parts.append(
                "```mermaid\nflowchart LR\n    A[Question] --> B[Retrieve]\n"
                "    B --> C[Model]\n    C --> D[Answer]\n"
                "    style C fill:#0f6e5c,color:#fff\n```"
            )
    return "\n\n".join(parts) + "\n"


def long_series(slug: str, count: int) -> None:
    """A published series of `count` premium lessons ("Imported lesson n"), inserted in bulk
    with bodies rendered once each, as build() does."""
    from access.offer.models import Offer
    from lessons.models import Lesson, Series
    from lessons.rendering.pipeline import render

    rendered = []
    for variant in range(6):
        lesson = Lesson(body=body(variant), access=Lesson.Access.PREMIUM)
        lesson.render()
        rendered.append(lesson)
    now = timezone.now()
    with transaction.atomic():
        series = Series.objects.create(
            title="Imported", slug=slug, is_published=True, position=0,
            description="A long series.", description_html=render("A long series."),
        )  # fmt: skip
        Offer.objects.create(
            series=series,
            instagram_handle="bench.seller",
            cta_message="DM for a PIN.",
            paywall_message="The rest is premium.",
            cta_html=render("DM for a PIN."),
            paywall_html=render("The rest is premium."),
        )
        Lesson.objects.bulk_create(
            [
                Lesson(
                    series=series,
                    number=n,
                    slug=f"lesson-{n}",
                    title=f"Imported lesson {n}",
                    summary="A generated lesson.",
                    body=rendered[n % 6].body,
                    body_html=rendered[n % 6].body_html,
                    teaser_html=rendered[n % 6].teaser_html,
                    reading_minutes=rendered[n % 6].reading_minutes,
                    access=Lesson.Access.PREMIUM,
                    status=Lesson.Status.PUBLISHED,
                    published_at=now - timedelta(days=1),
                )
                for n in range(1, count + 1)
            ],
            batch_size=1000,
        )


def place_readers(users, lessons, *, holders) -> int:
    """Give `users` their places in a series of `lessons` (in order), as readers part-way
    through it have: the reader k-th in `users` opened its first k mod (len(lessons) + 1)
    lessons and read all of them but the last to the end (those they may read: free ones, and
    all of them for a reader among `holders`, the ids of those who hold the series). Returns
    how many places they are at."""
    from lessons.models import Progress

    places = set()
    for k, user in enumerate(users):
        reached = k % (len(lessons) + 1)  # 0: nothing opened yet
        finished_ones = []
        for lesson in lessons[:reached]:
            finished = lesson != lessons[reached - 1] and (lesson.is_free or user.pk in holders)
            Progress.objects.record(user=user, lesson=lesson, finished=finished)
            finished_ones.append(finished)
        places.add((user.pk in holders, reached, tuple(finished_ones)))
    return len(places)


def build(stdout=print) -> dict:
    """Fill an empty, migrated database; return what the benchmark needs to know."""
    from access import services
    from access.models import Entitlement
    from access.offer.models import Offer
    from accounts.models import User
    from lessons.models import Lesson, Series
    from lessons.rendering.pipeline import render

    started = time.perf_counter()
    demo = Series.objects.get(slug="became-ai-engineer")
    rendered = []
    for variant in range(6):
        for access in (Lesson.Access.FREE, Lesson.Access.PREMIUM):
            lesson = Lesson(body=body(variant), access=access)
            lesson.render()
            rendered.append(lesson)
    stdout(f"  rendered {len(rendered)} distinct bodies ({time.perf_counter() - started:.1f} s)")

    now = timezone.now()
    description = "A generated series for the benchmark."
    description_html = render(description)
    texts = {
        "cta_message": "### Continue\n\nDM for a PIN.",
        "paywall_message": "The rest is premium.",
    }
    html = {
        "cta_html": render(texts["cta_message"]),
        "paywall_html": render(texts["paywall_message"]),
    }
    with transaction.atomic():
        series = Series.objects.bulk_create(
            [
                Series(
                    title=f"Bench series {n}",
                    slug=f"bench-{n}",
                    is_published=True,
                    position=n + 1,
                    description=description,
                    description_html=description_html,
                )
                for n in range(SERIES)
            ],
            batch_size=500,
        )
        Offer.objects.bulk_create(
            [Offer(series=s, instagram_handle="bench.seller", **texts, **html) for s in series],
            batch_size=500,
        )
        lessons = []
        for s in series:
            for number in range(1, LESSONS_PER_SERIES + 1):
                premium = number > 1
                source = rendered[((s.pk + number) % 6) * 2 + premium]
                lessons.append(
                    Lesson(
                        series=s,
                        number=number,
                        slug=f"lesson-{number}",
                        title=f"Lesson {number} of {s.title}",
                        summary="A generated lesson.",
                        body=source.body,
                        body_html=source.body_html,
                        teaser_html=source.teaser_html,
                        reading_minutes=source.reading_minutes,
                        access=source.access,
                        status=Lesson.Status.PUBLISHED,
                        published_at=now - timedelta(days=1),
                    )
                )
        Lesson.objects.bulk_create(lessons, batch_size=1000)
    stdout(
        f"  {SERIES:,} series and {len(lessons):,} lessons ({time.perf_counter() - started:.1f} s)"
    )

    password = make_password("bench-reader-password")
    User.objects.bulk_create(
        [User(email=f"reader{n}@bench.test", password=password) for n in range(READERS)],
        batch_size=2000,
    )
    readers = list(User.objects.filter(email__endswith="@bench.test").values_list("pk", flat=True))
    stdout(f"  {len(readers):,} readers ({time.perf_counter() - started:.1f} s)")

    every_series = [demo, *series]
    rng = random.Random(7)
    for _ in range(0, PINS, 10_000):
        services.issue_pins(series=rng.choice(every_series), count=10_000, batch="bench")
    stdout(f"  {PINS:,} PINs ({time.perf_counter() - started:.1f} s)")

    # 50,000 entitlements: one reader holds 200 (the demo series among them), the others are
    # spread over the readers and series; the reader without access holds none for the demo.
    entitled, no_access = readers[0], readers[1]
    rows = [Entitlement(user_id=entitled, series=s) for s in [demo, *series[:199]]]
    candidates = readers[2:]
    while len(rows) < ENTITLEMENTS:
        rows.append(Entitlement(user_id=rng.choice(candidates), series=rng.choice(every_series)))
    Entitlement.objects.bulk_create(rows, batch_size=2000)
    stdout(f"  {len(rows):,} entitlements ({time.perf_counter() - started:.1f} s)")
    return {
        "entitled_reader": entitled,
        "no_access_reader": no_access,
        "seconds": round(time.perf_counter() - started, 1),
    }
