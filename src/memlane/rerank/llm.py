"""The LLM reranker (provider ``llm_reranker``): one structured call scores every document.

The documents are numbered 1..n in the prompt; the model answers ``{"scores": [{"id", "score"}]}``
with scores from 0 to 10, returned divided by 10 (in [0, 1]). A document the model skipped scores
0 (logged); an answer that scores none of them, or that is still unusable after the LLM's one
repair request, raises ``RerankError``. mem0 scored each document in its own call.

The scoring LLM is the config's nested ``llm`` section when given (mem0's top-level ``provider``,
``model``, ``api_key`` and ``temperature`` are moved into it), else the Memory's own LLM.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

from memlane.errors import ConfigError, LLMError, RerankError
from memlane.llm.base import LLM
from memlane.models import Usage
from memlane.prompts import rerank as prompt
from memlane.registry import LLMSection
from memlane.rerank.base import RerankerSettings

if TYPE_CHECKING:
    from memlane.registry import Dependencies, Registry

__all__ = ["LLMReranker", "LLMRerankerConfig", "register"]

logger = logging.getLogger("memlane")

_MEM0_LLM_KEYS = ("provider", "model", "api_key", "temperature")


class LLMRerankerConfig(RerankerSettings):
    llm: LLMSection | None = Field(
        default=None, description="the LLM that scores ({provider, config}); None: the Memory's llm"
    )
    max_document_chars: int = Field(
        default=prompt.MAX_DOCUMENT_CHARS, ge=20, le=20_000, description="each document is cut to this"
    )
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="accepted for mem0 configs (it bounded one document's score); ignored: the "
        "scoring LLM's own max_tokens bounds the answer",
    )
    max_workers: int | None = Field(
        default=None, ge=1, description="accepted for mem0 configs; ignored (one call scores all)"
    )
    scoring_prompt: str | None = Field(
        default=None, description="accepted for mem0 configs; ignored (its template scores one document)"
    )

    @model_validator(mode="before")
    @classmethod
    def _mem0_llm_keys(cls, data: Any) -> Any:
        """mem0's top-level ``provider``/``model``/``api_key``/``temperature`` name the scoring LLM."""
        if not isinstance(data, dict):
            return data
        top = {key: data[key] for key in _MEM0_LLM_KEYS if data.get(key) is not None}
        rest = {key: value for key, value in data.items() if key not in _MEM0_LLM_KEYS}
        if not top:
            return rest
        nested: Any = rest.get("llm")
        if isinstance(nested, BaseModel):
            nested = nested.model_dump()
        nested = dict(nested or {})
        provider = top.pop("provider", None)
        config = dict(nested.get("config") or {})
        for key, value in top.items():
            config.setdefault(key, value)
        rest["llm"] = {"provider": nested.get("provider") or provider or "openai", "config": config}
        return rest


class LLMReranker:
    """Scores documents with an LLM: one call per ``prompt.MAX_DOCUMENTS`` documents.

    ``usage`` adds up what every call cost, failed ones included.
    """

    def __init__(self, llm: LLM, config: LLMRerankerConfig | None = None) -> None:
        self.llm = llm
        self.config = config or LLMRerankerConfig()
        self.usage = Usage()
        self._lock = threading.Lock()

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        scores: list[float] = []
        for start in range(0, len(documents), prompt.MAX_DOCUMENTS):
            scores.extend(self._score(query, documents[start : start + prompt.MAX_DOCUMENTS]))
        return scores

    def _score(self, query: str, documents: Sequence[str]) -> list[float]:
        data = prompt.RerankInput(
            query=query, documents=list(documents), max_chars=self.config.max_document_chars
        )
        try:
            result = self.llm.complete(prompt.build_messages(data), prompt.scores_for(len(documents)))
        except LLMError as exc:
            if exc.usage is not None:
                self._spent(exc.usage)
            raise RerankError(f"llm_reranker: the model gave no usable scores: {exc}") from exc
        self._spent(result.usage)
        return _by_number(result.value, len(documents))

    def _spent(self, usage: Usage) -> None:
        with self._lock:
            self.usage.add(usage)


def _by_number(answer: prompt.RerankScores, count: int) -> list[float]:
    """The scores of documents 1..count in order, in [0, 1]; skipped ones 0, unknown ids ignored."""
    found: dict[int, float] = {}
    for item in answer.scores:
        if 1 <= item.id <= count and item.id not in found and math.isfinite(item.score):
            found[item.id] = min(max(item.score, 0.0), prompt.MAX_SCORE) / prompt.MAX_SCORE
    if not found:
        raise RerankError(f"llm_reranker: the model scored none of the {count} documents")
    missing = [n for n in range(1, count + 1) if n not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        logger.warning(
            "llm_reranker: no score for %d of %d documents (numbers %s); they score 0",
            len(missing),
            count,
            shown,
        )
    return [found.get(n, 0.0) for n in range(1, count + 1)]


def _build(config: LLMRerankerConfig, deps: Dependencies) -> LLMReranker:
    llm = config.llm.build(deps) if config.llm is not None else deps.llm
    if llm is None:
        raise ConfigError(
            "the llm_reranker needs an LLM: configure the Memory's llm, or give the reranker its "
            "own: {'reranker': {'provider': 'llm_reranker', 'config': {'llm': {'provider': "
            "'openai', 'config': {'model': ...}}}}}"
        )
    return LLMReranker(llm, config)


def register(registry: Registry) -> None:
    registry.register("reranker", "llm_reranker", LLMRerankerConfig, _build)
