"""Real server processes for tests that need more than the in-process test client."""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Behind a reverse proxy every app server sees the site's one public host name; allauth keys
# its login limit by it, so the test browser sends it to every server, as the proxy would.
PUBLIC_HOST = "lessons.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(**extra) -> dict:
    """The production settings, on plain http on 127.0.0.1."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return {
        **keep,
        "ENV_FILE": "/nonexistent",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "SECRET_KEY": "e2e-only-" + "x" * 50,
        "ALLOWED_HOSTS": f"127.0.0.1,{PUBLIC_HOST}",
        **extra,
    }


def create_reader(email: str, password: str, *, env) -> None:
    """A reader whose address is verified, as sign-up leaves them, in that server's database."""
    manage(
        "shell", "-c",
        "from allauth.account.models import EmailAddress\n"
        "from accounts.models import User\n"
        f"user = User.objects.create_user({email!r}, {password!r})\n"
        "EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)",
        env=env,
    )  # fmt: skip


def run_manage(*args, env) -> subprocess.CompletedProcess:
    """manage.py in a process of its own, with exactly `env`; the finished process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def manage(*args, env) -> str:
    """run_manage() that must succeed; its output."""
    result = run_manage(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Gunicorn:
    """A gunicorn started as `make serve` starts one (config/gunicorn.py), on a port of its
    own (or `port`), with one worker unless `workers` says otherwise (None:
    config/gunicorn.py's number); stopped on exit. `make bench` starts the site and its
    ceiling with it too. Its processes are a group of their own, which `kill()` ends at once,
    as when a machine dies."""

    def __init__(
        self, env: dict, *, app: str = "config.wsgi", workers: int | None = 1, port: int = 0
    ):
        self.port = port or free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers (503 is an answer)
            except OSError:
                time.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read()[-3000:].decode()}")

    def kill(self):
        """The master and its workers, without a chance to finish anything."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and a form poster: enough of a browser for server-to-server tests.
    Cookies are not tied to a port, so one Browser talks to several servers as one reader."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(self, url, data=None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Host": PUBLIC_HOST, "Referer": f"http://{PUBLIC_HOST}/"}
        req = urllib.request.Request(url, data=body, headers=headers)
        try:
            with self.opener.open(req, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post_form(self, url, data) -> tuple[int, str]:
        _, page = self.request(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return self.request(url, {**data, "csrfmiddlewaretoken": token[1] if token else ""})


class Outage:
    """A TCP proxy in front of a server (PostgreSQL, Redis) that a test can cut, hang and
    restore, to take the server away without stopping the one the rest of the suite uses.

    cut: new connections are closed at once and open ones dropped, as by a stopped server.
    hang: new connections are accepted and open ones kept, but nothing is answered any more, as
    by a hung server or a network path that swallows packets.
    restore: forwarding again; connections held during a hang are dropped.
    """

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.mode = "up"
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                client.close()
                continue
            if self.mode == "hang":
                self.sockets.append(client)  # accepted, never answered
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                if self.mode != "hang":  # hung: what is sent is swallowed
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _drop(self):
        sockets, self.sockets = self.sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def cut(self):
        self.mode = "cut"
        self._drop()

    def hang(self):
        self.mode = "hang"

    def restore(self):
        if self.mode == "hang":
            self._drop()
        self.mode = "up"

    def close(self):
        self.cut()
        self.listener.close()
