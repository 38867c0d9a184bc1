"""Opening the SQLite file: the folder, the connection, the check that the file is memlane's,
WAL and the schema.

A file that holds another application's tables is refused before anything is written to it:
no WAL switch, no schema, no ``application_id``. ``create=False`` (read commands) also refuses a
missing or empty file instead of creating a store there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from memlane.errors import StoreError
from memlane.store.sqlite.schema import foreign_reason, migrate

__all__ = ["open_database"]

_HOW_TO_CHOOSE = "choose another path (--db, vector_store.config.path or $MEMLANE_DIR)"


def open_database(path: str, busy_timeout_ms: int, *, create: bool = True) -> tuple[sqlite3.Connection, str]:
    """An open, migrated connection to memlane's database at ``path``, and the path it uses."""
    if path != ":memory:":
        path = str(Path(path).expanduser())
        _prepare(path, create)
    target = path if create or path == ":memory:" else f"{Path(path).resolve().as_uri()}?mode=rw"
    try:
        conn = sqlite3.connect(
            target,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout_ms / 1000,
            uri=not create,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the SQLite database {path!r}: {exc}; {_HOW_TO_CHOOSE}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        reason = foreign_reason(conn)  # before anything is written to the file
        if reason:
            raise StoreError(
                f"{path!r} is not a memlane database ({reason}); memlane leaves it unchanged: "
                f"{_HOW_TO_CHOOSE}"
            )
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except sqlite3.Error as exc:  # not a database, locked, read-only…
        conn.close()
        raise StoreError(f"cannot open the SQLite database {path!r}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn, path


def _prepare(path: str, create: bool) -> None:
    """Check the file (``create=False``) or make its folder (``create=True``)."""
    file = Path(path)
    if not create:
        if not file.exists() or (file.is_file() and file.stat().st_size == 0):
            raise StoreError(
                f"no memlane database at {path!r}: nothing has been stored there yet (add a memory "
                f"first), or {_HOW_TO_CHOOSE}"
            )
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {str(file.parent)!r} for the SQLite database {path!r}: "
            f"{exc.strerror or exc}; {_HOW_TO_CHOOSE}"
        ) from exc
