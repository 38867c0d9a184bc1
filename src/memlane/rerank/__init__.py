"""Rerankers: a second, finer scoring of search candidates against the query.

``Reranker`` (``base``) is the contract; ``CrossEncoderReranker`` (provider ``sentence_transformer``,
alias ``cross_encoder``: a local sentence-transformers cross-encoder) and ``LLMReranker``
(``llm_reranker``: one LLM call scores every candidate) implement it. ``RerankerSection.build``
(or ``build_reranker``) builds one from its config, given the Memory's LLM.
"""

from memlane.rerank.base import Reranker, RerankerSettings, build_reranker
from memlane.rerank.cross_encoder import CrossEncoderConfig, CrossEncoderReranker
from memlane.rerank.llm import LLMReranker, LLMRerankerConfig

__all__ = [
    "CrossEncoderConfig",
    "CrossEncoderReranker",
    "LLMReranker",
    "LLMRerankerConfig",
    "Reranker",
    "RerankerSettings",
    "build_reranker",
]
