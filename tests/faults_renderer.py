"""Fault figures for rendering (run by tests/faults.py): authors posting live previews full of
diagrams that take seconds to draw, while a reader keeps opening lesson 1, and web workers
killed in the middle of a drawing.

- Hostile previews: three `flowchart LR` blocks each linking every pair of 30 to 32 ids (about
  13 KB), posted to the live preview five at once, by one author and by five, in rounds. For
  each: the previews' statuses and longest answer, and the reader's requests, statuses and
  longest wait.
- Orphans: previews drawing, then every gunicorn worker SIGKILLed; how many of the workers'
  child processes (V8 renderers, forked Markdown renderers) are still alive 10 s later.
"""

import os
import re
import signal
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

from tests.e2e.servers import PUBLIC_HOST, Browser, Gunicorn, manage

PREVIEW = "/admin/lessons/lesson/live-preview/"
ADD = "/admin/lessons/lesson/add/"
LESSON_ONE = "/series/became-ai-engineer/what-is-an-ai-engineer/"
PASSWORD = "a-long-pass-phrase-9"
WORKERS = 5
ROUNDS = 4
LEFTOVER_WAIT_SECONDS = 10


def hostile_body(tag: str) -> str:
    """Three flowcharts linking every pair of 30, 31 and 32 ids: seconds of drawing each (a
    comment line makes them new to the renderer's memory)."""
    blocks = []
    for count in (30, 31, 32):
        ids = [f"n{i}" for i in range(count)]
        edges = "\n".join(f"{a}-->{b}" for i, a in enumerate(ids) for b in ids[i + 1 :])
        blocks.append(f"```mermaid\nflowchart LR\n%% {tag}\n{edges}\n```")
    return "Hostile preview.\n\n" + "\n\n".join(blocks)


def create_author(email: str, *, env) -> None:
    manage(
        "shell", "-c",
        "from allauth.account.models import EmailAddress\n"
        "from accounts.models import User\n"
        f"user = User.objects.create_user({email!r}, {PASSWORD!r}, is_staff=True, "
        "is_superuser=True)\n"
        "EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)",
        env=env,
    )  # fmt: skip


class Author:
    """A logged-in author posting live previews (with the admin's CSRF token)."""

    def __init__(self, server, email: str):
        self.server = server
        self.browser = Browser()
        status, _ = self.browser.post_form(
            server.url + "/accounts/login/", {"login": email, "password": PASSWORD}
        )
        assert status == 302, f"the author could not log in ({status})"
        _, page = self.browser.request(server.url + ADD)
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        self.series = re.search(r'<option value="(\d+)"[^>]*>Became an AI Engineer<', page)[1]

    def preview(self, body: str) -> tuple[int | str, float]:
        return self.post(PREVIEW, {"body": body, "access": "free"})

    def save(self, body: str) -> tuple[int | str, float]:
        """A new lesson with this body, saved in the admin: 302 when saved, 200 when the form
        comes back with what to fix."""
        slug = f"hostile-{uuid.uuid4().hex[:6]}"
        fields = {"series": self.series, "number": 900, "title": slug, "slug": slug,
                  "body": body, "access": "free", "status": "draft"}  # fmt: skip
        return self.post(ADD, fields)

    def post(self, path: str, data: dict) -> tuple[int | str, float]:
        data = {**data, "csrfmiddlewaretoken": self.token}
        request = urllib.request.Request(
            self.server.url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Host": PUBLIC_HOST, "Referer": f"http://{PUBLIC_HOST}/admin/"},
        )
        started = time.monotonic()
        try:
            with self.browser.opener.open(request, timeout=90) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            status = type(error).__name__
        return status, time.monotonic() - started


