"""The PostgreSQL graph's tables: migration component ``graph`` (``schema.migrate``).

- ``graph_entities``: one row per entity, with its name vector (pgvector, any dimension: the
  scope's entities are scored exactly, so no fixed size is needed).
- ``graph_names``: each entity's normalised name and aliases, for exact matches.
- ``graph_relations``: the edges, with both clocks and their mention count.
- ``graph_relation_memories``: the memories that support each relation, in the order they came.

Every table carries ``tenant`` as the first column of its primary key and of every index, and
every foreign key includes it, so the tables can be distributed (Citus) or partitioned by tenant
with no change. Text that is compared or sorted (ids, names, ISO timestamps) uses the ``C``
collation: byte order, the same on every server, whatever its locale.
"""

from __future__ import annotations

__all__ = ["GRAPH_COMPONENT", "GRAPH_STEPS", "GRAPH_TABLES"]

GRAPH_COMPONENT = "graph"

GRAPH_TABLES = ("graph_relation_memories", "graph_relations", "graph_names", "graph_entities")
"""Children first: the order to delete in."""

_V1 = """
CREATE TABLE graph_entities (
    tenant TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    scope_key TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C", agent_id TEXT COLLATE "C", run_id TEXT COLLATE "C",
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT '',
    aliases TEXT[] NOT NULL DEFAULT '{}',
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    embedding vector,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX graph_entities_scope ON graph_entities (tenant, scope_key, seq);
CREATE INDEX graph_entities_user ON graph_entities (tenant, user_id);
CREATE INDEX graph_entities_agent ON graph_entities (tenant, agent_id);
CREATE INDEX graph_entities_run ON graph_entities (tenant, run_id);

CREATE TABLE graph_names (
    tenant TEXT COLLATE "C" NOT NULL,
    scope_key TEXT COLLATE "C" NOT NULL,
    norm TEXT COLLATE "C" NOT NULL,
    entity_id TEXT COLLATE "C" NOT NULL,
    is_alias BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, scope_key, norm, entity_id),
    FOREIGN KEY (tenant, entity_id) REFERENCES graph_entities (tenant, id) ON DELETE CASCADE
);
CREATE INDEX graph_names_norm ON graph_names (tenant, norm);
CREATE INDEX graph_names_entity ON graph_names (tenant, entity_id);

CREATE TABLE graph_relations (
    tenant TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    scope_key TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C", agent_id TEXT COLLATE "C", run_id TEXT COLLATE "C",
    source_id TEXT COLLATE "C" NOT NULL,
    relationship TEXT COLLATE "C" NOT NULL,
    destination_id TEXT COLLATE "C" NOT NULL,
    valid_from TEXT COLLATE "C", valid_to TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    invalidated_at TEXT COLLATE "C",
    mentions INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, source_id) REFERENCES graph_entities (tenant, id),
    FOREIGN KEY (tenant, destination_id) REFERENCES graph_entities (tenant, id)
);
CREATE INDEX graph_relations_source ON graph_relations (tenant, source_id, relationship, destination_id);
CREATE INDEX graph_relations_destination ON graph_relations (tenant, destination_id);
CREATE INDEX graph_relations_user ON graph_relations (tenant, user_id, created_at);
CREATE INDEX graph_relations_agent ON graph_relations (tenant, agent_id, created_at);
CREATE INDEX graph_relations_run ON graph_relations (tenant, run_id, created_at);

CREATE TABLE graph_relation_memories (
    tenant TEXT COLLATE "C" NOT NULL,
    relation_id TEXT COLLATE "C" NOT NULL,
    memory_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (tenant, relation_id, memory_id),
    FOREIGN KEY (tenant, relation_id) REFERENCES graph_relations (tenant, id) ON DELETE CASCADE
);
CREATE INDEX graph_relation_memories_memory ON graph_relation_memories (tenant, memory_id);
"""

GRAPH_STEPS: tuple[str, ...] = (_V1,)
"""Step ``i`` moves the ``graph`` component from version ``i`` to ``i + 1``."""
