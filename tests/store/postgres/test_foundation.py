"""The PostgreSQL foundation: the local server, the pool and the versioned migrations."""

from __future__ import annotations

import pytest

from memlane.errors import StoreError
from memlane.store.postgres.connect import open_pool
from memlane.store.postgres.schema import migrate, version_of
from memlane.store.postgres.server import with_database

pytestmark = pytest.mark.integration

STEPS = ["CREATE TABLE t1 (a INTEGER); CREATE TABLE t2 (b INTEGER)", "ALTER TABLE t1 ADD COLUMN c TEXT"]


def test_url_database_is_replaced() -> None:
    url = "postgresql://postgres:@/postgres?host=/tmp/x"
    assert with_database(url, "db1") == "postgresql://postgres:@/db1?host=/tmp/x"


def test_pool_registers_vectors(postgres_url: str) -> None:
    pool = open_pool(postgres_url, max_size=2)
    try:
        with pool.connection() as conn:
            row = conn.execute("SELECT '[1,2,3]'::vector").fetchone()
            assert row is not None
            assert row[0].to_list() == [1.0, 2.0, 3.0]
    finally:
        pool.close()


def test_a_wrong_url_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        open_pool("postgresql://u:s3cret@/nowhere?host=/nonexistent-dir", timeout_s=2)
    assert "s3cret" not in str(info.value)


def test_migrations_apply_once_and_refuse_a_newer_schema(postgres_url: str) -> None:
    pool = open_pool(postgres_url, max_size=2)
    try:
        with pool.connection() as conn:
            conn.commit()
            assert migrate(conn, "demo", STEPS[:1]) == 1
            assert migrate(conn, "demo", STEPS) == 2
            assert migrate(conn, "demo", STEPS) == 2  # nothing left to apply
            assert version_of(conn, "demo") == 2
            conn.execute("SELECT a, c FROM t1")
            conn.commit()
            with pytest.raises(StoreError, match="newer"):
                migrate(conn, "demo", STEPS[:1])
    finally:
        pool.close()