class Reader(threading.Thread):
    """Opens lesson 1 again and again until stopped; each request's status and time."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.url = server.url + LESSON_ONE
        self.stopped = threading.Event()
        self.results: list[tuple[int | str, float]] = []

    def run(self):
        while not self.stopped.is_set():
            started = time.monotonic()
            request = urllib.request.Request(self.url, headers={"Host": PUBLIC_HOST})
            try:  # waiting as long as it takes (a browser waits minutes)
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError as error:
                status = type(error).__name__
            self.results.append((status, time.monotonic() - started))
            time.sleep(0.2)


def five_at_once(server, authors: list[Author], body: str):
    """Five previews posted at once (by these authors in turn) while a reader reads."""
    reader = Reader(server)
    reader.start()
    time.sleep(0.5)
    answers: list[tuple[int | str, float]] = []

    def post(author):
        answers.append(author.preview(body))

    threads = [threading.Thread(target=post, args=(authors[i % len(authors)],)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.5)
    reader.stopped.set()
    reader.join()
    return answers, reader.results


def report(label: str, answers, reads) -> None:
    statuses = Counter(str(status) for status, _ in answers)
    read_statuses = Counter(str(status) for status, _ in reads)
    waits = [seconds for _, seconds in reads]
    errors = sum(not str(s).startswith(("2", "3", "4")) for s, _ in [*answers, *reads])
    print(
        f"  {label}: previews {dict(statuses)}, longest {max(s for _, s in answers):.1f} s; "
        f"reader {len(reads)} requests {dict(read_statuses)}, wait median "
        f"{statistics.median(waits):.2f} s, longest {max(waits):.2f} s; errors {errors}"
    )


def hostile_previews(env) -> None:
    emails = [f"author{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(5)]
    for email in emails:
        create_author(email, env=env)
    with Gunicorn(env, workers=WORKERS) as server:
        authors = [Author(server, email) for email in emails]
        print(f"\nHostile live previews ({WORKERS} workers; a reader opens lesson 1 meanwhile):")
        body = hostile_body(f"a{uuid.uuid4().hex[:4]}")
        for round_ in range(1, ROUNDS + 1):
            outcome = five_at_once(server, authors[:1], body)
            report(f"one author, 5 at once, round {round_}", *outcome)
        body = hostile_body(f"b{uuid.uuid4().hex[:4]}")
        for round_ in range(1, ROUNDS + 1):
            outcome = five_at_once(server, authors, body)
            report(f"five authors, 1 each, round {round_}", *outcome)
        body = hostile_body(f"c{uuid.uuid4().hex[:4]}")
        tries = [authors[0].save(body) for _ in range(ROUNDS)]
        said = [f"try {n}: {status} in {s:.1f} s" for n, (status, s) in enumerate(tries, 1)]
        print(f"  one author saving a lesson with such a body: {', '.join(said)}")


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def orphans(env) -> None:
    email = f"author-{uuid.uuid4().hex[:6]}@example.com"
    create_author(email, env=env)
    # Markdown is rendered in a forked child too (LESSON_RENDER_SECONDS, as in production);
    # every worker may render, so that each has renderers to leave behind.
    rendering = {**env, "LESSON_RENDER_SECONDS": "5", "LESSON_RENDERS_AT_ONCE": str(WORKERS)}
    with Gunicorn(rendering, workers=WORKERS) as server:
        authors = [Author(server, email)]
        for i in range(1, WORKERS):
            extra = f"author{i}-{uuid.uuid4().hex[:6]}@example.com"
            create_author(extra, env=env)
            authors.append(Author(server, extra))
        workers = children(server.process.pid)
        for index, author in enumerate(authors):  # one preview drawing in every worker
            body = hostile_body(f"k{index}{uuid.uuid4().hex[:4]}")
            threading.Thread(target=author.preview, args=(body,), daemon=True).start()
        time.sleep(3)
        descendants = {pid: children(pid) for pid in workers}
        drawing = sorted(pid for kids in descendants.values() for pid in kids)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        while time.monotonic() < killed + LEFTOVER_WAIT_SECONDS and any(map(alive, drawing)):
            time.sleep(0.05)
        left = [pid for pid in drawing if alive(pid)]
        gone = f"all gone {time.monotonic() - killed:.2f} s after the kill" if not left else ""
        print(
            f"\nWorkers killed mid-drawing: {len(workers)} workers SIGKILLed with "
            f"{len(drawing)} child processes (renderers) running; leftover after "
            f"{LEFTOVER_WAIT_SECONDS} s: {len(left)} {gone}"
        )
        for pid in left:  # ours to end: the figure above already counted it
            os.kill(pid, signal.SIGKILL)


def run(env) -> None:
    """Both cases against the database and cache `env` names directly."""
    hostile_previews(env)
    orphans(env)
