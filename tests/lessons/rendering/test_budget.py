"""An author cannot stall the site with diagrams: a diagram too slow to draw is remembered and
refused at once, a request's rendering has one time budget across all its diagrams, an author
renders one thing at a time, and a newer live preview stops the older one
(lessons/rendering/budget.py, lessons/diagrams)."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from lessons import diagrams
from lessons.diagrams.engine import Engine, OutOfTime
from lessons.models import Lesson
from lessons.rendering import budget
from lessons.rendering.problems import diagram_problems
from tests.factories import make_series, make_staff

LIVE = "/admin/lessons/lesson/live-preview/"
TOO_SLOW = "it takes longer than 5 s to draw; make it smaller"
OUT_OF_BUDGET = "the 10 s this request may spend rendering ran out before it"


def fence(source: str) -> str:
    return f"```mermaid\n{source.strip()}\n```"


def every_pair(count: int, tag: str) -> str:
    """A flowchart linking every pair of `count` ids: seconds of drawing from a few KB."""
    ids = [f"{tag}{i}" for i in range(count)]
    return "flowchart LR\n" + "\n".join(
        f"  {a} --> {b}" for i, a in enumerate(ids) for b in ids[i + 1 :]
    )


@pytest.fixture(autouse=True)
def fresh_memory():
    """Each test starts with nothing remembered in this process (the shared cache is emptied
    by tests/conftest.py)."""
    diagrams.forget()
    yield
    diagrams.forget()


class SlowEngine:
    """Stands for the renderer: any diagram naming "slow" uses all the time it is given and
    times out; others are drawn. Time passes on a clock of its own, which lessons.rendering.budget
    reads, so no test waits."""

    def __init__(self, real):
        self.real = real
        self.now = 1_000.0
        self.drawn: list[str] = []

    def monotonic(self) -> float:
        return self.now

    def render(self, source, *, seconds=None, deadline=None, check=None):
        self.drawn.append(source)
        if "slow" in source:
            self.now += seconds
            return {"error": "timeout", "line": None}
        return self.real(source)


@pytest.fixture
def engine(monkeypatch):
    slow = SlowEngine(diagrams.engine.render)
    monkeypatch.setattr(diagrams.engine, "render", slow.render)
    monkeypatch.setattr(budget, "time", SimpleNamespace(monotonic=slow.monotonic, sleep=time.sleep))
    return slow


def three_slow_diagrams(tag: str) -> str:
    return "\n\n".join(
        f"Part {n}.\n\n" + fence(f"flowchart LR\n  slow{tag}{n} --> B") for n in (1, 2, 3)
    )


def preview(client, body):
    return client.post(LIVE, {"body": body, "access": "free"})


@pytest.fixture
def author(db):
    return make_staff(is_superuser=True)


@pytest.fixture
def author_client(author):
    client = Client()
    client.force_login(author)
    return client


def test_a_diagram_that_ran_out_of_time_is_refused_at_once_until_its_source_changes(engine):
    text = "Intro.\n\n" + fence("flowchart LR\n  slowA --> B")
    problem = f"Diagram 1 (line 3) cannot be drawn: {TOO_SLOW}."
    assert [str(p) for p in diagram_problems(text)] == [problem]
    assert len(engine.drawn) == 1
    assert [str(p) for p in diagram_problems(text)] == [problem]
    diagrams.forget()  # another worker process: it shares the cache only
    assert [str(p) for p in diagram_problems(text)] == [problem]
    assert len(engine.drawn) == 1  # never drawn again
    assert diagram_problems(text.replace("slowA", "slowB"))  # a changed source is drawn
    assert len(engine.drawn) == 2


def test_outcomes_are_remembered_in_the_process_while_the_shared_cache_is_away(
    engine, cache_outage
):
    cache_outage.start()
    text = fence("flowchart LR\n  slowC --> B")
    diagram_problems(text)
    diagram_problems(text)
    assert len(engine.drawn) == 1


def test_a_preview_spends_at_most_its_budget_on_diagrams_and_the_next_goes_on(
    engine, author_client
):
    body = three_slow_diagrams("D")
    started = engine.now
    first = preview(author_client, body)
    assert first.status_code == 200
    assert engine.now - started <= 10  # the budget, across all three
    problems = first.context["preview"].problems
    assert [p.split(": ", 1)[1] for p in problems] == [f"{TOO_SLOW}."] * 2 + [
        f"{OUT_OF_BUDGET}; preview or save again to draw it (diagrams already drawn are kept)."
    ]
    assert len(engine.drawn) == 2
    # The third was cut short by the budget, not by its own limit: it gets its turn next.
    second = preview(author_client, body)
    assert second.context["preview"].problems == [
        p.replace(p.split(": ", 1)[1], f"{TOO_SLOW}.") for p in problems
    ]
    assert len(engine.drawn) == 3
    started = engine.now
    third = preview(author_client, body)
    assert third.status_code == 200 and len(engine.drawn) == 3 and engine.now == started


def test_saving_a_lesson_with_slow_diagrams_is_refused_naming_each_never_a_500(
    engine, author_client
):
    series = make_series()
    body = three_slow_diagrams("E")
    response = author_client.post(
        reverse("admin:lessons_lesson_add"),
        {"series": series.pk, "number": 1, "title": "Slow", "slug": "slow", "body": body,
         "access": "free", "status": "draft"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert errors[0] == f"Diagram 1 (line 3) cannot be drawn: {TOO_SLOW}."
    assert errors[2].startswith(f"Diagram 3 (line 17) cannot be drawn: {OUT_OF_BUDGET}")
    assert len(engine.drawn) == 2
    assert not Lesson.objects.filter(slug="slow").exists()


def test_a_second_render_by_the_same_author_is_refused_while_one_runs(
    monkeypatch, author, author_client
):
    monkeypatch.setattr(budget, "SLOT_WAIT_SECONDS", 0.1)
    with budget.bounded(user=author):  # a save of theirs, still rendering
        busy = preview(author_client, "Some *text*.")
        other = Client()
        other.force_login(make_staff(is_superuser=True))
        assert preview(other, "Some *text*.").status_code == 200  # other authors go on
    assert busy.status_code == 429
    assert busy["Retry-After"] == "2"
    assert "Another preview or save of yours is still being rendered" in busy.text
    assert "no-store" in busy["Cache-Control"]
    assert preview(author_client, "Some *text*.").status_code == 200  # and once it is done


def test_the_site_renders_at_most_so_many_texts_at_once(monkeypatch, settings, author):
    monkeypatch.setattr(budget, "SLOT_WAIT_SECONDS", 0.1)
    settings.LESSON_RENDERS_AT_ONCE = 1
    other = Client()
    other.force_login(make_staff(is_superuser=True))
    with budget.bounded(user=author):
        busy = preview(other, "Some *text*.")
    assert busy.status_code == 429
    assert "Other authors’ texts are being rendered right now" in busy.text
    assert preview(other, "Some *text*.").status_code == 200


def test_a_save_while_another_render_runs_keeps_the_text_and_says_why(
    monkeypatch, author, author_client
):
    monkeypatch.setattr(budget, "SLOT_WAIT_SECONDS", 0.1)
    series = make_series()
    with budget.bounded(user=author):
        response = author_client.post(
            reverse("admin:lessons_lesson_add"),
            {"series": series.pk, "number": 1, "title": "Busy", "slug": "busy",
             "body": "My unsaved words.", "access": "free", "status": "draft"},
        )  # fmt: skip
    assert response.status_code == 200
    (error,) = response.context["adminform"].form.errors["body"]
    assert error.startswith("Another preview or save of yours is still being rendered")
    assert "My unsaved words." in response.text
    assert not Lesson.objects.filter(slug="busy").exists()


def test_a_series_saved_while_another_render_runs_says_so_once(monkeypatch, author, author_client):
    monkeypatch.setattr(budget, "SLOT_WAIT_SECONDS", 0.1)
    with budget.bounded(user=author):
        response = author_client.post(
            reverse("admin:lessons_series_add"),
            {"title": "Busy", "slug": "busy", "description": "A *text*.", "language": "en",
             "position": 0, "offer-TOTAL_FORMS": 1, "offer-INITIAL_FORMS": 0,
             "offer-0-cta_message": "Buy.", "offer-0-paywall_message": "Pay.",
             "offer-0-currency": "IDR", "lessons-TOTAL_FORMS": 0, "lessons-INITIAL_FORMS": 0},
        )  # fmt: skip
    assert response.status_code == 200
    assert response.text.count("Another preview or save of yours is still being rendered") == 1


def test_a_preview_is_superseded_by_a_newer_preview_or_save_of_the_same_author(monkeypatch, author):
    monkeypatch.setattr(budget, "POLL_SECONDS", 0)
    with budget.bounded(user=author, preview=True) as older:
        older.check()  # nothing newer yet
        budget._advance(make_staff().pk)  # another author's preview
        older.check()
        budget._advance(author.pk)  # what a newer request of theirs does first
        with pytest.raises(budget.Superseded):
            older.check()
    with budget.bounded(user=author) as save:
        budget._advance(author.pk)
        save.check()  # a save is never stopped half-way


def test_nothing_is_superseded_or_refused_while_the_shared_cache_is_away(author, cache_outage):
    cache_outage.start()
    with (
        budget.bounded(user=author, preview=True) as first,
        budget.bounded(user=author, preview=True) as second,
    ):
        assert not first.refusal and not second.refusal
        first.check()


@pytest.mark.django_db(transaction=True)
def test_a_newer_preview_stops_the_older_ones_drawing_and_takes_its_place(monkeypatch):
    """Two previews of one author at once, the first drawing a diagram that takes seconds:
    the first stops (its renderer is killed) and answers 409; the second is drawn."""
    author = make_staff(is_superuser=True)
    real, drawing, children = diagrams.engine.render, threading.Event(), set()

    def spied(source, *, check=None, **limits):
        def watched():
            if "q29" in source:  # the hostile one
                children.add(diagrams.engine.pid)
                drawing.set()
            check()

        return real(source, check=watched, **limits)

    monkeypatch.setattr(diagrams.engine, "render", spied)
    answers = {}

    def post(name, body):
        try:
            client = Client()
            client.force_login(author)
            answers[name] = preview(client, body)
        finally:
            connection.close()  # this thread's own

    first = threading.Thread(target=post, args=("first", fence(every_pair(30, "q"))))
    first.start()
    assert drawing.wait(30)
    post("second", fence("flowchart LR\n  Newer --> Drawn"))
    first.join(30)
    assert answers["first"].status_code == 409
    assert answers["second"].status_code == 200
    assert "Newer" in answers["second"].text and "<svg" in answers["second"].text
    (child,) = children
    assert not alive(child)  # the older drawing stopped, it did not run on


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" not in status.read()
    except FileNotFoundError:
        return False


def test_an_engine_call_stopped_by_its_caller_kills_the_drawing():
    engine = Engine()
    try:
        engine.render("flowchart LR\n  A --> B")
        child = engine.pid

        def stop():
            raise budget.Superseded

        with pytest.raises(budget.Superseded):
            engine.render(every_pair(30, "n"), check=stop)
        assert not alive(child) and engine.pid is None
        assert "svg" in engine.render("flowchart LR\n  A --> B")  # and it draws again
    finally:
        engine.close()


def test_an_engine_call_past_its_deadline_waits_for_no_other_drawing():
    engine = Engine()
    try:
        with engine._lock, pytest.raises(OutOfTime):  # another thread's drawing
            engine.render("flowchart LR\n  A --> B", deadline=time.monotonic() + 0.1)
    finally:
        engine.close()
