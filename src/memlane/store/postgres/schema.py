"""Versioned migrations, one numbered list per component (``store``, ``search``, ``graph``...).

``memlane_schema`` records each component's version. ``migrate`` applies the missing steps of
one component in one transaction under an advisory lock, so many processes opening the same
database at once apply each step exactly once; a database migrated by a newer memlane (a
version above the list's length) is refused, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from memlane.errors import StoreError

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["migrate", "version_of"]

_LOCK = 0x6D656D6C616E65  # "memlane": one advisory lock for every migration
_TABLE = "CREATE TABLE IF NOT EXISTS memlane_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"


def version_of(conn: Connection[Any], component: str) -> int:
    """The applied version of ``component`` (0: none)."""
    row = conn.execute("SELECT version FROM memlane_schema WHERE component = %s", (component,)).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection[Any], component: str, steps: Sequence[str]) -> int:
    """Bring ``component`` to ``len(steps)``: step ``i`` (SQL, possibly several statements)
    moves it from version ``i`` to ``i + 1``. Returns the version. The connection must not be
    inside a transaction; the migration commits its own."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(_TABLE)
        current = version_of(conn, component)
        if current > len(steps):
            raise StoreError(
                f"the database's {component} schema is at version {current}, newer than this "
                f"memlane knows ({len(steps)}): upgrade memlane to open it"
            )
        for version in range(current, len(steps)):
            conn.execute(steps[version].encode())
        if current < len(steps):
            conn.execute(
                "INSERT INTO memlane_schema (component, version) VALUES (%s, %s) "
                "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
                (component, len(steps)),
            )
    return len(steps)
