"""Tests of the site with Redis (outages, several servers sharing a cache) need a Redis on
127.0.0.1:6379. They skip without one, unless REQUIRE_REDIS=1 (as in CI), which turns the skip
into a failure."""

import os
import socket

import pytest

REDIS = ("127.0.0.1", 6379)


def require_redis() -> None:
    try:
        socket.create_connection(REDIS, timeout=1).close()
        return
    except OSError:
        pass
    reason = "needs Redis on 127.0.0.1:6379"
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"REQUIRE_REDIS=1 but this test {reason}")
    pytest.skip(reason)
