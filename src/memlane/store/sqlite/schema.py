"""The SQLite schema as numbered migrations, applied in order inside one transaction."""

from __future__ import annotations

import sqlite3

from memlane.errors import StoreError

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "foreign_reason", "migrate"]

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE memories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    hash TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT, actor_id TEXT, role TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    valid_from TEXT, valid_to TEXT, expired_at TEXT, expiration_date TEXT,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    embedding BLOB
);
CREATE INDEX memories_user ON memories (user_id) WHERE deleted_at IS NULL;
CREATE INDEX memories_agent ON memories (agent_id) WHERE deleted_at IS NULL;
CREATE INDEX memories_run ON memories (run_id) WHERE deleted_at IS NULL;

CREATE TABLE memory_versions (
    memory_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    hash TEXT NOT NULL,
    valid_from TEXT, valid_to TEXT,
    recorded_at TEXT NOT NULL,
    expired_at TEXT,
    PRIMARY KEY (memory_id, version)
);

CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    memory_id TEXT NOT NULL,
    old_memory TEXT, new_memory TEXT,
    event TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    actor_id TEXT, role TEXT
);
CREATE INDEX history_memory ON history (memory_id);

CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    role TEXT NOT NULL, name TEXT, content TEXT NOT NULL,
    observed_at TEXT NOT NULL
);

