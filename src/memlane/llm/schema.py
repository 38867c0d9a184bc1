"""The JSON schema a response model is sent as, in every structured-output mode.

The schema keeps the model's bounds (``maxItems``, ``maxLength``…): small models loop until
``max_tokens`` unless every array and string is bounded, and grammar-constrained servers
(llama.cpp) enforce them.

Up to what grammar engines can build: llama.cpp turns ``maxLength: n`` (and ``maxItems: n``) into
``n`` nested grammar rules; past about 1000 its grammar parser refuses them and
llama-cpp-python's server then segfaults (measured with 0.3.36: ``maxLength`` 1000 builds, 1010
kills the server, and so did the procedural summary's 8000). So a bound above
``GRAMMAR_MAX_LENGTH`` (``GRAMMAR_MAX_ITEMS`` for arrays), well under that limit, is left out of
the schema that is sent, not shortened: the grammar would then cut the answer short unnoticed.
The response model still validates the answer against its full bounds (an answer past them gets
the repair request), and ``max_tokens`` still ends a runaway answer.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = [
    "GRAMMAR_MAX_ITEMS",
    "GRAMMAR_MAX_LENGTH",
    "ResponseSchema",
    "response_schema",
    "schema_instruction",
]

_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")

GRAMMAR_MAX_LENGTH = 500
"""The largest ``maxLength``/``minLength`` sent; larger ones are left to validation."""
GRAMMAR_MAX_ITEMS = 100
"""The largest ``maxItems``/``minItems`` sent; larger ones are left to validation."""
_GRAMMAR_LIMITS = {
    "maxLength": GRAMMAR_MAX_LENGTH,
    "minLength": GRAMMAR_MAX_LENGTH,
    "maxItems": GRAMMAR_MAX_ITEMS,
    "minItems": GRAMMAR_MAX_ITEMS,
}


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
    schema = _grammar_safe(_inline(raw))
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


def _grammar_safe(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the length and item bounds grammar engines cannot build (see above)."""

    def bound(node: Any) -> Any:
        if isinstance(node, list):
            return [bound(item) for item in node]
        if not isinstance(node, dict):
            return node
        kept: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):  # names, not keywords
                kept[key] = {name: bound(sub) for name, sub in value.items()}
            elif not (key in _GRAMMAR_LIMITS and isinstance(value, int) and value > _GRAMMAR_LIMITS[key]):
                kept[key] = bound(value)
        return kept

    result: dict[str, Any] = bound(schema)
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
