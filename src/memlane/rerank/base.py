"""The reranker contract: a query and documents in, one relevance score per document out.

A ``reranker`` factory gets the Memory's LLM in its dependencies (``Dependencies.llm``, maybe
None): providers that need no LLM ignore it; ``llm_reranker`` scores with it unless its config
names an LLM of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from memlane.llm.base import LLM

__all__ = ["Reranker", "RerankerSettings", "build_reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Scores documents against a query with a finer (slower) model than retrieval used."""

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        """One finite score per document, in the documents' order; higher is more relevant.

        An empty ``documents`` gives ``[]``. Raises ``RerankError`` when the model cannot load
        or run, or when its answer gives no usable scores.
        """
        ...


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
    the provider needs an LLM and neither its config nor ``llm`` gives one. The same as
    ``RerankerSection.build(Dependencies(llm=llm))``.
    """
    from memlane.registry import Dependencies, providers  # the wiring: not a dependency of the contract

    return providers.create("reranker", name, config, Dependencies(llm=llm))
