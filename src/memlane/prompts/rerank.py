"""The LLM reranker's task: score every numbered memory against a query, 0 to 10, in one answer.

The model sees small numbers (1, 2, …) instead of memory ids, and answers one score per number.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from memlane.models import ChatMessage

__all__ = [
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_CHARS",
    "MAX_SCORE",
    "DocumentScore",
    "RerankInput",
    "RerankScores",
    "build_messages",
    "scores_for",
]

MAX_DOCUMENTS = 100
"""Documents scored in one call; more are scored in several calls."""
MAX_DOCUMENT_CHARS = 500
MAX_SCORE = 10.0


class RerankInput(BaseModel):
    query: str
    documents: list[str] = Field(max_length=MAX_DOCUMENTS)
    max_chars: int = Field(default=MAX_DOCUMENT_CHARS, ge=20)
    """Each document is cut to this many characters in the prompt."""


class DocumentScore(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int = Field(description="the memory's number")
    score: float = Field(description=f"relevance from 0 (unrelated) to {MAX_SCORE:g} (answers the query)")


class RerankScores(BaseModel):
    """The model's answer: one score per numbered memory."""

    model_config = ConfigDict(extra="ignore")

    # bounded in the schema (grammar-constrained servers stop there), not in validation:
    # ids beyond the documents are ignored, not a reason to reject the whole answer
    scores: list[DocumentScore] = Field(json_schema_extra={"maxItems": MAX_DOCUMENTS})


@functools.lru_cache(maxsize=MAX_DOCUMENTS)
def scores_for(count: int) -> type[RerankScores]:
    """``RerankScores`` whose schema allows exactly ``count`` items, ids 1..count and scores
    0..10, so that a grammar-constrained server cannot run past the documents (a small model
    otherwise goes on numbering until ``max_tokens``); validation stays as lenient."""
    item = create_model(
        "DocumentScore",
        __base__=DocumentScore,
        id=(
            int,
            Field(description="the memory's number", json_schema_extra={"minimum": 1, "maximum": count}),
        ),
        score=(
            float,
            Field(
                description=f"relevance from 0 (unrelated) to {MAX_SCORE:g} (answers the query)",
                json_schema_extra={"minimum": 0, "maximum": MAX_SCORE},
            ),
        ),
    )
    bounded: dict[str, Any] = {"minItems": count, "maxItems": count}
    model: type[RerankScores] = create_model(
        "RerankScores",
        __base__=RerankScores,
        scores=(list[item], Field(json_schema_extra=bounded)),  # type: ignore[valid-type]
    )
    return model


_SYSTEM = f"""You rank the memories of a personal assistant: short facts about a user and the \
people in their life. Score how much each numbered memory helps answer the query, from 0 to \
{MAX_SCORE:g}:
- 10: states exactly what the query asks for.
- 7-9: directly relevant; answers part of the query.
- 4-6: related; useful context for the answer.
- 1-3: same topic, but does not help answer it.
- 0: unrelated.
Judge what each memory means, not the words it shares with the query. Score every memory, each \
number exactly once. Answer with JSON only: {{"scores": [{{"id": 1, "score": 7}}, ...]}}."""


def _shown(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def build_messages(data: RerankInput) -> list[ChatMessage]:
    """The query and the documents numbered from 1, one a line."""
    lines = "\n".join(f"{n}: {_shown(doc, data.max_chars)}" for n, doc in enumerate(data.documents, 1))
    user = f"Query: {_shown(data.query, 2000)}\n\nMemories:\n{lines}"
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]
