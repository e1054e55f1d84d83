"""The diagram renderer's own process: the pinned beautiful-mermaid bundle in an embedded V8.

Started by `lessons.diagrams.engine` as `python worker.py TIME_LIMIT MEMORY_LIMIT IDLE`, it
reads one JSON request per line on stdin ({"source": "..."}) and answers one JSON line on
stdout: {"svg": "..."} or {"error": "...", "line": "the line it could not read" | null}. It
imports nothing from the project, and exits when stdin closes or after IDLE seconds unused, so
V8's memory (about 100 MB) is never held by a web worker for long.
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent / "vendor" / "beautiful-mermaid.js"


def _exit_when_idle(last_used: list[float], idle: float) -> None:
    while True:
        time.sleep(min(idle, 5.0))
        if time.monotonic() - last_used[0] > idle:
            os._exit(0)


def _answer(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


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
        source = json.loads(line)["source"]
        try:
            result = engine.call(
                "renderDiagram", source, timeout_sec=time_limit, max_memory=memory_limit
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
    main(float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: V8's threads must not keep an orphan alive
