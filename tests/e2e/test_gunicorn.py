"""The production server's own behaviour: its control socket, and HEAD requests."""

import http.client
import os
import stat
import time

import pytest

from tests.e2e.servers import PUBLIC_HOST, Gunicorn, manage, server_env


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "db.sqlite3"
    manage("migrate", "-v0", env=server_env(DATABASE_URL=f"sqlite:///{path}"))
    return f"sqlite:///{path}"


def gunicorn_env(tmp_path, static_root, database, **extra):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = server_env(STATIC_ROOT=str(static_root), DATABASE_URL=database, HOME=str(home))
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("GUNICORN_CONTROL_SOCKET", None)
    return {**env, **extra}


def wait_for(path, seconds: float = 10) -> bool:
    """Whether `path` exists within `seconds` (gunicorn opens its control socket in a thread
    once the workers are up)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.exists()


def test_a_control_socket_is_per_instance_when_asked_for(tmp_path, static_root, database):
    path = tmp_path / "lessons-8000.ctl"
    env = gunicorn_env(tmp_path, static_root, database, GUNICORN_CONTROL_SOCKET=str(path))
    with Gunicorn(env):
        assert wait_for(path)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert not (tmp_path / "home" / ".gunicorn").exists()


def test_gunicorn_answers_head_without_body_bytes_and_opens_no_shared_control_socket(
    tmp_path, static_root, database
):
    with Gunicorn(gunicorn_env(tmp_path, static_root, database)) as server:
        for path in ["/", "/healthz", "/accounts/login/", "/nowhere/", "/static/css/site.css"]:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("HEAD", path, headers={"Host": PUBLIC_HOST})
            response = connection.getresponse()
            assert response.status in (200, 404), path
            assert int(response.headers["Content-Length"]) > 0, path
            response.close()
            connection.close()
        assert not wait_for(tmp_path / "home" / ".gunicorn", seconds=1)
        server.log.seek(0)
        log = server.log.read().decode()
    assert "body bytes" not in log
