"""Run a pure function in a child process that is ended when it takes too long.

Rendering an author's text is pure computation whose cost depends on the text, some of it in C
(regular expressions) that no in-process timer can interrupt. So it runs in a forked child: the
caller gets the result, or the function's own exception, or `TimeLimitExceeded` after `seconds`,
and the child is killed. Where the system cannot fork (Windows), the function runs in-process
without a limit.
"""

import math
import os
import pickle
import selectors
import signal
import time


class TimeLimitExceeded(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"took more than {seconds:g} seconds")


class ChildFailed(Exception):
    """The child process ended without an answer (killed for memory, say)."""


def call(func, *args, seconds: float):
    """func(*args), computed in a child process given `seconds`. The result and any exception
    the function raises must be picklable."""
    if seconds <= 0 or not hasattr(os, "fork"):
        return func(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        _child(read_end, write_end, seconds, func, args)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        _end(pid)
    if data is None:
        raise TimeLimitExceeded(seconds)
    if not data:
        raise ChildFailed("the child process ended without an answer")
    ok, value = pickle.loads(data)  # noqa: S301 (written by our own child, just above)
    if ok:
        return value
    raise value


def _child(read_end: int, write_end: int, seconds: float, func, args) -> None:
    status = 1
    try:
        os.close(read_end)
        # The child also ends itself, in case its parent is killed before it can.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(math.ceil(seconds) + 1)
        try:
            outcome = (True, func(*args))
        except Exception as error:
            outcome = (False, error)
        try:
            data = pickle.dumps(outcome)
        except Exception as error:
            data = pickle.dumps((False, ChildFailed(f"unpicklable result: {error}")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        # Skip every exit handler: the parent's database connections and files are not ours.
        os._exit(status)


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything written to `fd` until it closes, or None when `deadline` passes first."""
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _end(pid: int) -> None:
    """Reap the child, killing it first when it is still running."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass
