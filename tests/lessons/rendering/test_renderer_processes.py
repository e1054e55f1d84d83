"""Rendering's child processes never outlive their parent: a web worker killed mid-drawing
(gunicorn's timeout, the OOM killer, a deploy) leaves no V8 renderer or forked Markdown renderer
behind, whatever the child is doing at that moment."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GONE_WITHIN_SECONDS = 20  # a bound to poll against, far above the few seconds a drawing runs

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def gone(pid: int) -> bool:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def start_parent(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"},
        stdout=subprocess.PIPE,
        text=True,
    )


def kill(parent: subprocess.Popen) -> None:
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()


DRAWING_PARENT = """
    import sys, threading
    from lessons.diagrams.engine import Engine

    ids = [f"n{i}" for i in range(30)]
    every_pair = "flowchart LR\\n" + "\\n".join(
        f"{a} --> {b}" for i, a in enumerate(ids) for b in ids[i + 1 :]
    )
    engine = Engine()

    def draw():
        engine.render("flowchart LR\\n A --> B")  # the renderer is up
        print(engine.pid, flush=True)
        engine.render(every_pair)  # seconds of drawing, during which the parent is killed

    if sys.argv[1] == "main thread":
        draw()
    else:  # a thread of a threaded server: the kernel's death signal cannot be used
        thread = threading.Thread(target=draw)
        thread.start()
        thread.join()
"""


@pytest.mark.parametrize("started_from", ["main thread", "another thread"])
def test_the_diagram_renderer_dies_with_its_parent_killed_mid_drawing(started_from):
    parent = start_parent(DRAWING_PARENT, started_from)
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the drawing has started
    assert alive(child)
    kill(parent)
    assert gone(child), f"renderer {child} outlived its parent"


IDLE_PARENT = """
    import signal, time
    from lessons.diagrams.engine import Engine

    # A process manager or shell may start the site with SIGTERM ignored, which a child
    # inherits across exec.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = Engine()
    engine.render("flowchart LR\\n A --> B")
    print(engine.pid, flush=True)
    time.sleep(120)
"""


def test_the_diagram_renderer_ends_on_sigterm_even_when_started_with_it_ignored():
    parent = start_parent(IDLE_PARENT)
    child = int(parent.stdout.readline())
    os.kill(child, signal.SIGTERM)
    try:
        assert gone(child)
    finally:
        kill(parent)


FORKING_PARENT = """
    import os, sys
    from lessons.rendering import timelimit

    def forever(path):
        with open(path, "w") as file:
            file.write(str(os.getpid()))
        while True:
            pass

    timelimit.call(forever, sys.argv[1], seconds=300)
"""


def test_a_forked_markdown_renderer_dies_with_its_parent_killed_mid_render(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent = start_parent(FORKING_PARENT, str(pid_file))
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert alive(child)
    kill(parent)
    assert gone(child), f"renderer {child} outlived its parent"
