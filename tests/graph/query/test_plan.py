"""``QueryPlan``: what the model may ask the SQLite graph for, bounded and validated."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from memlane.graph.query import MAX_HOPS, QueryPlan
from memlane.llm.schema import response_schema


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"start": []},
        {"start": ["  "]},
        {"start": ["x"] * 6},
        {"start": ["a"], "hops": 0},
        {"start": ["a"], "hops": MAX_HOPS + 1},
        {"start": ["a"], "direction": "sideways"},
        {"start": ["a"], "relationships": ["r"] * 11},
        {"start": ["a" * 101]},
        {"start": ["a"], "end_types": ["t"] * 6},
    ],
)
def test_out_of_bounds_plans_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        QueryPlan.model_validate(bad)


def test_a_plan_cannot_carry_a_scope_and_names_are_cleaned() -> None:
    plan = QueryPlan.model_validate(
        {"start": [" Acme  Corp ", "Acme Corp"], "user_id": "bob", "agent_id": "x", "hops": 2}
    )
    assert plan.start == ["Acme Corp"] and plan.hops == 2
    assert "user_id" not in plan.model_dump()


def test_every_array_and_string_is_bounded_in_the_schema() -> None:
    schema = response_schema(QueryPlan).schema
    for name in ("start", "relationships", "end_names", "end_types"):
        field = schema["properties"][name]
        assert field["maxItems"] >= 1 and field["items"]["maxLength"] >= 1, name
    assert schema["properties"]["hops"]["maximum"] == MAX_HOPS
