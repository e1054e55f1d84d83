"""Bounded rendering: any body up to LESSON_BODY_MAX_BYTES renders within the time limit, or is
refused with a message naming the problem, in the admin and in `import_series`; never a 500."""

import os
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from lessons import services
from lessons.models import Lesson, Series
from lessons.rendering import pipeline, timelimit
from lessons.rendering.limits import RenderError, check_source
from lessons.rendering.pipeline import render_lesson_text
from tests.factories import make_series, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def render_time_limit(settings):
    """As in production: rendering runs in a child process given a few seconds (the test
    configuration renders in-process to keep the suite fast)."""
    settings.LESSON_RENDER_SECONDS = 5


def nested_list(levels: int, indent: str = "    ") -> str:
    return "".join(f"{indent * level}- item {level}\n" for level in range(levels))


# (source, what the author is told; None: it renders)
BODIES = {
    "25,000 [": ("[" * 25_000, "brackets [ or ( open at once"),
    "25,000 [ with words between": ("[a " * 25_000, "brackets [ or ( open at once"),
    "10,000 unclosed links": ("[a](" * 10_000, "brackets [ or ( open at once"),
    "12,000 unclosed images": ("![" * 12_000, "brackets [ or ( open at once"),
    "2,000 nested brackets": ("[" * 2_000 + "a" + "]" * 2_000, "brackets [ or ( open at once"),
    "500 nested list levels": (nested_list(500), "nested 500 levels deep"),
    "500 nested list levels, two spaces": (nested_list(500, "  "), "levels deep in lists"),
    "1,000 list markers on one line": ("- " * 1_000 + "x\n", "nested 1000 levels deep"),
    "5,000 nested block quotes": (">" * 5_000 + " x\n", "nested 5000 levels deep"),
    "block quotes deepening line by line": (
        "".join(">" * i + " x\n" for i in range(1, 400)),
        "levels deep in lists or block quotes",
    ),
    "20,000 * around a word": ("*" * 20_000 + "x" + "*" * 20_000, "20000 * or _ in a row"),
    "20,000 _ around a word": ("_" * 20_000 + "x" + "_" * 20_000, "20000 * or _ in a row"),
    "20,000-row table": (
        "| a | b |\n|---|---|\n" + "| x | y |\n" * 20_000,
        "has more than 2000 rows",
    ),
    "5,000 footnotes": (
        "".join(f"Text[^{i}]\n" for i in range(5_000))
        + "\n"
        + "".join(f"[^{i}]: Note {i}\n" for i in range(5_000)),
        "5000 footnotes; at most 1000",
    ),
    "5,000 headings": ("# Heading\n" * 5_000, "5000 headings; at most 1000"),
    "5,000 unclosed code fences": ("```python\n" * 5_000, "5000 code fences"),
    "5,000 nested emphases": ("*a " * 5_000 + "b" + " c*" * 5_000, "nested too deeply"),
    # Within the limits: these render.
    "50 nested list levels": (nested_list(50), None),
    "50 nested block quotes": (">" * 50 + " deep\n", None),
    "100 * around a word": ("*" * 100 + "x" + "*" * 100, None),
    "1,000-row table": ("| a | b |\n|---|---|\n" + "| x | y |\n" * 1_000, None),
    "500 footnotes": (
        "".join(f"Text[^{i}]\n" for i in range(500))
        + "\n"
        + "".join(f"[^{i}]: Note {i}\n" for i in range(500)),
        None,
    ),
    "5,000 reference links": (
        "".join(f"[link {i}][r{i}]\n" for i in range(5_000))
        + "\n"
        + "".join(f"[r{i}]: https://example.com/{i}\n" for i in range(5_000)),
        None,
    ),
    "5,000 inline links": ("[a](https://example.com/) " * 5_000, None),
    "2,000 nested HTML elements": ("<div>" * 2_000 + "x", None),
    "20,000 < signs": ("<" * 20_000, None),
    "brackets in code are not counted": ("```\n" + "[" * 25_000 + "\n```\n", None),
}


@pytest.mark.parametrize(("source", "problem"), BODIES.values(), ids=BODIES.keys())
def test_every_body_renders_in_bounded_time_or_is_refused_by_name(source, problem):
    assert len(source.encode()) <= 500 * 1024
    lesson = Lesson(series=make_series(), number=1, title="T", slug="t", body=source)
    if problem is None:
        lesson.full_clean()
        services.save_lesson(lesson)
        assert lesson.body_html
        return
    with pytest.raises(ValidationError) as refused:
        lesson.full_clean()
    messages = refused.value.message_dict["body"]
    assert any(problem in message for message in messages), messages
    assert "takes more than" not in " ".join(messages)  # named, not merely timed out


