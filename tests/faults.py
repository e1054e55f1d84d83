"""Fault figures: a real gunicorn (one worker, production settings and default timeouts) on
PostgreSQL and Redis, each cut or hung through a TCP proxy while a reader keeps asking; and
the mail server (tests/smtp_server.py) down or hung while readers sign up, ask for codes and
reset passwords, with the e-mail worker (`manage.py db_worker`) beside gunicorn.

    .venv/bin/python -m tests.faults      # needs PostgreSQL and Redis on 127.0.0.1
    .venv/bin/python -m tests.faults mail # only some of them: redis, postgresql, mail, renderer

Prints, per fault, the requests made during it, their statuses, the time each took, and how
long after the restore /healthz said all was well again (for the mail server: how many of the
e-mails asked for during the fault arrived, and when); then hostile live previews and workers
killed mid-drawing (tests/faults_renderer.py). Not a test: timings are the output.
"""

import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

from tests import faults_renderer
from tests.e2e.servers import (
    ROOT,
    Browser,
    Gunicorn,
    Outage,
    create_reader,
    manage,
    run_manage,
    server_env,
)
from tests.smtp_server import SMTPServer

PG, REDIS = ("127.0.0.1", 5432), ("127.0.0.1", 6379)
CASES = ("redis", "postgresql", "mail", "renderer")
EMAIL, PASSWORD = "reader@example.com", "a-long-pass-phrase-9"
ROUNDS = 10
HEALTHY = '{"status": "ok", "database": "up", "cache": "up"}'


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG[0], port=PG[1], user="postgres", autocommit=True) as db:
        db.execute(sql)


def timed(call):
    started = time.monotonic()
    try:
        status, _ = call()
    except OSError as error:  # no answer within the client's 10 s
        status = type(error).__name__
    return status, time.monotonic() - started


def measure(server, outage, fault, requests):
    getattr(outage, fault)()
    results = [
        (kind, *timed(request)) for _ in range(ROUNDS) for kind, request in requests(server).items()
    ]
    outage.restore()
    restored = time.monotonic()
    while Browser().request(server.url + "/healthz")[1] != HEALTHY:
        time.sleep(0.05)
    recovery = time.monotonic() - restored
    print(f"{fault}: recovered {recovery:.2f} s after the restore")
    for kind in requests(server):
        seconds = [s for k, _, s in results if k == kind]
        statuses = Counter(str(status) for k, status, _ in results if k == kind)
        print(
            f"  {kind:8} {len(seconds):3} requests, statuses {dict(statuses)}, seconds each: "
            f"median {statistics.median(seconds):.2f}, max {max(seconds):.2f}"
        )


def reader_requests(server):
    """A page, /healthz, and a log-in by a new reader."""
    return {
        "page": lambda: Browser().request(server.url + "/series/became-ai-engineer/"),
        "/healthz": lambda: Browser().request(server.url + "/healthz"),
        "log-in": lambda: Browser().post_form(
            server.url + "/accounts/login/", {"login": EMAIL, "password": PASSWORD}
        ),
    }


# The mail server down or hung ----------------------------------------------------------------

MAIL_ROUNDS = 2
BUYERS = 5  # readers with access who asked for new-lesson e-mails
OUTAGE_SECONDS = 30  # how long the mail server stays away
DELIVERY_WAIT = 120  # seconds after the restore to wait for every e-mail


def failed_tries(env) -> int:
    """Tries of the worker's tasks that failed so far (each failed try is a task of its own)."""
    out = manage(
        "shell", "-c",
        "from django_tasks_db.models import DBTaskResult\n"
        "print(DBTaskResult.objects.filter(status='FAILED').count())",
        env=env,
    )  # fmt: skip
    return int(out.strip().splitlines()[-1])


def mail_requests(server, round_id: str, reader: str) -> dict:
    """What one round asks for at the same moment: three sign-ups by new addresses, a log-in
    code and a password reset for an existing reader, while a reader opens a page and a probe
    asks /healthz. Each an e-mail, except the last two. Forms are fetched first, untimed."""

    def post(path, data):
        browser = Browser()
        _, page = browser.request(server.url + path)
        token = page.split('name="csrfmiddlewaretoken" value="', 1)[-1].split('"', 1)[0]
        return lambda: browser.request(server.url + path, {**data, "csrfmiddlewaretoken": token})

    return {
        **{
            f"sign-up {n}": post("/accounts/signup/", {"email": f"new-{round_id}-{n}@example.com"})
            for n in range(3)
        },
        "log-in code": post("/accounts/login/code/", {"email": reader}),
        "reset": post("/accounts/password/reset/", {"email": reader}),
        "page": lambda: Browser().request(server.url + "/series/became-ai-engineer/"),
        "/healthz": lambda: Browser().request(server.url + "/healthz"),
    }


