"""Embedders: one contract, local / OpenAI-compatible / hash providers."""

from memlane.embed.base import Embedder, Purpose

__all__ = ["Embedder", "Purpose"]
