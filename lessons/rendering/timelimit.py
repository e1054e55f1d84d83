"""Run a pure function in a child process that is ended when it takes too long.

Rendering an author's text is pure computation whose cost depends on the text, some of it in C
(regular expressions) that no in-process timer can interrupt. So it runs in a forked child: the
caller gets the result, or the function's own exception, or `TimeLimitExceeded` after `seconds`,
and the child is killed; `check`, called while waiting, may raise to stop it early (a live
preview a newer one replaced), and the child is killed then too. The child never outlives its
parent: on Linux the kernel kills it when the parent dies (PR_SET_PDEATHSIG), and it ends itself
after its time in any case (SIGALRM). Where the system cannot fork (Windows), the function runs
in-process without a limit.
"""

import contextlib
import ctypes
import math
import os
import pickle
import selectors
import signal
import time

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2


class TimeLimitExceeded(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"took more than {seconds:g} seconds")


class ChildFailed(Exception):
    """The child process ended without an answer (killed for memory, say)."""


def call(func, *args, seconds: float, check=None):
    """func(*args), computed in a child process given `seconds`. The result and any exception
    the function raises must be picklable. `check()` is called while waiting and may raise."""
    if seconds <= 0 or not hasattr(os, "fork"):
        return func(*args)
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        _child(read_end, write_end, seconds, parent, func, args)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + seconds, check)
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


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux); exit now if it has
    died already."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _child(read_end: int, write_end: int, seconds: float, parent: int, func, args) -> None:
    status = 1
    try:
        os.close(read_end)
        _die_with_parent(parent)
        # The child also ends itself after its time, in case its parent cannot end it.
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


def _read_until(fd: int, deadline: float, check=None) -> bytes | None:
    """Everything written to `fd` until it closes, or None when `deadline` passes first;
    `check()`, called every POLL_SECONDS of waiting, may raise to stop."""
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(min(remaining, POLL_SECONDS)):
                if check is not None:
                    check()
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
