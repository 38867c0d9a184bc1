"""make_plan: the model's operations turned into a safe plan, whatever the model said."""

from __future__ import annotations

from typing import Any

import pytest

from memlane.errors import LLMError
from memlane.memory.write.plan import make_plan
from memlane.models import MemoryRecord, Scope
from memlane.prompts.common import MemoryOp

EXAMPLES = ("Has a cat named Miso",)


def record(text: str, mid: str) -> MemoryRecord:
    return MemoryRecord(id=mid, text=text, scope=Scope("u"), created_at="t", updated_at="t")


def ops(*items: dict[str, Any]) -> list[MemoryOp]:
    return [MemoryOp.model_validate(item) for item in items]


SHOWN = {"0": record("Lives in Delhi", "uuid-0"), "1": record("Likes cricket", "uuid-1")}


def test_add_update_delete_none() -> None:
    plan = make_plan(
        ops(
            {"event": "ADD", "text": "Is vegetarian"},
            {"event": "UPDATE", "id": "1", "text": "Loves cricket with friends"},
            {"event": "DELETE", "id": "0", "text": "Lives in Bangalore"},
        ),
        SHOWN,
    )
    assert plan.adds == ["Is vegetarian", "Lives in Bangalore"]
    assert [(r.id, t) for r, t in plan.updates] == [("uuid-1", "Loves cricket with friends")]
    assert [r.id for r in plan.deletes] == ["uuid-0"]
    assert plan.warnings == []


def test_none_keeps_memory() -> None:
    plan = make_plan(ops({"event": "NONE", "id": "0"}), SHOWN)
    assert [r.id for r in plan.unchanged] == ["uuid-0"]
    assert plan.adds == [] and plan.updates == [] and plan.deletes == []


def test_unknown_id_update_becomes_add_with_warning() -> None:
    plan = make_plan(ops({"event": "UPDATE", "id": "7", "text": "Has a dog"}), SHOWN)
    assert plan.adds == ["Has a dog"]
    assert plan.updates == []
    assert "unknown id" in plan.warnings[0]


@pytest.mark.parametrize("bad_id", ["7", "uuid-0", "", " 0x", "-1", "00"])
def test_hallucinated_ids_never_touch_memories(bad_id: str) -> None:
    plan = make_plan(
        ops({"event": "DELETE", "id": bad_id, "text": ""}, {"event": "NONE", "id": bad_id}), SHOWN
    )
    assert plan.deletes == [] and plan.unchanged == [] and plan.adds == []


def test_delete_without_text_only_invalidates() -> None:
    plan = make_plan(ops({"event": "DELETE", "id": "0", "text": ""}), SHOWN)
    assert [r.id for r in plan.deletes] == ["uuid-0"]
    assert plan.adds == []


def test_second_operation_on_same_memory_is_a_new_fact() -> None:
    plan = make_plan(
        ops(
            {"event": "UPDATE", "id": "0", "text": "Lives in Pune"},
            {"event": "DELETE", "id": "0", "text": "Lives in Goa"},
        ),
        SHOWN,
    )
    assert [t for _, t in plan.updates] == ["Lives in Pune"]
    assert plan.deletes == []
    assert plan.adds == ["Lives in Goa"]


def test_repeated_and_known_facts_are_dropped() -> None:
    plan = make_plan(
        ops(
            {"event": "ADD", "text": "Is vegetarian"},
            {"event": "ADD", "text": "is vegetarian."},
            {"event": "ADD", "text": "Likes cricket"},
            {"event": "ADD", "text": "  "},
        ),
        SHOWN,
    )
    assert plan.adds == ["Is vegetarian"]


def test_update_to_same_text_is_unchanged() -> None:
    plan = make_plan(ops({"event": "UPDATE", "id": "1", "text": "likes cricket."}), SHOWN)
    assert plan.updates == []
    assert [r.id for r in plan.unchanged] == ["uuid-1"]


def test_copied_examples_are_never_stored() -> None:
    plan = make_plan(
        ops({"event": "ADD", "text": "Has a cat named Miso"}, {"event": "ADD", "text": "Owns a bike"}),
        SHOWN,
        example_texts=EXAMPLES,
    )
    assert plan.adds == ["Owns a bike"]
    assert "copied" in plan.warnings[0]


def test_output_made_only_of_copies_is_an_error() -> None:
    with pytest.raises(LLMError, match="copied the prompt's example"):
        make_plan(ops({"event": "ADD", "text": "has a cat named miso."}), SHOWN, example_texts=EXAMPLES)


def test_new_texts_orders_adds_then_updates() -> None:
    plan = make_plan(
        ops(
            {"event": "UPDATE", "id": "1", "text": "Loves cricket"},
            {"event": "ADD", "text": "Is vegetarian"},
        ),
        SHOWN,
    )
    assert plan.new_texts() == ["Is vegetarian", "Loves cricket"]
