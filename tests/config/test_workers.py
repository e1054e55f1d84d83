"""What a web worker loads before its first request: what serving readers needs. The tools of
authoring (Markdown, Pygments, the sanitiser) and of paying (the gateway's client) are loaded
where they are used, so every worker does not carry them (docs/performance.md, Memory)."""

import json
import subprocess
import sys

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
        capture_output=True, text=True, cwd=servers.ROOT, env=env, check=True,
    )  # fmt: skip
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded == []
