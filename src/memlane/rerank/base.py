"""The reranker contract: a query and documents in, one relevance score per document out.

A ``reranker`` provider's factory returns a ``RerankerBuilder``: call it with the Memory's LLM
(or None). Providers that need no LLM ignore it; ``llm_reranker`` scores with it unless its
config names an LLM of its own. ``build_reranker`` does both steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from memlane.llm.base import LLM

__all__ = ["Reranker", "RerankerBuilder", "RerankerSettings", "build_reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Scores documents against a query with a finer (slower) model than retrieval used."""

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        """One finite score per document, in the documents' order; higher is more relevant.

        An empty ``documents`` gives ``[]``. Raises ``RerankError`` when the model cannot load
        or run, or when its answer gives no usable scores.
        """
        ...


RerankerBuilder = Callable[[LLM | None], Reranker]
"""What a ``reranker`` provider's factory returns: called with the Memory's LLM (or None)."""


class RerankerSettings(BaseModel):
    """Keys every reranker config accepts (mem0's common reranker keys)."""

    model_config = ConfigDict(extra="forbid")

    top_k: int | None = Field(
        default=None,
        ge=0,
        description="accepted for mem0 configs; ignored: search's top_k decides how many results return",
    )


def build_reranker(name: str, config: dict[str, Any] | BaseModel, *, llm: LLM | None = None) -> Reranker:
    """The reranker ``name`` from its config; ``llm`` is the Memory's LLM, if it has one.

    Builds no model: a cross-encoder loads on its first ``rerank``. Raises ``ConfigError`` when
    the provider needs an LLM and neither its config nor ``llm`` gives one.
    """
    from memlane.registry import registry

    builder: RerankerBuilder = registry.create("reranker", name, config)
    return builder(llm)
