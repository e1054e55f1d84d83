"""Runs the diagram renderer in a child process (see worker.py) and talks to it over pipes.

One child per Python process, started on first use and reused while it lives; it exits after a
minute unused, and with its parent (worker.py). A diagram that takes longer than its time limit
is stopped inside V8, and if the child does not answer soon after, it is killed: a diagram
never hangs a worker. A caller may also bound the whole call, the child's start included
(`deadline`), and stop it early (`check`, called while waiting, may raise: the child is killed,
so a drawing nobody waits for stops using the CPU). A process forked after the child started
(gunicorn) starts its own.
"""

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

WORKER = Path(__file__).resolve().parent / "worker.py"
BUNDLE = Path(__file__).resolve().parent / "vendor" / "beautiful-mermaid.js"
# How long past a drawing's limit the child may take to answer before it is killed.
GRACE_SECONDS = 2.0
# How often `check` is called while waiting for the child.
POLL_SECONDS = 0.2


class EngineError(Exception):
    """The engine could not answer (it did not start, crashed, or ran out of time)."""


class OutOfTime(EngineError):
    """The caller's deadline passed before a drawing could start (another thread of this
    process was drawing, or the child was still starting: it goes on starting)."""


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
        self._ready = False
        self._started_at = 0.0

    @property
    def pid(self) -> int | None:
        """The child's process id, while there is one."""
        return self._process.pid if self._process is not None else None

    def render(
        self,
        source: str,
        *,
        seconds: float | None = None,
        deadline: float | None = None,
        check: Callable[[], None] | None = None,
    ) -> dict:
        """The renderer's answer for one diagram: {"svg"} or {"error", "line"}; an error of
        "timeout" or "memory" when it passed its limits. `seconds` is this drawing's limit (at
        most `time_limit`); `deadline` (time.monotonic()) bounds the call, waiting and start
        included, raising OutOfTime when it passes before the drawing starts."""
        limit = self.time_limit if seconds is None else min(seconds, self.time_limit)
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            raise OutOfTime("another drawing of this process took the time")
        try:
            for attempt in (1, 2):
                try:
                    return self._ask(source, limit, deadline, check)
                except BrokenPipeError:
                    # The child exited (idle) just before the request: once more, fresh.
                    self._stop()
                    if attempt == 2:
                        raise EngineError("the diagram engine stopped unexpectedly") from None
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ask(self, source: str, limit: float, deadline: float | None, check) -> dict:
        self._ensure_started(deadline, check)
        assert self._process is not None and self._answers is not None
        if deadline is not None:
            limit = min(limit, deadline - time.monotonic())
            if limit <= 0:
                raise OutOfTime("no time was left to draw")
        self._process.stdin.write(json.dumps({"source": source, "seconds": limit}) + "\n")
        self._process.stdin.flush()
        line = self._next_line(time.monotonic() + limit + GRACE_SECONDS, check)
        if line is None:  # the child did not answer in time
            self._stop(kill=True)
            return {"error": "timeout", "line": None}
        answer = json.loads(line)
        if answer.get("error") in ("timeout", "memory"):
            self._stop()  # it exits after these (a fresh isolate next time)
        return answer

    def _next_line(self, until: float, check) -> str | None:
        """The child's next line, or None when `until` passes first; raises BrokenPipeError
        when the child has exited, and whatever `check` raises (the child is then killed)."""
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return None
            try:
                line = self._answers.get(timeout=min(remaining, POLL_SECONDS))
            except queue.Empty:
                if check is not None:
                    try:
                        check()
                    except BaseException:
                        self._stop(kill=True)
                        raise
                continue
            if line is None:
                self._stop()
                raise BrokenPipeError
            return line

    def _ensure_started(self, deadline: float | None, check) -> None:
        if self._process is not None and self._owner_pid != os.getpid():
            self._process = self._answers = None  # inherited across a fork: not ours to use
        if self._process is not None and self._process.poll() is not None:
            self._stop()
        if self._process is None:
            self._spawn()
        if self._ready:
            return
        give_up = self._started_at + self.start_timeout
        until = give_up if deadline is None else min(give_up, deadline)
        try:
            first = self._next_line(until, check)
        except BrokenPipeError:
            raise EngineError("the diagram engine exited while starting") from None
        if first is None:
            if time.monotonic() < give_up:
                raise OutOfTime("the diagram engine is still starting")  # it goes on
            self._stop(kill=True)
            raise EngineError(f"the diagram engine did not start in {self.start_timeout:g} s")
        answer = json.loads(first)
        if "fatal" in answer:
            self._stop()
            raise EngineError(answer["fatal"])
        self._ready = True

    def _spawn(self) -> None:
        # The kernel may kill the child with its parent only when the thread starting it lives
        # as long as the process (the death signal follows the thread): the main thread.
        deathsig = threading.current_thread() is threading.main_thread()
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and file)
            [
                sys.executable,
                str(WORKER),
                str(self.time_limit),
                str(self.memory_limit),
                str(self.idle_seconds),
                str(os.getpid()),
                "1" if deathsig else "0",
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
        self._ready, self._started_at = False, time.monotonic()

    def _stop(self, *, kill: bool = False) -> None:
        process, self._process, self._answers = self._process, None, None
        self._ready = False
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()
        if kill:
            process.kill()
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
