"""Runs the diagram renderer in a child process (see worker.py) and talks to it over pipes.

One child per Python process, started on first use and reused while it lives; it exits after a
minute unused. A diagram that takes longer than the time limit is stopped inside V8, and if the
child does not answer in time it is killed: a diagram never hangs a worker. A process forked
after the child started (gunicorn) starts its own.
"""

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

WORKER = Path(__file__).resolve().parent / "worker.py"


class EngineError(Exception):
    """The engine could not answer (it did not start, crashed, or ran out of time)."""


class Engine:
    def __init__(
        self,
        *,
        time_limit: float = 5.0,
        memory_limit: int = 256 * 1024 * 1024,
        idle_seconds: float = 60.0,
        start_timeout: float = 30.0,
    ):
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.idle_seconds = idle_seconds
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._answers: queue.Queue | None = None
        self._owner_pid: int | None = None

    def render(self, source: str) -> dict:
        """The renderer's answer for one diagram: {"svg"} or {"error", "line"}."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._ask(source)
                except BrokenPipeError:
                    # The child exited (idle) just before the request: once more, fresh.
                    self._stop()
                    if attempt == 2:
                        raise EngineError("the diagram engine stopped unexpectedly") from None
            raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ask(self, source: str) -> dict:
        self._ensure_started()
        assert self._process is not None and self._answers is not None
        self._process.stdin.write(json.dumps({"source": source}) + "\n")
        self._process.stdin.flush()
        answer = self._next_answer(self.time_limit + 5.0)
        if answer.get("error") in ("timeout", "memory"):
            self._stop()
        return answer

    def _next_answer(self, timeout: float) -> dict:
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            self._stop()
            return {"error": "timeout", "line": None}
        if line is None:
            self._stop()
            raise BrokenPipeError
        return json.loads(line)

    def _ensure_started(self) -> None:
        if self._process is not None and self._owner_pid != os.getpid():
            self._process = self._answers = None  # inherited across a fork: not ours to use
        if self._process is not None and self._process.poll() is not None:
            self._stop()
        if self._process is not None:
            return
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and file)
            [
                sys.executable,
                str(WORKER),
                str(self.time_limit),
                str(self.memory_limit),
                str(self.idle_seconds),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        answers: queue.Queue = queue.Queue()

        def read():
            for line in process.stdout:
                answers.put(line)
            answers.put(None)

        threading.Thread(target=read, daemon=True, name="diagram-engine-reader").start()
        self._process, self._answers, self._owner_pid = process, answers, os.getpid()
        started = time.monotonic()
        try:
            first = self._next_answer(self.start_timeout)
        except BrokenPipeError:
            raise EngineError("the diagram engine exited while starting") from None
        if "fatal" in first or first.get("error") == "timeout":
            self._stop()
            raise EngineError(
                first.get("fatal")
                or f"the diagram engine did not start in {time.monotonic() - started:.0f} s"
            )

    def _stop(self) -> None:
        process, self._process, self._answers = self._process, None, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
