"""``Memory.graph_query`` end to end against a real llama.cpp server (gemma-3-270m).

The model is tiny: its query may be poor. These tests check the protocol, not the model: the
plan (SQLite graph) and the Cypher (FalkorDB) come back through grammar-constrained structured
output, the answer is a ``GraphQueryResult`` whose citations are relations of the scope, or the
call fails with a typed ``LLMError``, never another exception, never an answer outside the
scope, and at most four requests are made (two queries, each with at most one repair).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

import pytest

from memlane import GraphQueryResult, LLMError, Memory
from memlane.store.falkordb.graph import FalkorDBGraphStore
from tests.graph.query.data import BOB_ONLY, fill
from tests.llama_server import LlamaServer
from tests.memory.write.test_infer_llama import memory_config

pytestmark = pytest.mark.integration

QUESTION = "Which city is the company alice works at located in?"


def ask(memory: Memory) -> GraphQueryResult | None:
    assert memory.graph is not None
    fill(memory.graph)
    before = memory.llm_usage.calls
    try:
        found = memory.graph_query(QUESTION, user_id="alice")
    except LLMError as exc:
        assert str(exc)
        found = None
    assert 1 <= memory.llm_usage.calls - before <= 4
    return found


def check(found: GraphQueryResult | None) -> None:
    if found is None:
        return
    known = {r["id"]: r for r in found["relations"]}
    assert set(found["citations"]) == set(known)
    assert all(r["user_id"] == "alice" for r in known.values())
    assert not any(name in str(found["rows"]) for name in BOB_ONLY)


def test_a_plan_from_a_real_model(tmp_path: Path, llama: LlamaServer) -> None:
    memory = Memory(memory_config(tmp_path, llama, enable_graph=True))
    try:
        found = ask(memory)
        check(found)
        if found is not None:
            assert found["dialect"] == "plan" and isinstance(found["model_query"], dict)
    finally:
        memory.close()


def test_cypher_from_a_real_model(tmp_path: Path, llama: LlamaServer, falkordb_socket: str) -> None:
    graph: dict[str, Any] = {
        "provider": "falkordb",
        "config": {"unix_socket_path": falkordb_socket, "graph_name": f"gq-{uuid.uuid4().hex}"},
    }
    memory = Memory(memory_config(tmp_path, llama, graph_store=graph))
    try:
        found = ask(memory)
        check(found)
        if found is not None:
            assert found["dialect"] == "cypher" and "{user_id: $user_id}" in found["query"]
    finally:
        cast(FalkorDBGraphStore, memory.graph).drop()
        memory.close()
