"""Records with no I/O: what the pipelines pass to the stores and back, and the types every layer
shares (``ChatMessage`` for prompts and LLMs, ``Vectors`` for embedders and stores, ``Usage``)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "ChatMessage",
    "IDENTITY_KEYS",
    "EventName",
    "SCOPE_KEYS",
    "HistoryEvent",
    "Hit",
    "MemoryRecord",
    "MemoryVersion",
    "Message",
    "ProfileChange",
    "ProfileSlot",
    "Scope",
    "is_profile_key",
    "new_id",
    "now_iso",
    "profile_key",
    "text_hash",
    "Usage",
    "Vectors",
]

SCOPE_KEYS = ("user_id", "agent_id", "run_id")
"""The ids that scope a memory (at least one is required)."""

IDENTITY_KEYS = (*SCOPE_KEYS, "actor_id")
"""Keys that caller metadata may never set."""

EventName = Literal["ADD", "UPDATE", "DELETE", "NONE"]

ChatMessage = dict[str, Any]
"""``{"role": "system" | "user" | "assistant", "content": str | list[content part]}``."""

Vectors = npt.NDArray[np.float32]
"""Embeddings, one row per text (L2-normalised float32)."""

MAX_PROFILE_KEY_CHARS = 40
_PROFILE_KEY = re.compile(r"[a-z][a-z0-9_]*")
_NOT_KEY_CHARS = re.compile(r"[^a-z0-9]+")


def now_iso() -> str:
    """The current UTC time as ISO-8601."""
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """A new UUID4 string."""
    return str(uuid.uuid4())


def text_hash(text: str) -> str:
    """The MD5 hex digest of a memory text (mem0's ``hash``)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def is_profile_key(key: object) -> bool:
    """Whether ``key`` is a profile slot key: snake_case (``home_city``), at most 40 characters."""
    return (
        isinstance(key, str) and len(key) <= MAX_PROFILE_KEY_CHARS and _PROFILE_KEY.fullmatch(key) is not None
    )


def profile_key(text: str) -> str:
    """``text`` as a snake_case key: ``"Home City"`` and ``"home-city"`` give ``"home_city"``."""
    return _NOT_KEY_CHARS.sub("_", text.strip().lower()).strip("_")


@dataclass(slots=True)
class Usage:
    """LLM tokens and calls spent; added up across retries."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass(frozen=True, slots=True)
class Scope:
    """Who a memory belongs to: any of user, agent and run (validated, non-empty)."""

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The ids that are set, by key."""
        return {
            k: v for k, v in zip(SCOPE_KEYS, (self.user_id, self.agent_id, self.run_id), strict=False) if v
        }

    def is_empty(self) -> bool:
        return not (self.user_id or self.agent_id or self.run_id)


@dataclass(frozen=True, slots=True)
class Message:
    """One normalised conversation message, kept as provenance."""

    role: str
    content: str
    name: str | None = None
    id: str = field(default_factory=new_id)
    images: tuple[str, ...] = ()
    """URLs (or data URLs) of images the message shared; described by the LLM when vision is on."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Per-message metadata (a memlane extension); merged over the call's for verbatim adds."""


@dataclass(slots=True)
class MemoryRecord:
    """The current state of one memory."""

    id: str
    text: str
    scope: Scope
    created_at: str
    updated_at: str
    hash: str = ""
    actor_id: str | None = None
    role: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_from: str | None = None
    valid_to: str | None = None
    expired_at: str | None = None
    expiration_date: str | None = None
    version: int = 1
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.hash:
            self.hash = text_hash(self.text)


@dataclass(frozen=True, slots=True)
class MemoryVersion:
    """One text a memory had; the current version has ``expired_at`` None."""

    memory_id: str
    version: int
    text: str
    hash: str
    valid_from: str | None
    valid_to: str | None
    recorded_at: str
    expired_at: str | None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One row of a memory's history, in mem0's shape."""

    id: str
    memory_id: str
    old_memory: str | None
    new_memory: str | None
    event: EventName
    created_at: str
    updated_at: str | None = None
    is_deleted: bool = False
    actor_id: str | None = None
    role: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memory_id": self.memory_id,
            "old_memory": self.old_memory,
            "new_memory": self.new_memory,
            "event": self.event,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "is_deleted": self.is_deleted,
            "actor_id": self.actor_id,
            "role": self.role,
        }


@dataclass(slots=True)
class Hit:
    """A memory found by search, with its fused score and each signal's part."""

    record: MemoryRecord
    score: float
    details: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProfileSlot:
    """One version of one profile slot of a scope: ``key = value`` with both clocks.

    A current slot has ``expired_at`` None; a superseded or cleared one keeps its value with
    ``expired_at`` (record time) and, when the conversation said so, ``valid_to`` (valid time).
    """

    scope: Scope
    key: str
    value: str
    valid_from: str | None
    recorded_at: str
    valid_to: str | None = None
    expired_at: str | None = None
    memory_id: str | None = None
    """The memory written from the same fact in the same add(), when there is one."""
    id: str = field(default_factory=new_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "memory_id": self.memory_id,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "recorded_at": self.recorded_at,
            "expired_at": self.expired_at,
        }


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What one write did to one slot's current value (``value`` None: the slot was cleared)."""

    key: str
    value: str | None
    previous: str | None
    memory_id: str | None = None

    @property
    def event(self) -> EventName:
        if self.previous is None:
            return "ADD"
        return "DELETE" if self.value is None else "UPDATE"

    def as_dict(self) -> dict[str, Any]:
        """An item of ``add()``'s ``"profile"`` list."""
        return {
            "key": self.key,
            "value": self.value,
            "previous_value": self.previous,
            "event": self.event,
            "memory_id": self.memory_id,
        }
