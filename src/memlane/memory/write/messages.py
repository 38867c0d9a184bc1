"""What ``add()`` remembers, normalised: mem0's message forms as ``Message`` records, and caller
metadata made safe to store. Pure: no I/O."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import clean_name
from memlane.memory.arguments import check_size, check_text
from memlane.memory.times import parse_timestamp
from memlane.models import IDENTITY_KEYS, Message

__all__ = [
    "CREATED_AT",
    "MAX_ADD_CHARS",
    "clean_metadata",
    "normalize_messages",
    "update_metadata",
]

logger = logging.getLogger("memlane")

MAX_ADD_CHARS = 1_000_000
"""The most characters the messages of one ``add()`` call may hold together."""
_ROLES_DROPPED = frozenset({"system"})
CREATED_AT = "created_at"
"""The metadata key that sets a new memory's ``created_at`` (mem0's; imports rely on it)."""


def clean_metadata(metadata: Any) -> dict[str, Any]:
    """A JSON-serialisable copy of caller metadata with identity keys stripped (and logged), and
    its ``created_at``, if any, checked and made UTC ISO-8601 (``add`` takes it out of the
    metadata: it becomes the memory's ``created_at``)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"metadata keys must be non-empty strings, got {key!r}")
        if key in IDENTITY_KEYS:
            logger.warning("metadata key %r ignored: identity keys are set by arguments only", key)
            continue
        out[key] = parse_timestamp(value, "metadata created_at") if key == CREATED_AT else value
    try:  # the round trip also turns nested non-string keys into strings, as storage would
        encoded = json.dumps(out, allow_nan=False, ensure_ascii=False)
        out = json.loads(check_text("metadata", encoded))
    except RecursionError:
        raise InvalidInputError("metadata is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"metadata must be JSON-serialisable: {exc}") from None
    if _has_nul(out):  # SQLite's JSON functions cut strings at NUL; PostgreSQL's jsonb refuses it
        raise InvalidInputError("metadata keys and values must not contain NUL characters")
    return out


def update_metadata(metadata: Any) -> dict[str, Any]:
    """``clean_metadata`` for ``update()``: a memory's ``created_at`` is set when it is added, so
    a ``created_at`` key is dropped (and logged)."""
    out = clean_metadata(metadata)
    if out.pop(CREATED_AT, None) is not None:
        logger.warning("metadata key 'created_at' ignored: a memory's creation time is set by add()")
    return out


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def normalize_messages(messages: Any) -> list[Message]:
    """mem0's message forms as ``Message`` records; system messages and empty contents dropped."""
    if isinstance(messages, str):
        raw: list[Any] = [{"role": "user", "content": messages}]
    elif isinstance(messages, Mapping):
        raw = [messages]
    elif isinstance(messages, list):
        raw = messages
    else:
        raise InvalidInputError(
            "messages must be a string, a message dict or a list of message dicts, "
            f"got {type(messages).__name__}"
        )
    out: list[Message] = []
    total = 0
    for index, item in enumerate(raw):
        message = _message(index, item)
        if message is not None:
            out.append(message)
            total += len(message.content)
    if not out:
        raise InvalidInputError("messages hold no user or assistant text to remember")
    if total > MAX_ADD_CHARS:
        raise InvalidInputError(
            f"the messages hold {total:,} characters in all, more than the limit of {MAX_ADD_CHARS:,} "
            "per add() call: split the text into several add() calls"
        )
    return out


def _message(index: int, item: Any) -> Message | None:
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"message {index} must be a dict, got {type(item).__name__}")
    role = item.get("role", "user")
    if not isinstance(role, str) or not role.strip():
        raise InvalidInputError(f"message {index}: role must be a non-empty string, got {role!r}")
    if "content" not in item:
        raise InvalidInputError(f"message {index} has no 'content'")
    name = item.get("name")
    if name is not None:  # the name becomes the memory's actor_id: an id-like value
        if not isinstance(name, str):
            raise InvalidInputError(f"message {index}: name must be a string, got {name!r}")
        name = clean_name(f"message {index}: name", name)
    content, images = _content_parts(index, item["content"])
    for label, text in (("role", role), ("name", name or ""), ("content", content)):
        check_text(f"message {index} {label}", text)
    check_size(f"message {index}", content)
    if role in _ROLES_DROPPED or not (content.strip() or images):
        return None
    extra = clean_metadata(item.get("metadata"))
    return Message(role, content, name, images=images, metadata=extra)


def _content_parts(index: int, content: Any) -> tuple[str, tuple[str, ...]]:
    """The text of a message content (a string or a list of parts) and its image URLs."""
    if isinstance(content, str):
        return content, ()
    parts = [content] if isinstance(content, Mapping) else content
    if not isinstance(parts, list):
        raise InvalidInputError(
            f"message {index}: content must be a string or a list of parts, got {type(content).__name__}"
        )
    texts: list[str] = []
    images: list[str] = []
    for part in parts:
        if not isinstance(part, Mapping):
            raise InvalidInputError(f"message {index}: content parts must be dicts, got {part!r}")
        if part.get("type") == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidInputError(f"message {index}: a text part needs a string 'text'")
            texts.append(text)
        elif part.get("type") == "image_url":
            images.append(_image_url(index, part.get("image_url")))
    return "\n".join(texts), tuple(images)


def _image_url(index: int, value: Any) -> str:
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        raise InvalidInputError(f"message {index}: an image_url part needs a URL string")
    return url
