"""What a web worker starts with: what serving readers needs, loaded once by gunicorn's master
and shared. The tools of authoring (Markdown, Pygments, the sanitiser) and of paying (the
gateway's client) are loaded where they are used, so every worker does not carry them; what
the master loaded is out of the workers' garbage collector's reach (docs/performance.md,
Memory)."""

import gc
import json
import runpy
import subprocess
import sys
import weakref

from tests.e2e import servers

LOADED_WHERE_USED = ["markdown", "pygments", "bleach", "midtransclient", "requests"]


def test_a_worker_starts_without_the_tools_of_authoring_and_paying(tmp_path):
    script = (
        "import json, sys\n"
        "import config.wsgi\n"
        f"print(json.dumps([name for name in {LOADED_WHERE_USED!r} if name in sys.modules]))\n"
    )
    env = servers.server_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",  # never opened
        STATIC_ROOT=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, cwd=servers.ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded == []


class Cycle:
    def __init__(self):
        self.me = self


def test_the_master_puts_what_loading_made_out_of_the_collectors_reach_before_forking():
    hooks = runpy.run_path(str(servers.ROOT / "config" / "gunicorn.py"))
    loaded = [object()]  # made while loading: it lives as long as the process
    garbage = Cycle()  # left unreachable by loading: freed, not kept for good
    left = weakref.ref(garbage)
    del garbage
    assert gc.get_freeze_count() == 0
    try:
        hooks["when_ready"](server=None)
        assert left() is None
        assert gc.get_freeze_count() > 0
        assert not any(tracked is loaded for tracked in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(tracked is loaded for tracked in gc.get_objects())
