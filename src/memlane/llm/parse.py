"""The one place model output is parsed: text in, a validated pydantic model (or a typed error) out.

``parse_output`` strips ``<think>`` blocks and code fences, finds the JSON value in the prose
around it, repairs what can be repaired safely (trailing commas, single quotes, Python
literals), and validates against the response model. It never returns a partial object:
output cut off mid-JSON raises ``TruncatedOutputError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from memlane.errors import LLMError

__all__ = ["OutputParseError", "ParseFailure", "TruncatedOutputError", "excerpt", "parse_output"]

T = TypeVar("T", bound=BaseModel)
ParseFailure = Literal["empty", "no_json", "invalid_json", "truncated", "validation"]

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
# A bracket that opens JSON (not prose such as "{ for objects" or "[1]" footnotes is still fine).
_JSON_START = re.compile(r"""\{\s*(?:["'}]|[A-Za-z_]\w*\s*:|$)|\[\s*(?:["'\[\]{\-\d]|true|false|null|$)""")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}
_MAX_SPANS = 64
_REASONS: dict[str, str] = {
    "empty": "the model returned no output",
    "no_json": "no JSON object was found in the output",
    "invalid_json": "the output is not valid JSON",
    "truncated": "the output ends before the JSON is complete (cut off by max_tokens?)",
    "validation": "the JSON does not match the expected shape",
}


def excerpt(text: str, limit: int = 200) -> str:
    """A one-line excerpt of ``text`` for error messages: head and tail when it is long."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return repr(flat)
    half = limit // 2
    return f"{flat[:half]!r} … {flat[-half:]!r} ({len(text)} chars)"


class OutputParseError(LLMError):
    """Model output that could not be turned into the response model.

    ``reason`` says what went wrong, ``detail`` carries the JSON or validation message,
    ``raw`` the full output.
    """

    def __init__(self, reason: ParseFailure, detail: str, raw: str, *, prefix: str = "") -> None:
        self.reason: ParseFailure = reason
        self.detail = detail
        self.raw = raw
        super().__init__(f"{prefix}{self.summary}; output: {excerpt(raw)}")

    @property
    def summary(self) -> str:
        """What went wrong, in one line, without the output."""
        return f"{_REASONS[self.reason]}: {self.detail}"

    def with_prefix(self, prefix: str) -> OutputParseError:
        """The same failure, its message starting with ``prefix``."""
        return type(self)(self.reason, self.detail, self.raw, prefix=prefix)


class TruncatedOutputError(OutputParseError):
    """The output stops in the middle of its JSON; no partial object is returned."""


def parse_output(raw: str | None, response_model: type[T]) -> T:
    """Parse model output into ``response_model``.

    Raises ``OutputParseError`` (``TruncatedOutputError`` for unterminated JSON) with the
    JSON or validation message; never returns a partial or silently empty value.
    """
    text = raw or ""
    if not text.strip():
        raise OutputParseError("empty", "the reply is empty", text)
    body = _strip_thinking(text)
    if body is None:
        raise TruncatedOutputError("truncated", "the reply ends inside a <think> block", text)
    if not body.strip():
        raise OutputParseError("empty", "the reply holds only a <think> block", text)
    first_error: OutputParseError | None = None
    for value in _candidates(body, text):
        try:
            return _validate(value, response_model, text)
        except OutputParseError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise OutputParseError("no_json", "expected a JSON object", text)  # pragma: no cover


def _strip_thinking(text: str) -> str | None:
    """``text`` without reasoning blocks; None when the reply never leaves one."""
    text = _THINK.sub("", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:  # a template that opened <think> in the prompt: drop up to the last close
        text = text[closes[-1].end() :]
    opened = _THINK_OPEN.search(text)
    if opened is not None:
        if not text[: opened.start()].strip():
            return None
        text = text[: opened.start()]
    return text


def _candidates(body: str, raw: str) -> Iterator[Any]:
    """Decoded JSON values in the order they should be tried; raises when there are none."""
    whole = _loads(body.strip())
    if whole is not _FAIL:
        if isinstance(whole, str) and whole.strip()[:1] in ("{", "["):
            inner = _loads(whole.strip())  # JSON encoded twice, as a JSON string
            if inner is not _FAIL:
                yield inner
        yield whole
        return
    segments = [m.group(1) for m in _FENCE.finditer(body)]
    segments.append(_FENCE.sub(lambda m: "\n" + m.group(1) + "\n", body))
    invalid: str | None = None
    found = False
    for segment in segments:
        spans, truncated_at = _spans(segment)
        for start, end in spans:
            value = _loads(segment[start:end])
            if value is _FAIL:
                invalid = invalid or _json_message(segment[start:end])
                continue
            found = True
            yield value
        if truncated_at is not None:
            tail = segment[truncated_at:]
            raise TruncatedOutputError("truncated", f"unterminated JSON from {excerpt(tail, 80)}", raw)
    if found:  # something decoded but did not validate: the caller reports that
        return
    if invalid is not None:
        raise OutputParseError("invalid_json", invalid, raw)
    raise OutputParseError("no_json", "expected a JSON object", raw)


class _Fail:
    pass


_FAIL: Any = _Fail()


MAX_DEPTH = 64
"""Deeper JSON is refused before decoding: near the recursion limit a finalizer has no stack."""


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings in ``text``."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _loads(text: str) -> Any:
    """The decoded JSON of ``text`` (strict, then leniently repaired), or ``_FAIL``."""
    if not text or _depth(text) > MAX_DEPTH:
        return _FAIL
    for attempt in (text, _lenient(text)):
        if attempt is None:
            continue
        try:
            return json.loads(attempt, object_pairs_hook=_no_conflicting_keys, strict=False)
        except _DuplicateKeyError:
            return _FAIL
        except (ValueError, RecursionError):
            continue
    return _FAIL


class _DuplicateKeyError(ValueError):
    pass


def _no_conflicting_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Objects whose repeated keys disagree are rejected: keeping one value would lose the other."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out and out[key] != value:
            raise _DuplicateKeyError(f"duplicate key {key!r} with different values")
        out[key] = value
    return out


def _json_message(text: str) -> str:
    if _depth(text) > MAX_DEPTH:
        return f"JSON nested deeper than {MAX_DEPTH} levels"
    try:
        json.loads(text, object_pairs_hook=_no_conflicting_keys, strict=False)
    except (ValueError, RecursionError) as exc:
        return str(exc)
    return "invalid JSON"  # pragma: no cover - only called after a failure


def _spans(text: str) -> tuple[list[tuple[int, int]], int | None]:
    """Top-level ``{...}``/``[...]`` spans, and where an unterminated one starts.

    A span whose brackets do not match is still returned (its JSON error is the message);
    scanning goes on after it, never inside it, so no inner piece passes for the whole.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    while len(spans) < _MAX_SPANS:
        match = _JSON_START.search(text, pos)
        if match is None:
            return spans, None
        end = _match_bracket(text, match.start())
        if end is None:
            return spans, match.start()
        spans.append((match.start(), end))
        pos = end
    return spans, None


def _match_bracket(text: str, start: int) -> int | None:
    """The end of the value opened at ``start`` (or just past a mismatched closer); None if unterminated."""
    stack: list[str] = []
    quote = ""
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote or (quote == "'" and ch == "\n"):
                quote = ""
        elif ch == '"' or (ch == "'" and _opens_single_quote(text, i)):
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and (stack.pop() != ch or not stack):
            return i + 1
        i += 1
    return None


def _opens_single_quote(text: str, i: int) -> bool:
    """A single quote starts a string only right after a JSON delimiter (not in "it's")."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return j < 0 or text[j] in "{[,:"


def _lenient(text: str) -> str | None:
    """``text`` with single quotes, bare keys, trailing commas and Python literals fixed, or None."""
    out: list[str] = []
    last = ""  # the last significant character written
    i = 0
    n = len(text)
    changed = False
    while i < n:
        ch = text[i]
        if ch == '"' or (ch == "'" and _opens_single_quote(text, i)):
            end = _string_end(text, i, ch)
            piece = text[i:end] if ch == '"' else json.dumps(_unescape_single(text[i + 1 : end - 1]))
            changed |= ch == "'"
            i = end
        elif ch == "," and _next_significant(text, i + 1) in ("}", "]"):
            i, changed, piece = i + 1, True, ""
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if last in ("{", ",") and _next_significant(text, j) == ":":
                piece, changed = json.dumps(word), True  # {key: ...}
            else:
                piece = _PY_LITERALS.get(word, word)
                changed |= word in _PY_LITERALS
            i = j
        else:
            piece = ch
            i += 1
        out.append(piece)
        if piece.strip():
            last = piece.strip()[-1]
    return "".join(out) if changed else None


def _string_end(text: str, start: int, quote: str) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def _unescape_single(inner: str) -> str:
    return inner.replace("\\'", "'").replace('\\"', '"').replace("\\\\", "\\")


def _next_significant(text: str, i: int) -> str:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return text[i] if i < len(text) else ""


def _validate(value: Any, response_model: type[T], raw: str) -> T:
    """``value`` as ``response_model``; a list or a wrapped object is accepted only if it validates.

    An empty object, or one none of whose keys the model knows, is refused even when every
    field has a default: taking it would give a silently empty answer.
    """
    try:
        result = response_model.model_validate(value)
        message = _foreign_keys(value, response_model)
        if message is None:
            return result
    except ValidationError as exc:
        message = _validation_message(exc, value)
    for alternative in _reshaped(value, response_model):
        try:
            result = response_model.model_validate(alternative)
        except ValidationError:
            continue
        if _foreign_keys(alternative, response_model) is None:
            return result
    raise OutputParseError("validation", message, raw)


def _foreign_keys(value: Any, response_model: type[BaseModel]) -> str | None:
    """Why ``value`` cannot be the model's object (no key it knows), or None."""
    fields = response_model.model_fields
    if not isinstance(value, dict) or not fields:
        return None
    if not value:
        return f"an empty object; give {', '.join(sorted(fields))} (an empty list when there is nothing)"
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    if known & set(value):
        return None
    expected, got = ", ".join(sorted(fields)), ", ".join(map(str, value))
    return f"none of the expected keys ({expected}) in the object; got {got}"


def _reshaped(value: Any, response_model: type[BaseModel]) -> Iterator[Any]:
    """Shapes small models commonly give instead of the asked one."""
    fields = response_model.model_fields
    required = [name for name, f in fields.items() if f.is_required()] or list(fields)
    if isinstance(value, list) and len(required) == 1:
        yield {required[0]: value}  # the list where {"facts": [...]} was asked
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        yield value[0]  # [{...}] where {...} was asked
    if not isinstance(value, dict):
        return
    for key in ("arguments", "parameters", "input"):  # a tool call written out as text
        inner = value.get(key)
        if key not in fields and isinstance(inner, str):
            inner = _loads(inner)
        if key not in fields and isinstance(inner, dict):
            yield inner
    if len(value) == 1:
        ((key, inner),) = value.items()
        if isinstance(inner, dict) and key not in fields:
            yield inner  # {"properties": {...}} or {"ModelName": {...}}


def _validation_message(error: ValidationError, value: Any) -> str:
    if not isinstance(value, dict | list):
        shown = "null" if value is None else type(value).__name__
        return f"expected a JSON object, got {shown}"
    parts = []
    for item in error.errors(include_url=False)[:8]:
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{loc}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
