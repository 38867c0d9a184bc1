"""The ``postgres`` and ``pgvector`` vector_store providers: memlane's and mem0's config fields,
the tenant, URLs built from mem0's parts, passwords never shown, a missing extra."""

from __future__ import annotations

import logging
import sys
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from memlane import Memory
from memlane.config import MemoryConfig
from memlane.errors import ConfigError, MissingDependencyError
from memlane.store.postgres import search
from memlane.store.postgres.provider import HnswConfig, PostgresStoreConfig

SECRET = "s3cr3t-pa55"


def parse(**fields: Any) -> PostgresStoreConfig:
    return PostgresStoreConfig.model_validate(fields)


def test_memlane_fields() -> None:
    config = parse(url="postgresql://u@db.local/mem", tenant="acme", min_size=2, max_size=5)
    assert config.resolved_url() == "postgresql://u@db.local/mem"
    assert config.resolved_tenant() == "acme"


def test_mem0_connection_string_and_collection_name() -> None:
    config = parse(
        connection_string="postgresql://u:p@h/db", collection_name="mem0_prod", embedding_model_dims=8
    )
    assert config.resolved_url() == "postgresql://u:p@h/db"
    assert config.resolved_tenant() == "mem0_prod"
    assert parse(url="postgresql://h/db", collection_name="c1", tenant="t1").resolved_tenant() == "t1"
    assert parse(url="postgresql://h/db").resolved_tenant() == "default"


def test_mem0_parts_make_a_url() -> None:
    config = parse(
        dbname="mem", user="me", password="p@ss:/word", host="db.local", port=5433, sslmode="require"
    )
    assert config.resolved_url() == "postgresql://me:p%40ss%3A%2Fword@db.local:5433/mem?sslmode=require"
    socket = parse(dbname="mem", user="me", host="/var/run/postgresql", port=5432)
    assert socket.resolved_url() == "postgresql://me@/mem?host=%2Fvar%2Frun%2Fpostgresql&port=5432"


def test_mem0_pool_and_index_fields_are_accepted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="memlane"):
        config = parse(url="postgresql://h/db", minconn=2, maxconn=4, hnsw=True, diskann=True)
    assert (config.minconn, config.maxconn, config.hnsw) == (2, 4, True)
    assert "diskann" in caplog.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give url"),
        ({"url": "postgresql://h/db", "connection_string": "postgresql://h/db"}, "not both"),
        ({"url": "postgresql://h/db", "host": "h"}, "not both"),
        ({"url": "postgresql://h/db", "tenant": "Acme"}, "invalid tenant"),
        ({"url": "postgresql://h/db", "collection_name": "Mem0 Collection"}, "invalid tenant"),
        ({"url": "postgresql://h/db", "connection_pool": object()}, "connection_pool"),
        ({"url": "postgresql://h/db", "nonsense": 1}, "nonsense"),
    ],
)
def test_bad_configs_say_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PostgresStoreConfig.model_validate(fields)


def test_the_password_is_never_shown() -> None:
    url = f"postgresql://me:{SECRET}@db.local/mem"
    for config in (parse(url=url), parse(connection_string=url), parse(host="h", password=SECRET)):
        assert SECRET not in repr(config)
        assert SECRET not in str(config)
    with pytest.raises(ValidationError) as info:
        parse(url=url, tenant="Bad Tenant")
    assert SECRET not in str(info.value)
    loaded = MemoryConfig.load(
        {"vector_store": {"provider": "pgvector", "config": {"connection_string": url}}}
    )
    assert SECRET not in repr(loaded)


def test_a_bad_config_through_memory_is_a_config_error() -> None:
    url = f"postgresql://me:{SECRET}@db.local/mem"
    with pytest.raises(ConfigError) as info:
        Memory({"vector_store": {"provider": "postgres", "config": {"url": url, "tenant": "No Way"}}})
    assert "tenant" in str(info.value) and SECRET not in str(info.value)


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "memlane.store.postgres.store", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    section = MemoryConfig.load(
        {"vector_store": {"provider": "postgres", "config": {"url": "postgresql://h/db"}}}
    ).vector_store
    with pytest.raises(MissingDependencyError, match=r"memlane\[postgres\]"):
        section.build()


@pytest.mark.integration
def test_a_mem0_pgvector_config_opens_the_collection_as_a_tenant(postgres_url: str) -> None:
    base = {"embedder": {"provider": "hash", "config": {"embedding_dims": 16}}}

    def memory(collection: str) -> Memory:
        config = {
            "connection_string": postgres_url,
            "collection_name": collection,
            "embedding_model_dims": 16,
        }
        return Memory({**base, "vector_store": {"provider": "pgvector", "config": config}})

    first, second = memory("one"), memory("two")
    try:
        first.add("alice likes green tea", user_id="alice", infer=False)
        assert len(first.get_all(user_id="alice")["results"]) == 1
        assert second.get_all(user_id="alice")["results"] == []
    finally:
        first.close()
        second.close()


def test_mem0_hnsw_option_takes_a_flag_or_the_index_parameters() -> None:
    assert parse(url="postgresql://h/db", hnsw=False).hnsw is False
    config = parse(url="postgresql://h/db", hnsw={"m": 8, "ef_construction": 32, "ef_search": 300})
    assert config.hnsw == HnswConfig(m=8, ef_construction=32, ef_search=300)
    for bad in ({"m": 1}, {"m": 32, "ef_construction": 40}, {"ef_search": 0}, {"ef": 10}):
        with pytest.raises(ValidationError):
            parse(url="postgresql://h/db", hnsw=bad)


@pytest.mark.integration
def test_the_hnsw_option_reaches_the_index_and_the_searches(postgres_url: str) -> None:
    """m and ef_construction build the index; ef_search is set for the searches; false: no index."""
    base = {"embedder": {"provider": "hash", "config": {"embedding_dims": 16}}}

    def memory(collection: str, hnsw: Any) -> Memory:
        config = {"connection_string": postgres_url, "collection_name": collection, "hnsw": hnsw}
        return Memory({**base, "vector_store": {"provider": "pgvector", "config": config}})

    plain = memory("plain", False)
    try:
        plain.add("alice likes green tea", user_id="alice", infer=False)
        assert plain.search("tea", user_id="alice")["results"]  # exact, without an index
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute("SELECT to_regclass('memory_search_hnsw_16')").fetchone() == (None,)
    finally:
        plain.close()
    tuned = memory("tuned", {"m": 8, "ef_construction": 32, "ef_search": 300})
    try:
        tuned.add("bob likes black coffee", user_id="bob", infer=False)
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'memory_search_hnsw_16'")
            definition = str(row.fetchone())
        assert "m='8'" in definition and "ef_construction='32'" in definition
        seen: list[str] = []
        original = search.run_last

        def spy(conn: Any, statements: Any) -> Any:
            seen.extend(s.as_string(conn) for s in statements)
            return original(conn, statements)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search, "run_last", spy)
            assert tuned.search("coffee", user_id="bob")["results"]
        assert "SET LOCAL hnsw.ef_search = 300" in seen
    finally:
        tuned.close()
