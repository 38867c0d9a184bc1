from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from memlane.llm.schema import response_schema, schema_instruction
from memlane.llm.structured import add_system_text

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
