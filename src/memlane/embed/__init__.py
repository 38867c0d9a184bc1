"""Embedders: one contract, local / OpenAI-compatible / hash providers.

Extension points: ``Embedder`` (the contract a custom embedder implements), ``Purpose``, and
``HashEmbedder`` (deterministic, no model: for tests).
"""

from memlane.embed.base import Embedder, Purpose
from memlane.embed.hash import HashEmbedder

__all__ = ["Embedder", "HashEmbedder", "Purpose"]
