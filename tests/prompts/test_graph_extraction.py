"""What the LLM fills: bounded models, the prompt paragraph and the classic pipeline's call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from memlane.prompts.graph_extraction import (
    GRAPH_INSTRUCTIONS,
    MAX_RELATIONS,
    GraphExtraction,
    GraphFields,
    build_messages,
)


def _bounded(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """Every array has maxItems and every string maxLength (small models loop otherwise)."""
    if "$ref" in schema:
        _bounded(defs[schema["$ref"].split("/")[-1]], defs)
    for option in schema.get("anyOf", []):
        _bounded(option, defs)
    if schema.get("type") == "array":
        assert "maxItems" in schema
        _bounded(schema["items"], defs)
    if schema.get("type") == "string":
        assert "maxLength" in schema
    for prop in schema.get("properties", {}).values():
        _bounded(prop, defs)


def test_the_response_schema_is_bounded() -> None:
    schema = GraphExtraction.model_json_schema()
    _bounded(schema, schema["$defs"])


def test_a_single_call_model_can_inherit_the_graph_fields() -> None:
    class SingleCall(GraphFields):
        memory: list[str] = Field(default_factory=list, max_length=5)

    answer = SingleCall.model_validate_json(
        json.dumps(
            {
                "memory": ["Works at Acme"],
                "entities": [{"name": "Acme", "type": "organization", "extra": 1}],
                "relations": [{"source": "user", "relationship": "works_at", "destination": "Acme"}],
            }
        )
    )
    assert answer.relations[0].replaces is False and answer.relations[0].since is None
    assert isinstance(answer, BaseModel) and answer.entities[0].name == "Acme"


def test_oversized_answers_are_rejected() -> None:
    item = {"source": "a", "relationship": "r", "destination": "b"}
    with pytest.raises(ValidationError):
        GraphExtraction.model_validate({"relations": [item] * (MAX_RELATIONS + 1)})
    with pytest.raises(ValidationError):
        GraphExtraction.model_validate({"relations": [{**item, "source": "x" * 101}]})


def test_instructions_are_short_and_say_how_to_fill_the_fields() -> None:
    assert len(GRAPH_INSTRUCTIONS.split()) < 150
    for word in ('"user"', "snake_case", '"replaces"', '"ended"', '"since"'):
        assert word in GRAPH_INSTRUCTIONS


def test_classic_messages() -> None:
    messages = build_messages(
        "user: I moved to Pune", "alice", observation_date="2026-01-02", custom_prompt="Be brief"
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "alice" in messages[0]["content"] and "Be brief" in messages[0]["content"]
    assert '{"entities": [{"name"' in messages[0]["content"]
    assert messages[1]["content"].startswith("Observation date: 2026-01-02")
    assert "I moved to Pune" in messages[1]["content"]
    assert build_messages("x", "bob")[1]["content"] == "Conversation:\nx"
