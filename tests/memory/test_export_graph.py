"""The graph in export and import: ``entity`` and ``relation`` records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memlane import InvalidInputError
from memlane.models import Scope
from tests.memory._copies import export_lines, fill, graph_memory
from tests.memory.test_erase import hash_memory

ALICE = Scope(user_id="alice")


def test_export_holds_the_graph_and_import_restores_it(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "a.db") as m:
        fill(m)
        lines = export_lines(m, tmp_path / "a.jsonl")
        relations = m.graph.list_relations(ALICE, include_invalidated=True) if m.graph else []
    kinds = [json.loads(line)["kind"] for line in lines[1:]]
    assert kinds.count("entity") == 4 and kinds.count("relation") == 3
    with graph_memory(tmp_path / "b.db") as n:
        counts = n.import_data(tmp_path / "a.jsonl")
        assert counts["entity"] == 4 and counts["relation"] == 3
        assert n.graph is not None and n.graph.list_relations(ALICE, include_invalidated=True) == relations
        assert export_lines(n, tmp_path / "b.jsonl") == lines


def test_a_graph_export_into_a_memory_without_the_graph_is_refused_unchanged(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "a.db") as m:
        fill(m)
        m.export(tmp_path / "a.jsonl")
    with hash_memory(tmp_path / "flat.db") as flat:
        with pytest.raises(InvalidInputError, match="enable_graph"):
            flat.import_data(tmp_path / "a.jsonl")
        assert flat.get_all(user_id="alice")["results"] == []


def test_an_export_without_graph_records_loads_into_a_graph_memory(tmp_path: Path) -> None:
    with hash_memory(tmp_path / "old.db") as old:
        old.add("alice likes tea", user_id="alice")
        old.export(tmp_path / "old.jsonl")
    with graph_memory(tmp_path / "new.db") as m:
        counts = m.import_data(tmp_path / "old.jsonl")
        assert counts["memory"] == 1 and "entity" not in counts
        assert m.graph is not None and m.graph.list_relations(ALICE) == []
