"""API keys: each belongs to one tenant; shown once, stored hashed, revocable.

A key is ``ml_`` followed by 43 random URL-safe characters (256 bits from ``secrets``). The
keys database (an SQLite file, default ``$MEMLANE_DIR/keys.db``) keeps its SHA-256 (enough for
a key this random: nobody can guess one from its hash) and its first characters (the *prefix*,
shown in lists so a person can tell keys apart). The secret itself is never stored::

    store = KeyStore(path)
    info, secret = store.create("acme", admin=False)   # give `secret` to the user, once
    store.verify(secret)                                # -> KeyInfo(tenant="acme", ...) or None
    store.revoke(info.id)                               # verify() now answers None

Every call opens its own connection (cheap for SQLite), so one ``KeyStore`` can be shared by
threads, and several server processes can share one file: a revocation made by one is seen by
the next request of every other.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from memlane.errors import InvalidInputError, NotFoundError

__all__ = [
    "DEFAULT_TENANT",
    "KEY_PREFIX",
    "KeyInfo",
    "KeyNotFoundError",
    "KeyStore",
    "check_tenant",
    "default_keys_path",
]

DEFAULT_TENANT = "default"
KEY_PREFIX = "ml_"
_SHOWN_CHARS = 12  # "ml_" and 9 random characters: the prefix a list shows
_TENANT = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    admin       INTEGER NOT NULL,
    prefix      TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant);
"""


def check_tenant(name: str) -> str:
    """``name`` if it is a valid tenant name (``[a-z0-9][a-z0-9_-]{0,62}``), else InvalidInputError."""
    if not isinstance(name, str) or not _TENANT.fullmatch(name):
        raise InvalidInputError(
            f"invalid tenant name {name!r}: use 1 to 63 characters among lowercase letters, digits, "
            "'_' and '-', starting with a letter or a digit (e.g. 'acme' or 'team-2')"
        )
    return name


def default_keys_path() -> Path:
    """``$MEMLANE_DIR/keys.db``, with ``MEMLANE_DIR`` defaulting to ``~/.memlane``."""
    return Path(os.environ.get("MEMLANE_DIR") or Path.home() / ".memlane") / "keys.db"


class KeyNotFoundError(NotFoundError):
    """No API key has the given id."""

    def __init__(self, key_id: str) -> None:
        self.memory_id = key_id
        self.key_id = key_id
        ValueError.__init__(self, f"API key {key_id!r} not found; `memlane keys list` shows the ids")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What is known about a key (never the key itself)."""

    id: str
    tenant: str
    admin: bool
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: times as ISO 8601 strings."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "admin": self.admin,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: sqlite3.Row) -> KeyInfo:
    revoked = row["revoked_at"]
    return KeyInfo(
        id=row["id"],
        tenant=row["tenant"],
        admin=bool(row["admin"]),
        prefix=row["prefix"],
        created_at=datetime.fromisoformat(row["created_at"]),
        revoked_at=datetime.fromisoformat(revoked) if revoked else None,
    )


_COLUMNS = "id, tenant, admin, prefix, created_at, revoked_at"


class KeyStore:
    """The API keys in one SQLite file (created with its folder on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_keys_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10.0)) as conn:
            conn.row_factory = sqlite3.Row
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn

    def create(self, tenant: str = DEFAULT_TENANT, admin: bool = False) -> tuple[KeyInfo, str]:
        """A new key for ``tenant``: its info and the secret (returned once, never stored)."""
        check_tenant(tenant)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        info = KeyInfo(
            id="key_" + secrets.token_hex(6),
            tenant=tenant,
            admin=bool(admin),
            prefix=secret[:_SHOWN_CHARS],
            created_at=datetime.now(UTC),
        )
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, tenant, admin, prefix, hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    info.id,
                    info.tenant,
                    int(info.admin),
                    info.prefix,
                    _hash(secret),
                    info.created_at.isoformat(),
                ),
            )
        return info, secret

    def verify(self, secret: str) -> KeyInfo | None:
        """The info of the active key ``secret`` is, else None (unknown, revoked or malformed)."""
        if not isinstance(secret, str) or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL", (_hash(secret),)
            ).fetchone()
        return _info(row) if row is not None else None

    def get(self, key_id: str) -> KeyInfo:
        """The key with this id (revoked or not); KeyNotFoundError when there is none."""
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise KeyNotFoundError(key_id)
        return _info(row)

    def list(self, tenant: str | None = None, include_revoked: bool = True) -> builtins.list[KeyInfo]:
        """Every key (of ``tenant`` when given), oldest first."""
        sql = f"SELECT {_COLUMNS} FROM api_keys WHERE (? IS NULL OR tenant = ?)"
        if not include_revoked:
            sql += " AND revoked_at IS NULL"
        with self._connect() as conn:
            rows = conn.execute(sql + " ORDER BY created_at, id", (tenant, tenant)).fetchall()
        return [_info(row) for row in rows]

    def revoke(self, key_id: str) -> KeyInfo:
        """Revoke a key (a key already revoked keeps its first revocation time); its info after."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )
        return self.get(key_id)

    def has_active_keys(self) -> bool:
        """Whether at least one key can be used (the server refuses to start with auth and none)."""
        with self._connect() as conn:
            row = conn.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone()
        return row is not None

    def tenants(self) -> builtins.list[str]:
        """The tenants that have at least one active key, sorted."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT tenant FROM api_keys WHERE revoked_at IS NULL ORDER BY tenant"
            ).fetchall()
        return [row["tenant"] for row in rows]
