"""Helpers shared by the write-pipeline tests: a Memory on the hash embedder with a FakeLLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memlane import Memory
from memlane.llm import FakeLLM


def config(path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        **extra,
    }


def make(tmp_path: Path, *replies: Any, **extra: Any) -> tuple[Memory, FakeLLM]:
    """A Memory whose LLM answers ``replies`` in order."""
    llm = FakeLLM(replies)
    return Memory(config(tmp_path / "m.db", **extra), llm=llm), llm


def op(event: str, text: str = "", id: str | None = None) -> dict[str, Any]:
    """One operation of the single call's answer."""
    return {"event": event, "id": id, "text": text}