def test_text_that_takes_too_long_is_refused_and_the_renderer_is_stopped(settings):
    settings.LESSON_RENDER_SECONDS = 0.5
    slow = "x\n\n" * 100_000  # many tiny paragraphs: seconds of work, within every other limit
    assert check_source(slow) == []
    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        Lesson(series=make_series(), number=1, title="T", slug="t", body=slow).full_clean()
    assert time.monotonic() - started < 5
    assert "takes more than 0.5 seconds to render" in refused.value.messages[0]


LIVE_PREVIEW = "/admin/lessons/lesson/live-preview/"


@pytest.mark.parametrize(("source", "problem"), BODIES.values(), ids=BODIES.keys())
def test_the_live_preview_draws_the_same_bodies_or_says_the_same_problem(
    admin_client, source, problem
):
    response = admin_client.post(LIVE_PREVIEW, {"body": source, "access": "premium"})
    if problem is None:
        assert response.status_code == 200
        assert 'class="prose lesson__body"' in response.text
    else:
        assert response.status_code == 400
        assert problem in response.text


def test_the_live_preview_stops_text_that_takes_too_long(admin_client, settings):
    settings.LESSON_RENDER_SECONDS = 0.5
    slow = "x\n\n" * 100_000
    started = time.monotonic()
    response = admin_client.post(LIVE_PREVIEW, {"body": slow, "access": "free"})
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert "takes more than 0.5 seconds to render" in response.text


def test_a_series_description_is_bounded_too():
    series = Series(title="S", slug="s", description="[" * 25_000)
    with pytest.raises(ValidationError) as refused:
        series.full_clean()
    assert "brackets [ or ( open at once" in refused.value.message_dict["description"][0]


def test_validation_and_save_render_the_text_once(monkeypatch, tmp_path):
    renders = tmp_path / "renders"
    real = render_lesson_text

    def counted(*args):
        with renders.open("a") as log:  # a file, since the render runs in a child process
            log.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(pipeline, "render_lesson_text", counted)
    lesson = Lesson(series=make_series(), number=1, title="T", slug="t", body="Once *only*.")
    lesson.full_clean()
    services.save_lesson(lesson)
    assert Lesson.objects.get().body_html == "<p>Once <em>only</em>.</p>"
    pids = renders.read_text().split()
    assert len(pids) == 1
    assert pids[0] != str(os.getpid())


class TestTimeLimit:
    def test_returns_what_the_function_returns(self):
        assert timelimit.call(lambda a, b: (a + b, os.getpid()), 2, 3, seconds=5)[0] == 5

    def test_runs_in_another_process(self):
        assert timelimit.call(os.getpid, seconds=5) != os.getpid()

    def test_raises_the_functions_own_error(self):
        def fail():
            raise RenderError(["Line 1 is wrong."])

        with pytest.raises(RenderError) as error:
            timelimit.call(fail, seconds=5)
        assert error.value.problems == ["Line 1 is wrong."]

    def test_stops_a_function_that_runs_too_long_and_kills_it(self, tmp_path):
        marker = tmp_path / "child"

        def forever():
            marker.write_text(str(os.getpid()))
            while True:
                pass

        started = time.monotonic()
        with pytest.raises(timelimit.TimeLimitExceeded):
            timelimit.call(forever, seconds=0.5)
        assert time.monotonic() - started < 5
        with pytest.raises(ProcessLookupError):
            os.kill(int(marker.read_text()), 0)

    def test_a_child_that_dies_is_an_error_not_a_hang(self):
        with pytest.raises(timelimit.ChildFailed):
            timelimit.call(os._exit, 3, seconds=5)

    def test_no_limit_runs_in_process(self):
        assert timelimit.call(os.getpid, seconds=0) == os.getpid()


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 25_000, "brackets [ or ( open at once"),
        (nested_list(500), "nested 500 levels deep"),
    ],
    ids=["25,000 [", "500 nested list levels"],
)
def test_the_admin_explains_a_body_it_cannot_render_and_saves_nothing(admin_client, body, problem):
    series = make_series()
    response = admin_client.post(
        reverse("admin:lessons_lesson_add"),
        {
            "series": series.pk,
            "number": 1,
            "title": "Hostile",
            "slug": "hostile",
            "body": body,
            "access": "premium",
            "status": "draft",
        },
    )
    assert response.status_code == 200
    assert problem in response.text
    assert not Lesson.objects.exists()


def test_import_series_explains_a_body_it_cannot_render_and_imports_nothing(tmp_path):
    (tmp_path / "series.yaml").write_text("title: S\nslug: s\n")
    (tmp_path / "01-ok.md").write_text("---\ntitle: Fine\nnumber: 1\n---\nFine.\n")
    (tmp_path / "02-bad.md").write_text("---\ntitle: Bad\nnumber: 2\n---\n" + "[" * 25_000)
    with pytest.raises(CommandError) as failed:
        call_command("import_series", str(tmp_path))
    assert "02-bad.md: body: Line 1 leaves more than 100 brackets" in str(failed.value)
    assert not Series.objects.exists()
