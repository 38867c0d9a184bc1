"""The ``search`` component's PostgreSQL schema (``SEARCH_STEPS``, applied by ``schema.migrate``)."""

from __future__ import annotations

from memlane.store.postgres.search_fts import FTS_STEP, TEXT_INDEX

__all__ = ["SEARCH_STEPS"]

_V1 = (
    FTS_STEP
    + """
CREATE TABLE memory_search (
    tenant TEXT COLLATE "C" NOT NULL,
    memory_id TEXT COLLATE "C" NOT NULL,
    terms tsvector NOT NULL,
    length INTEGER NOT NULL,
    embedding vector,
    PRIMARY KEY (tenant, memory_id)
);
CREATE INDEX memory_search_terms ON memory_search USING gin (terms);
CREATE TABLE memory_search_totals (
    tenant TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    rows BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
"""
)
_V2 = (
    """
DO $$ DECLARE name TEXT; BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND indexname LIKE 'memory\\_search\\_hnsw\\_%'
    LOOP EXECUTE format('DROP INDEX %I', name); END LOOP;
END $$;
CREATE TABLE memory_search_text (
    tenant TEXT COLLATE "C" NOT NULL,
    memory_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C", agent_id TEXT COLLATE "C", run_id TEXT COLLATE "C",
    length INTEGER NOT NULL,
    terms tsvector NOT NULL,
    created_at TEXT COLLATE "C", seq BIGINT,
    PRIMARY KEY (tenant, memory_id)
);
INSERT INTO memory_search_text (tenant, memory_id, user_id, agent_id, run_id, length, terms, created_at, seq)
    SELECT s.tenant, s.memory_id, m.user_id, m.agent_id, m.run_id, s.length, s.terms, m.created_at, m.seq
    FROM memory_search s JOIN memories m ON m.tenant = s.tenant AND m.id = s.memory_id;
ALTER TABLE memory_search DROP COLUMN terms, ADD COLUMN user_id TEXT COLLATE "C",
    ADD COLUMN agent_id TEXT COLLATE "C", ADD COLUMN run_id TEXT COLLATE "C";
UPDATE memory_search s SET user_id = m.user_id, agent_id = m.agent_id, run_id = m.run_id
    FROM memories m WHERE m.tenant = s.tenant AND m.id = s.memory_id;
"""
    + TEXT_INDEX
    + """;
CREATE INDEX memory_search_text_user ON memory_search_text (tenant, user_id);
CREATE INDEX memory_search_text_agent ON memory_search_text (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX memory_search_text_run ON memory_search_text (tenant, run_id) WHERE run_id IS NOT NULL;
CREATE INDEX memory_search_text_user_recent ON memory_search_text
    (tenant, user_id, created_at DESC, seq DESC);
CREATE INDEX memory_search_text_agent_recent ON memory_search_text
    (tenant, agent_id, created_at DESC, seq DESC) WHERE agent_id IS NOT NULL;
CREATE INDEX memory_search_text_run_recent ON memory_search_text
    (tenant, run_id, created_at DESC, seq DESC) WHERE run_id IS NOT NULL;
CREATE INDEX memory_search_user ON memory_search (tenant, user_id);
CREATE INDEX memory_search_agent ON memory_search (tenant, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX memory_search_run ON memory_search (tenant, run_id) WHERE run_id IS NOT NULL;
"""
)
SEARCH_STEPS: list[str] = [_V1, _V2]
"""Version 1: the text search configuration, ``memory_search`` and its GIN index, and
``memory_search_totals``: changes of each tenant's number of indexed memories and of their
tokens (BM25's average length), appended by every write (no row that every writer updates),
summed by the readers, and folded into one row now and then. Version 2: the terms move to
``memory_search_text`` (narrow rows: BM25 reads many of them, and each of ``memory_search``'s
rows holds a vector; the memory's ``created_at`` and ``seq`` beside them, for BM25's "most
recent" fill, read in that order through the ``*_recent`` indexes), and both tables carry the
memory's scope (``user_id``, ``agent_id``, ``run_id``, indexed with the tenant first), so a
scoped search reads one of them alone (``search_scope``). Filling the new columns rewrites
``memory_search``: its HNSW indexes are dropped first (re-inserting every row into them would
take far longer than building them again) and ``prepare_dimension`` builds them again when a
store next opens the database."""