def at_once(requests: dict) -> list[tuple[str, object, float]]:
    results = []

    def one(kind, call):
        results.append((kind.split(" ")[0] if kind.startswith("sign-up") else kind, *timed(call)))

    threads = [threading.Thread(target=one, args=item) for item in requests.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def announce(lesson: int, *, env) -> None:
    """Queue a new-lesson e-mail to every buyer without starting the worker's task, so the
    command below is the first to try them."""
    manage(
        "shell", "-c",
        "from django.test.utils import override_settings\n"
        "from access import announcements\n"
        "from lessons.models import Lesson\n"
        "dummy = {'default': {'BACKEND': 'django.tasks.backends.dummy.DummyBackend'}}\n"
        "with override_settings(TASKS=dummy):\n"
        f"    announcements.queue(lesson=Lesson.objects.get(number={lesson}),"
        " site_url='http://lessons.test')\n",
        env=env,
    )  # fmt: skip


def mail_fault(server, smtp, fault, lesson, *, env):
    reader = f"reader-{fault}@example.com"
    create_reader(reader, PASSWORD, env=env)
    smtp.messages.clear()
    failed_before = failed_tries(env)
    getattr(smtp, fault)()
    began = time.monotonic()
    announce(lesson, env=env)
    started = time.monotonic()
    command = run_manage("send_announcements", env=env)
    took = time.monotonic() - started
    summary = command.stdout.strip().splitlines()[0] if command.stdout.strip() else ""
    print(f"  send_announcements: exit status {command.returncode} after {took:.1f} s: {summary}")
    manage(
        "shell", "-c", "from access.announcements import send_queued; send_queued.enqueue()",
        env=env,
    )  # fmt: skip
    results = []
    for round_number in range(MAIL_ROUNDS):
        results += at_once(mail_requests(server, f"{fault}{round_number}", reader))
    asked = MAIL_ROUNDS * 5 + BUYERS  # e-mails: 5 a round, and the announcement's
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
    smtp.restore()
    restored = time.monotonic()
    while len(smtp.messages) < asked and time.monotonic() - restored < DELIVERY_WAIT:
        time.sleep(0.2)
    arrived = time.monotonic() - restored
    for kind in dict.fromkeys(kind for kind, _, _ in results):
        seconds = [s for k, _, s in results if k == kind]
        statuses = Counter(str(status) for k, status, _ in results if k == kind)
        print(
            f"  {kind:12} {len(seconds):3} requests, statuses {dict(statuses)}, seconds each: "
            f"median {statistics.median(seconds):.2f}, max {max(seconds):.2f}"
        )
    print(
        f"  e-mails asked for during the {OUTAGE_SECONDS} s fault: {asked}; the worker's "
        f"failed tries: {failed_tries(env) - failed_before}; delivered after the mail server "
        f"returned: {len(smtp.messages)} of {asked}, the last {arrived:.1f} s after it"
    )


def mail_faults(server, smtp, *, env):
    print(
        f"\nThe mail server ({MAIL_ROUNDS} rounds of 3 sign-ups, a log-in code and a password "
        "reset at once, with a reader's page and /healthz; a new-lesson e-mail to "
        f"{BUYERS} buyers):"
    )
    for fault, lesson, label in (("down", 2, "refusing connections"), ("hang", 3, "hung")):
        print(f" {label}:")
        mail_fault(server, smtp, fault, lesson, env=env)


def main(parts=CASES):
    name = f"faults_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    pg, redis, smtp = Outage(*PG), Outage(*REDIS), SMTPServer()
    worker = None
    try:
        mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "EMAIL_USE_TLS": "0"}
        direct = server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}", **mail)
        manage("migrate", "-v0", env=direct)
        manage("createcachetable", env=direct)
        manage("import_series", "content/became-ai-engineer", env=direct)
        create_reader(EMAIL, PASSWORD, env=direct)
        for n in range(BUYERS):
            create_buyer(f"buyer-{n}@example.com", env=direct)
        manage("collectstatic", "--no-input", "-v0", env=direct)
        env = server_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg.port}/{name}",
            CONN_MAX_AGE="60",
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/7",
            CACHE_KEY_PREFIX=f"faults-{uuid.uuid4().hex}",
            **mail,
        )
        # The e-mail worker, as `make serve` starts it beside gunicorn.
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"],
            cwd=ROOT, env=direct, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with Gunicorn(env) as server:
            for outage, label in ((redis, "Redis"), (pg, "PostgreSQL")):
                if label.lower() not in parts:
                    continue
                print(f"\n{label} (page, /healthz and a log-in, {ROUNDS} times):")
                for fault in ("cut", "hang"):
                    measure(server, outage, fault, reader_requests)
            if "mail" in parts:
                mail_faults(server, smtp, env=direct)
        if "renderer" in parts:
            faults_renderer.run(
                {**direct, "REDIS_URL": f"redis://127.0.0.1:{REDIS[1]}/7",
                 "CACHE_KEY_PREFIX": f"faults-{uuid.uuid4().hex}"}
            )  # fmt: skip
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        pg.close()
        redis.close()
        smtp.close()
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def create_buyer(email: str, *, env) -> None:
    """A reader with the whole demo series who asked for new-lesson e-mails."""
    create_reader(email, PASSWORD, env=env)
    manage(
        "shell", "-c",
        "from access import services\n"
        "from accounts.models import User\n"
        "from lessons.models import Series\n"
        f"user = User.objects.get(email={email!r})\n"
        "User.objects.filter(pk=user.pk).update(lesson_emails=True)\n"
        "services.grant(user=user, series=Series.objects.get())",
        env=env,
    )  # fmt: skip


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or CASES)
