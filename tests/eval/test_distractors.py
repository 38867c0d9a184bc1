"""Distractors for the load matrix: deterministic, never evidence, observed over the span."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memlane import InvalidInputError, Memory
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.distractors import BLOCK, distractor_levels, distractors, speakers
from memlane.eval.locomo import Conversation
from memlane.eval.report import html_report, matrix_table, table, write_reports
from tests.conftest import hash_config
from tests.eval.test_locomo import sample


def two_conversations(tmp_path: Path) -> list[Conversation]:
    first = sample()[0]
    second = json.loads(json.dumps(first))
    second["sample_id"] = "conv-y"
    for session in ("session_1", "session_2"):
        for turn in second["conversation"][session]:
            turn["speaker"] = {"Ann": "Cleo", "Bob": "Dev"}[turn["speaker"]]
            turn["text"] = "other " + turn["text"]
    path = tmp_path / "two.json"
    path.write_text(json.dumps([first, second]), encoding="utf-8")
    return load_locomo(path)


def test_the_same_seed_gives_the_same_memories(tmp_path: Path) -> None:
    conv, other = two_conversations(tmp_path)
    pool = [conv, other]
    assert distractors(conv, pool, 300, seed=1) == distractors(conv, pool, 300, seed=1)
    assert distractors(conv, pool, 300, seed=1) != distractors(conv, pool, 300, seed=2)
    assert distractors(conv, pool, 300, seed=1)[:120] == distractors(conv, pool, 120, seed=1)  # a prefix
    assert distractors(conv, pool, 300) != distractors(other, pool, 300)  # one stream per conversation
    assert distractors(conv, pool, 0) == []


def test_distractors_are_never_this_conversations_turns(tmp_path: Path) -> None:
    conv, other = two_conversations(tmp_path)
    items = distractors(conv, [conv, other], 400, seed=3)
    own = {t.text for t in conv.turns}
    relabelled = [d for d in items if d.origin != "synthetic"]
    assert {d.origin.split()[0] for d in relabelled} == {"conv-y"}  # other conversations only
    assert len(relabelled) == len(other.turns)  # each once, then synthetic ones only
    assert not any(d.text in own for d in items)
    assert all("dia_id" not in d.metadata for d in items)  # no distractor can be scored as evidence
    assert {d.text.split(": ", 1)[0] for d in items} <= set(speakers(conv))  # relabelled to Ann/Bob
    assert len({d.text for d in items}) > 390  # synthetic turns hardly repeat


def test_distractors_are_observed_over_the_span_in_blocks(tmp_path: Path) -> None:
    conv, other = two_conversations(tmp_path)
    items = distractors(conv, [conv, other], 3 * BLOCK + 7)
    sessions = {t.observed_at for t in conv.turns}
    assert all(min(sessions) <= d.observed_at <= max(sessions) for d in items)
    assert not {d.observed_at for d in items} & sessions
    moments = [items[i].observed_at for i in range(0, len(items), BLOCK)]
    for index, item in enumerate(items):
        assert item.observed_at == moments[index // BLOCK]
    assert len(set(moments)) == len(moments)


def test_levels_are_sorted_once_and_never_negative() -> None:
    assert distractor_levels([1000, 0, 1000, 10]) == [0, 10, 1000]
    assert distractor_levels([]) == [0]
    with pytest.raises(InvalidInputError, match="0 or more"):
        distractor_levels([5, -1])


def test_load_matrix_reports_a_row_per_number(tmp_path: Path) -> None:
    conversations = two_conversations(tmp_path)
    memory = Memory(hash_config(tmp_path / "m.db"))
    calls: list[int] = []
    add = memory.add

    def counting_add(messages: Any, **kwargs: Any) -> Any:
        calls.append(len(messages))
        return add(messages, **kwargs)

    memory.add = counting_add  # type: ignore[method-assign]
    plain = evaluate_locomo(
        Memory(hash_config(tmp_path / "p.db")), conversations[:1], progress=lambda *a: None
    )
    seen: list[tuple[str, int, int]] = []
    result = evaluate_locomo(
        memory,
        conversations[:1],
        distractors=(250, 0, 30),
        pool=conversations,
        progress=lambda *a: seen.append(a),
    )
    assert ("+30", 30, 30) in seen and ("+250", 220, 220) in seen  # each level adds what it lacks
    assert [row["distractors"] for row in result.matrix] == [0, 30, 250]
    assert result.recall == plain.recall and result.matrix[0]["recall"] == plain.recall["overall"]
    assert [row["memories_per_scope"] for row in result.matrix] == [5, 35, 255]
    assert all(row["questions"] == 3 and row["search_ms"]["p50"] >= 0 for row in result.matrix)
    stored = memory.get_all(user_id="conv-x", limit=1000)["results"]
    assert len(stored) == 255 and max(calls) <= BLOCK
    gold = {(m["metadata"] or {}).get("dia_id") for m in stored} - {None}
    assert gold == {t.dia_id for t in conversations[0].turns}  # the distractors carry no dia_id
    assert result.settings["distractors"] == [0, 30, 250]
    text = table(result)
    assert "load matrix" in text and len(matrix_table(result).splitlines()) == 1 + 3
    assert "Load matrix" in html_report(result)
    saved = json.loads(write_reports(result, tmp_path / "r")["json"].read_text(encoding="utf-8"))
    assert [row["distractors"] for row in saved["matrix"]] == [0, 30, 250]


def test_without_distractors_there_is_no_matrix_table(tmp_path: Path) -> None:
    conversations = two_conversations(tmp_path)
    result = evaluate_locomo(Memory(hash_config(tmp_path / "m.db")), conversations, progress=lambda *a: None)
    assert [row["distractors"] for row in result.matrix] == [0]
    assert matrix_table(result) == "" and "load matrix" not in table(result)
