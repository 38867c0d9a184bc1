"""Bad model output through add(): 200+ malformed answers, 0 crashes but LLMError, 0 silent losses
(no memory written after an LLMError; the conversation kept, pending, for reprocess).

Each raw answer is scripted twice (the first reply and the repair reply), so an answer that does
not parse exhausts the repair and must raise ``LLMError`` with nothing written; an answer that
holds a usable value under noise must store exactly its fact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memlane import LLMError, Memory
from memlane.llm import FakeLLM
from memlane.store.sqlite import SQLiteStore
from tests.llm.bad_outputs import CASES
from tests.stress._figures import record

pytestmark = pytest.mark.stress

GOOD = {"memory": [{"event": "ADD", "id": None, "text": "Plays the cello on Sundays"}]}
GOOD_JSON = json.dumps(GOOD)
FACT = "Plays the cello on Sundays"


def corpus() -> list[tuple[str, str, bool]]:
    """(name, raw output, whether it holds the usable answer)."""
    cases: list[tuple[str, str, bool]] = []
    for cut in range(1, len(GOOD_JSON) - 1):
        cases.append((f"truncated_at_{cut}", GOOD_JSON[:cut], False))
    fenced = "```json\n" + GOOD_JSON
    for cut in range(len("```json\n") + 1, len(fenced) - 1, 3):
        cases.append((f"fenced_truncated_at_{cut}", fenced[:cut], False))
    wrappers = {
        "fence": "```json\n{}\n```",
        "fence_bare": "```\n{}\n```",
        "prose": "Sure! Here is the JSON: {} Hope it helps.",
        "think": "<think>the user plays an instrument</think>{}",
        "think_fence": "<think>hmm</think>\n```json\n{}\n```",
        "leading_space": "\n\n   {}  \n",
        "trailing_prose": "{}\n\nLet me know if you need anything else!",
    }
    for name, template in wrappers.items():
        cases.append((f"wrapped_{name}", template.replace("{}", GOOD_JSON), True))
    wrong: dict[str, Any] = {
        "wrong_top_key": {"memories": GOOD["memory"]},
        "event_lowercase_bad": {"memory": [{"event": "add it", "text": FACT}]},
        "text_not_string": {"memory": [{"event": "ADD", "text": 42}]},
        "memory_not_list": {"memory": {"event": "ADD", "text": FACT}},
        "memory_null": {"memory": None},
        "too_many_items": {"memory": [{"event": "ADD", "text": f"fact {i}"} for i in range(40)]},
        "text_too_long": {"memory": [{"event": "ADD", "text": "x" * 2000}]},
        "id_too_long": {"memory": [{"event": "UPDATE", "id": "0" * 50, "text": FACT}]},
        "empty_object": {},
        "list_instead": [GOOD],
        "string_instead": "ADD: Plays the cello",
        "number_instead": 7,
    }
    for name, value in wrong.items():
        cases.append((name, json.dumps(value), False))
    for name in ("empty", "whitespace", "null", "true", "nan_text"):
        raw = {"empty": "", "whitespace": "   \n ", "null": "null", "true": "true", "nan_text": "NaN"}[name]
        cases.append((name, raw, False))
    cases += [(f"corpus_{c.name}", c.raw, False) for c in CASES]  # answers in another shape
    return cases


def rows(memory: Memory) -> tuple[int, ...]:
    """Counts of memories, history rows, kept messages and pending adds."""
    assert isinstance(memory.store, SQLiteStore)
    return tuple(
        memory.store.execute(f"SELECT count(*) FROM {t}")[0][0]
        for t in ("memories", "history", "messages", "pending")
    )


def test_bad_model_output_is_loud_and_never_partial(tmp_path: Path) -> None:
    cases = corpus()
    assert len(cases) >= 200
    crashes: list[str] = []
    losses: list[str] = []
    raised = stored = 0
    memory = Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": 32}},
            "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
        },
    )
    for index, (name, raw, usable) in enumerate(cases):
        memory.llm = FakeLLM([raw, raw])
        before = rows(memory)
        try:
            out = memory.add("I play the cello every Sunday", user_id=f"u{index}")
        except LLMError:
            raised += 1
            memories, history, messages, pending = rows(memory)
            if (memories, history) != before[:2]:
                losses.append(f"{name}: partial write after LLMError")
            if (messages, pending) != (before[2] + 1, before[3] + 1):
                losses.append(f"{name}: the conversation was not kept for reprocess after LLMError")
            if usable:
                losses.append(f"{name}: a usable answer was rejected")
        except Exception as exc:  # noqa: BLE001 - any other exception is what this test counts
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            stored += 1
            texts = [r["memory"] for r in out["results"]]
            if usable and texts != [FACT]:
                losses.append(f"{name}: stored {texts!r}")
    record(
        "bad_model_output",
        f"{len(cases)} malformed or noisy model answers through add(): {stored} stored, "
        f"{raised} raised LLMError, {len(crashes)} other exceptions, {len(losses)} silent losses",
        {
            "cases": len(cases),
            "stored": stored,
            "llm_errors": raised,
            "crashes": len(crashes),
            "losses": len(losses),
        },
        ok=not crashes and not losses,
    )
    assert crashes == []
    assert losses == []
