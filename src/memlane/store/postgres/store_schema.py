"""The ``store`` component's PostgreSQL schema (``STORE_STEPS``, applied by ``schema.migrate``).

Every table carries ``tenant`` first in its primary key and in every index, and every statement
filters by it: distributing the tables by ``tenant`` (Citus) or partitioning them by it needs no
code change. Text columns use the "C" collation, so comparisons, ordering and id prefixes are
bytewise, as in the SQLite store, whatever the database's locale. Timestamps are ISO-8601 text,
as the SQLite store keeps them (filters compare them as text). ``seq`` orders rows of one kind
as they were written (ties of ``created_at``, history, conversation order, and the order of an
export, so that moving a store between back ends keeps it).

Vectors and full text are the ``search`` component's (``memlane.store.postgres.search``).
"""

from __future__ import annotations

__all__ = ["STORE_STEPS", "STORE_TABLES"]

_T = 'TEXT COLLATE "C"'

_V1 = f"""
CREATE TABLE meta (
    tenant {_T} NOT NULL,
    key {_T} NOT NULL,
    value {_T} NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE memories (
    tenant {_T} NOT NULL,
    id {_T} NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    text {_T} NOT NULL,
    hash {_T} NOT NULL,
    user_id {_T}, agent_id {_T}, run_id {_T}, actor_id {_T}, role {_T},
    metadata JSONB NOT NULL DEFAULT '{{}}',
    created_at {_T} NOT NULL,
    updated_at {_T} NOT NULL,
    valid_from {_T}, valid_to {_T}, expired_at {_T}, expiration_date {_T},
    deleted_at {_T},
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX memories_recent ON memories (tenant, created_at DESC, seq DESC) WHERE deleted_at IS NULL;
CREATE INDEX memories_user ON memories (tenant, user_id, created_at DESC, seq DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX memories_agent ON memories (tenant, agent_id, created_at DESC, seq DESC)
    WHERE deleted_at IS NULL AND agent_id IS NOT NULL;
CREATE INDEX memories_run ON memories (tenant, run_id, created_at DESC, seq DESC)
    WHERE deleted_at IS NULL AND run_id IS NOT NULL;
CREATE INDEX memories_user_time ON memories (tenant, user_id, valid_from)
    WHERE deleted_at IS NULL AND user_id IS NOT NULL;
CREATE INDEX memories_every_user ON memories (tenant, user_id);
CREATE INDEX memories_every_agent ON memories (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX memories_every_run ON memories (tenant, run_id) WHERE run_id IS NOT NULL;

CREATE TABLE memory_versions (
    tenant {_T} NOT NULL,
    memory_id {_T} NOT NULL,
    version INTEGER NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    text {_T} NOT NULL,
    hash {_T} NOT NULL,
    valid_from {_T}, valid_to {_T},
    recorded_at {_T} NOT NULL,
    expired_at {_T},
    PRIMARY KEY (tenant, memory_id, version)
);

CREATE TABLE history (
    tenant {_T} NOT NULL,
    id {_T} NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    memory_id {_T} NOT NULL,
    old_memory {_T}, new_memory {_T},
    event {_T} NOT NULL,
    created_at {_T} NOT NULL, updated_at {_T},
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    actor_id {_T}, role {_T},
    PRIMARY KEY (tenant, id)
);
CREATE INDEX history_memory ON history (tenant, memory_id, seq);

CREATE TABLE messages (
    tenant {_T} NOT NULL,
    id {_T} NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id {_T}, agent_id {_T}, run_id {_T},
    role {_T} NOT NULL, name {_T}, content {_T} NOT NULL,
    observed_at {_T} NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX messages_session ON messages
    (tenant, coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(run_id, ''), observed_at, seq);
CREATE INDEX messages_agent ON messages (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX messages_run ON messages (tenant, run_id) WHERE run_id IS NOT NULL;

CREATE TABLE memory_sources (
    tenant {_T} NOT NULL,
    memory_id {_T} NOT NULL,
    message_id {_T} NOT NULL,
    PRIMARY KEY (tenant, memory_id, message_id)
);
CREATE INDEX memory_sources_message ON memory_sources (tenant, message_id);

CREATE TABLE profile_slots (
    tenant {_T} NOT NULL,
    id {_T} NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id {_T}, agent_id {_T}, run_id {_T},
    key {_T} NOT NULL,
    value {_T} NOT NULL,
    memory_id {_T},
    valid_from {_T}, valid_to {_T},
    recorded_at {_T} NOT NULL,
    expired_at {_T},
    PRIMARY KEY (tenant, id)
);
CREATE INDEX profile_slots_scope ON profile_slots (tenant, user_id, agent_id, run_id, key);
CREATE INDEX profile_slots_agent ON profile_slots (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX profile_slots_run ON profile_slots (tenant, run_id) WHERE run_id IS NOT NULL;
CREATE INDEX profile_slots_memory ON profile_slots (tenant, memory_id) WHERE memory_id IS NOT NULL;
CREATE UNIQUE INDEX profile_slots_current ON profile_slots
    (tenant, coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(run_id, ''), key)
    WHERE expired_at IS NULL;

CREATE TABLE pending (
    tenant {_T} NOT NULL,
    id {_T} NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id {_T}, agent_id {_T}, run_id {_T},
    message_ids JSONB NOT NULL,
    params JSONB NOT NULL DEFAULT '{{}}',
    created_at {_T} NOT NULL,
    claimed_at {_T},
    attempts INTEGER NOT NULL DEFAULT 0,
    error {_T},
    PRIMARY KEY (tenant, id)
);
CREATE INDEX pending_order ON pending (tenant, seq);
CREATE INDEX pending_user ON pending (tenant, user_id);
CREATE INDEX pending_agent ON pending (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX pending_run ON pending (tenant, run_id) WHERE run_id IS NOT NULL;
"""
"""Version 1: memories (soft-deleted with ``deleted_at``), their versions and history, the
messages they came from, profile slots (at most one current row per scope and key), pending
adds, and per-tenant ``meta`` (the vector size and the embedder)."""

_V2 = f"""
CREATE TABLE requests (
    tenant {_T} NOT NULL,
    key {_T} NOT NULL,
    hash {_T} NOT NULL,
    user_id {_T}, agent_id {_T}, run_id {_T},
    token {_T},
    result {_T},
    created_at {_T} NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX requests_created ON requests (tenant, created_at);
CREATE INDEX requests_user ON requests (tenant, user_id);
"""
"""Version 2: the answers of ``add(idempotency_key=...)`` (``memlane.store.postgres.requests``):
one row per key, claimed (``token``) before the work and given its ``result`` (JSON text) in the
work's transaction; forgotten once older than the configured time."""

STORE_STEPS: list[str] = [_V1, _V2]

STORE_TABLES = (
    "meta", "memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots",
    "pending", "requests",
)  # fmt: skip
"""Every table of the ``store`` component."""
