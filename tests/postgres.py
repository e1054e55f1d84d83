"""Tests that mean something only on PostgreSQL skip elsewhere, unless REQUIRE_POSTGRES=1
(as in CI), which turns the skip into a failure."""

import os

import pytest
from django.db import connection


def require_postgres():
    if connection.vendor == "postgresql":
        return
    reason = f"needs PostgreSQL (this run uses {connection.vendor}); set DATABASE_URL=postgres://…"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but this test {reason}")
    pytest.skip(reason)