CREATE TABLE memory_sources (
    memory_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (memory_id, message_id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE memories_fts USING fts5(
    text, content='memories', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO memories_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF text, deleted_at ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text)
        SELECT 'delete', old.seq, old.text WHERE old.deleted_at IS NULL;
    INSERT INTO memories_fts (rowid, text) SELECT new.seq, new.text WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
"""

_V2 = """
CREATE TABLE graph_entities (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    scope_key TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT '',
    aliases TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX graph_entities_scope ON graph_entities (scope_key);
CREATE INDEX graph_entities_user ON graph_entities (user_id);
CREATE INDEX graph_entities_agent ON graph_entities (agent_id);
CREATE INDEX graph_entities_run ON graph_entities (run_id);

CREATE TABLE graph_names (
    scope_key TEXT NOT NULL,
    norm TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    is_alias INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope_key, norm, entity_id)
) WITHOUT ROWID;
CREATE INDEX graph_names_norm ON graph_names (norm);
CREATE INDEX graph_names_entity ON graph_names (entity_id);

CREATE TABLE graph_relations (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    scope_key TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    source_id TEXT NOT NULL,
    relationship TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    valid_from TEXT, valid_to TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    invalidated_at TEXT,
    mentions INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX graph_relations_source ON graph_relations (source_id, relationship, destination_id);
CREATE INDEX graph_relations_destination ON graph_relations (destination_id);
CREATE INDEX graph_relations_user ON graph_relations (user_id, created_at);
CREATE INDEX graph_relations_agent ON graph_relations (agent_id, created_at);
CREATE INDEX graph_relations_run ON graph_relations (run_id, created_at);

CREATE TABLE graph_relation_memories (
    relation_id TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    UNIQUE (relation_id, memory_id)
);
CREATE INDEX graph_relation_memories_memory ON graph_relation_memories (memory_id);
"""
"""Migration 2: the graph (``memlane.store.sqlite.graph``): entities with their names and aliases,
relations with both clocks, and the memories that support each relation."""

_V3 = """
CREATE INDEX IF NOT EXISTS messages_session ON messages (user_id, agent_id, run_id, observed_at, seq);
CREATE INDEX IF NOT EXISTS memory_sources_message ON memory_sources (message_id);
CREATE INDEX IF NOT EXISTS memories_user_cover ON memories (user_id, seq, id, expiration_date)
    WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS memories_agent_cover ON memories (agent_id, seq, id, expiration_date)
    WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS memories_run_cover ON memories (run_id, seq, id, expiration_date)
    WHERE deleted_at IS NULL;
"""
"""Indexes for conversation-neighbour lookups, and covering indexes so selecting a scope's
candidates never reads the rows (and their vectors)."""

_V4 = """
CREATE TABLE profile_slots (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    memory_id TEXT,
    valid_from TEXT, valid_to TEXT,
    recorded_at TEXT NOT NULL,
    expired_at TEXT
);
CREATE INDEX profile_slots_scope ON profile_slots (user_id, agent_id, run_id, key);
CREATE INDEX profile_slots_agent ON profile_slots (agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX profile_slots_run ON profile_slots (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX profile_slots_memory ON profile_slots (memory_id) WHERE memory_id IS NOT NULL;
CREATE UNIQUE INDEX profile_slots_current
    ON profile_slots (coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(run_id, ''), key)
    WHERE expired_at IS NULL;
"""
"""Migration 4: profile slots, one row per version of a slot; at most one current (unexpired)
row per scope and key."""

_V5 = """
CREATE TABLE pending (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    message_ids TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    claimed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX pending_user ON pending (user_id);
CREATE INDEX pending_agent ON pending (agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX pending_run ON pending (run_id) WHERE run_id IS NOT NULL;
"""
"""Migration 5: pending adds. ``add(infer=True)`` keeps its messages (in ``messages``) and one
row here before the LLM call; the row goes in the transaction that writes the memories, so a
failed call leaves the conversation waiting for ``Memory.reprocess``. ``message_ids`` is a JSON
list in conversation order; ``params`` the add's arguments (metadata, prompt, memory_type,
observed_at, expiration_date); ``claimed_at`` marks an add in flight."""

_V6 = "".join(
    f"""
CREATE INDEX IF NOT EXISTS memories_{name}_time ON memories ({column}, valid_from, id, expiration_date)
    WHERE deleted_at IS NULL AND {column} IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_{name}_ids ON memories ({column}, id, expiration_date)
    WHERE deleted_at IS NULL AND {column} IS NOT NULL;
"""
    for name, column in (("user", "user_id"), ("agent", "agent_id"), ("run", "run_id"))
)
"""Migration 6: per-scope indexes on observation time and on id, so that a search's period
candidates (a scope's memories in a date range) and profile candidates (a scope's memories
with given ids) read the rows they select, not the whole scope. Both cover what selecting
candidates reads (seq, id, expiration_date)."""

_V7 = """
CREATE TABLE staged_vectors (
    memory_id TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    hash TEXT NOT NULL,
    embedding BLOB NOT NULL
);
"""
"""Migration 7: ``memlane reindex``'s new vectors, staged while searches keep the current ones:
one per memory, for the embedder ``identity``, made from the text whose ``hash`` it records (a
memory updated since is embedded again before the switch)."""

_V8 = """
CREATE TABLE requests (
    key TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    token TEXT,
    result TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX requests_created ON requests (created_at);
"""
"""Migration 8: the answers of ``add(idempotency_key=...)`` (``memlane.store.sqlite.requests``):
one row per key, claimed (``token``) before the work and given its ``result`` (JSON) in the
work's transaction; forgotten once older than the configured time."""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
SCHEMA_VERSION = len(MIGRATIONS)

APPLICATION_ID = 0x4D4C4E45
"""SQLite's ``application_id`` header field of a memlane database ("MLNE"); set when the schema
is created or migrated. Files from before it have 0 and are recognised by their tables."""

_OWN_TABLES = ("meta", "memories", "history")


def foreign_reason(conn: sqlite3.Connection) -> str | None:
    """Why the open database is not memlane's (another application's file), or None when it is
    memlane's or empty. Reads only; call it before anything writes to the file."""
    application = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if application not in (0, APPLICATION_ID):
        return f"its SQLite application_id is {application:#x}, another application's"
    tables = {
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%'"
        )
    }
    if not tables:
        return None
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    missing = [t for t in _OWN_TABLES if t not in tables]
    if version == 0 or missing:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        return f"it holds other tables ({shown}) and no memlane schema"
    return None


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to ``SCHEMA_VERSION``; refuse one made by a newer memlane."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        reason = foreign_reason(conn)  # again, under the write lock: no other writer got in between
        if reason:
            raise StoreError(f"not a memlane database ({reason}); memlane leaves it unchanged")
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {current}, newer than this memlane's "
                f"{SCHEMA_VERSION}; upgrade memlane"
            )
        for version in range(current, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
        if current != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if int(conn.execute("PRAGMA application_id").fetchone()[0]) != APPLICATION_ID:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a script on statement ends, keeping trigger bodies whole."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    return out
