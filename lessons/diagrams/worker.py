"""The diagram renderer's own process: the pinned beautiful-mermaid bundle in an embedded V8.

Started by `lessons.diagrams.engine` as `python worker.py TIME_LIMIT MEMORY_LIMIT IDLE PARENT
DEATHSIG`, it reads one JSON request per line on stdin ({"source": "...", "seconds": 5.0}) and
answers one JSON line on stdout: {"svg": "..."} or {"error": "...", "line": "the line it could
not read" | null}. It imports nothing from the project.

It never outlives its parent, whatever it is doing when the parent dies (V8 holds 100 to 200
MB): on Linux the kernel kills it (PR_SET_PDEATHSIG, when DEATHSIG is 1: the parent started it
from a thread that lives as long as the process), and a watcher thread ends it as soon as its
parent process is gone (it is then adopted by another). It also exits when stdin closes, after
IDLE seconds unused, and on SIGTERM; every way out is os._exit, so no interpreter shutdown can
hang on V8's threads.
"""

import contextlib
import ctypes
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent / "vendor" / "beautiful-mermaid.js"
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.2


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux), and exit now if the
    parent is already gone (it died before the request could be made)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _exit_when_idle(last_used: list[float], idle: float) -> None:
    while True:
        time.sleep(min(idle, 5.0))
        if time.monotonic() - last_used[0] > idle:
            os._exit(0)


def _answer(payload: dict) -> None:
    try:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # the parent is gone: nobody to answer
        os._exit(0)


def main(time_limit: float, memory_limit: int, idle: float) -> None:
    try:
        from py_mini_racer import JSOOMException, JSTimeoutException, MiniRacer

        engine = MiniRacer()
        engine.eval(BUNDLE.read_text(encoding="utf-8"))
    except Exception as exc:  # reported to the parent, which raises
        _answer({"fatal": f"the diagram engine cannot start: {type(exc).__name__}: {exc}"})
        return
    _answer({"ready": True})
    last_used = [time.monotonic()]
    threading.Thread(target=_exit_when_idle, args=(last_used, idle), daemon=True).start()
    for line in sys.stdin:
        last_used[0] = time.monotonic()
        request = json.loads(line)
        seconds = min(time_limit, float(request.get("seconds") or time_limit))
        try:
            result = engine.call(
                "renderDiagram", request["source"], timeout_sec=seconds, max_memory=memory_limit
            )
            _answer(json.loads(result))
        except JSTimeoutException:
            _answer({"error": "timeout", "line": None})
            return  # a fresh isolate for the next diagram
        except JSOOMException:
            _answer({"error": "memory", "line": None})
            return
        except Exception as exc:  # an answer, whatever went wrong
            _answer({"error": f"{type(exc).__name__}: {exc}", "line": None})
        last_used[0] = time.monotonic()


if __name__ == "__main__":
    try:
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        parent = int(sys.argv[4])
        if sys.argv[5] == "1":
            die_with_parent(parent)
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
        main(float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
    finally:
        os._exit(0)  # no interpreter teardown: V8's threads must not keep an orphan alive
