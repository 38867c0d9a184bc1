from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from memlane.llm.schema import GRAMMAR_MAX_ITEMS, GRAMMAR_MAX_LENGTH, response_schema, schema_instruction
from memlane.llm.structured import add_system_text
from memlane.prompts.procedural import ProceduralSummary

from .response_models import RESPONSE_MODELS

Short = Annotated[str, StringConstraints(max_length=80)]


class Item(BaseModel):
    text: Short
    ids: list[str] = Field(max_length=4)


class Update(BaseModel):
    items: list[Item] = Field(max_length=10)
    note: str | None = None


class Strict(BaseModel):
    items: list[Item] = Field(max_length=10)


class Tree(BaseModel):
    label: str
    children: list[Tree] = Field(default_factory=list, max_length=3)


def test_bounds_survive_and_refs_are_inlined() -> None:
    schema = response_schema(Update).schema
    assert "$defs" not in schema and "$ref" not in str(schema)
    items = schema["properties"]["items"]
    assert items["maxItems"] == 10
    assert items["items"]["properties"]["text"]["maxLength"] == 80
    assert items["items"]["properties"]["ids"]["maxItems"] == 4


def test_strictness_follows_required_fields() -> None:
    assert not response_schema(Update).strict  # ``note`` is optional
    strict = response_schema(Strict)
    assert strict.strict
    body = strict.strict_schema()
    assert body["additionalProperties"] is False
    assert body["properties"]["items"]["items"]["additionalProperties"] is False
    assert "additionalProperties" not in strict.schema  # the plain schema is left alone


def test_recursive_models_keep_their_refs() -> None:
    schema = response_schema(Tree).schema
    assert "$defs" in schema


def test_names_are_safe_for_tools() -> None:
    class Weird(BaseModel):
        x: int

    Weird.__name__ = "Weird name!"
    assert response_schema(Weird).name == "Weird_name_"


def test_schema_instruction_and_system_text() -> None:
    text = schema_instruction(response_schema(Strict))
    assert "JSON" in text and '"maxItems":10' in text
    assert add_system_text([{"role": "user", "content": "hi"}], "S") == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "hi"},
    ]
    merged = add_system_text([{"role": "system", "content": [{"type": "text", "text": "A"}]}], "S")
    assert merged[0]["content"][-1] == {"type": "text", "text": "S"}


def _bounds(node: Any, found: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("maxLength", "minLength", "maxItems", "minItems") and isinstance(value, int):
                found.append((key, value))
            elif key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    _bounds(sub, found)
            else:
                _bounds(value, found)
    elif isinstance(node, list):
        for item in node:
            _bounds(item, found)
    return found


@pytest.mark.parametrize("name", sorted(RESPONSE_MODELS))
def test_every_response_schema_stays_within_grammar_limits(name: str) -> None:
    schema = response_schema(RESPONSE_MODELS[name])
    for sent in (schema.schema, schema.strict_schema()):
        for key, value in _bounds(sent, []):
            limit = GRAMMAR_MAX_LENGTH if key.endswith("Length") else GRAMMAR_MAX_ITEMS
            assert value <= limit, (name, key, value)


def test_large_bounds_are_left_to_validation() -> None:
    summary = response_schema(ProceduralSummary).schema["properties"]["summary"]
    assert "maxLength" not in summary and summary["minLength"] == 1  # 8000 crashed llama.cpp
    assert ProceduralSummary(summary="x" * 8000).summary
    with pytest.raises(ValidationError):
        ProceduralSummary(summary="x" * 8001)

    class Limits(BaseModel):
        maxLength: Annotated[str, StringConstraints(max_length=GRAMMAR_MAX_LENGTH)]
        long: Annotated[str, StringConstraints(max_length=GRAMMAR_MAX_LENGTH + 1)]
        many: list[int] = Field(min_length=GRAMMAR_MAX_ITEMS + 1, max_length=GRAMMAR_MAX_ITEMS + 5)

    properties = response_schema(Limits).schema["properties"]
    assert properties["maxLength"]["maxLength"] == GRAMMAR_MAX_LENGTH  # a field may be called so
    assert "maxLength" not in properties["long"]
    assert "minItems" not in properties["many"] and "maxItems" not in properties["many"]
