"""No leaks across scopes on PostgreSQL: the reliability suite's tenant-isolation state machine
(``tests/stress/test_stress_tenants.py``: random adds, updates, deletes, delete_alls, searches
and reads in scope A never read or change scope B, and identities come from arguments only),
run over a ``Memory`` on PostgreSQL, each example on a new database."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from memlane import Memory
from memlane.store.postgres.server import LocalPostgres
from memlane.store.postgres.store import PostgresStore
from memlane.store.postgres.transaction import PostgresTransaction
from tests.store.postgres._workers import pg_memory_config
from tests.stress.test_stress_tenants import STATS, TenantMachine

pytestmark = pytest.mark.integration

EXAMPLES = 12
STEPS = 30


class PgRows:
    """What the state machine reads of its store: ``execute`` (its SQLite-style queries, ``?``
    placeholders, run as they are on PostgreSQL; JSON values as JSON text) and ``transaction``."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def execute(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.store.connection() as conn:
            found = conn.execute(query.replace("?", "%s"), list(params)).fetchall()
        return [
            tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row) for row in found
        ]

    def transaction(self) -> AbstractContextManager[PostgresTransaction]:
        return self.store.transaction()


class PostgresTenantMachine(TenantMachine):
    server: ClassVar[LocalPostgres]

    def __init__(self) -> None:
        RuleBasedStateMachine.__init__(self)
        self.dir = Path(tempfile.mkdtemp(prefix="memlane-pg-tenants-"))
        self.database = f"t_{uuid.uuid4().hex[:16]}"
        self.memory = Memory(pg_memory_config(self.server.database(self.database)))
        store = self.memory.store
        assert isinstance(store, PostgresStore)
        self.store = cast(Any, PgRows(store))
        self.model = {}
        self._seed_b()
        self.b_before = self._b_rows()
        STATS["examples"] += 1

    def teardown(self) -> None:
        self.memory.close()
        self.server.drop(self.database)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_scope_a_never_reaches_scope_b_on_postgres(postgres_server: LocalPostgres) -> None:
    STATS.clear()
    PostgresTenantMachine.server = postgres_server
    run_state_machine_as_test(
        PostgresTenantMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            phases=(Phase.explicit, Phase.generate),
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    writes = STATS["adds"] + STATS["updates"] + STATS["deletes"] + STATS["delete_alls"]
    print(
        f"\npostgres tenant isolation: {STATS['examples']} sequences of up to {STEPS} steps, "
        f"{writes} writes, {STATS['reads']} reads returning {STATS['results_checked']} memories, "
        "0 of B's read or changed"
    )
    assert STATS["examples"] >= EXAMPLES and writes > 0
