"""The JSON schema a response model is sent as, in every structured-output mode.

The schema keeps the model's bounds (``maxItems``, ``maxLength``…): small models loop until
``max_tokens`` unless every array and string is bounded, and grammar-constrained servers
(llama.cpp) enforce them.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = ["ResponseSchema", "response_schema", "schema_instruction"]

_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class ResponseSchema:
    """A response model's name (safe as a tool/schema name), its JSON schema, and strictness."""

    name: str
    schema: dict[str, Any]
    strict: bool
    """True when OpenAI's strict mode can take the schema unchanged (every property required)."""

    def strict_schema(self) -> dict[str, Any]:
        """The schema with ``additionalProperties: false`` on every object (strict mode wants it)."""
        schema = copy.deepcopy(self.schema)
        for node in _objects(schema):
            node.setdefault("additionalProperties", False)
        return schema


def response_schema(model: type[BaseModel]) -> ResponseSchema:
    """The schema of ``model`` with local ``$ref``s inlined (unless recursive)."""
    raw = model.model_json_schema()
    schema = _inline(raw)
    name = _NAME_CHARS.sub("_", model.__name__)[:64] or "response"
    strict = all(_strict_ok(node) for node in _objects(schema))
    return ResponseSchema(name=name, schema=schema, strict=strict)


def schema_instruction(schema: ResponseSchema) -> str:
    """The text that describes the expected JSON to a model whose output is not constrained."""
    return (
        "Answer with one JSON object only (no prose, no code fences) that matches this JSON schema; "
        "keep within its maxItems and maxLength limits:\n"
        + json.dumps(schema.schema, ensure_ascii=False, separators=(",", ":"))
    )


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = schema.get("$defs", {})
    if not defs:
        return schema

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref.removeprefix("#/$defs/")
            if key in seen or key not in defs:
                raise _RecursiveSchemaError
            merged = {**defs[key], **{k: v for k, v in node.items() if k != "$ref"}}
            return resolve(merged, (*seen, key))
        return {k: resolve(v, seen) for k, v in node.items() if k != "$defs"}

    try:
        result: dict[str, Any] = resolve(schema, ())
    except _RecursiveSchemaError:
        return schema
    return result


def _strict_ok(node: dict[str, Any]) -> bool:
    every_required = set(node.get("properties", {})) <= set(node.get("required", []))
    return every_required and node.get("additionalProperties", False) is False


class _RecursiveSchemaError(Exception):
    pass


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema (a dict with ``properties``) inside ``node``."""
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "object" or "properties" in item:
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
