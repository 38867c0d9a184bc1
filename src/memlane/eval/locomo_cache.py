"""An opt-in cache of LoCoMo's ingested store, so that a second ``memlane eval locomo`` run
with the same data and config skips the ingest (about a minute with the local model).

The cache is one SQLite file per key in a folder (``$MEMLANE_EVAL_CACHE``, else
``memlane-eval-cache`` in the system's temporary folder). The key is the SHA-256 of what
decides the ingested store: the data file's SHA-256, the conversations evaluated, memlane's
version and ingest format (``locomo.INGEST_FORMAT``), and the config less the store's path
and the settings that only reading uses (``search``, ``reranker``), so runs that tune search
weights share one ingest. A run copies
the cached file into its own scratch store (SQLite's backup API: a consistent copy; the cache
is never written by a run that reads it), and a run that ingested saves its store there right
after the ingest, before any distractor is added.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from memlane import __version__
from memlane.config import MemoryConfig
from memlane.eval.locomo import INGEST_FORMAT
from memlane.eval.locomo_data import Conversation, describe_data
from memlane.redact import redact

__all__ = ["CACHE_ENV", "DEFAULT_CACHE_DIR", "IngestCache", "ingest_cache"]

DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "memlane-eval-cache"
CACHE_ENV = "MEMLANE_EVAL_CACHE"
_READING_ONLY = ("search", "reranker")
"""Config sections that do not change what the ingest stores."""


@dataclass(frozen=True, slots=True)
class IngestCache:
    """The cached store of one key: ``path`` (it may not exist yet)."""

    path: Path

    def exists(self) -> bool:
        return self.path.is_file()

    def restore(self, target: str | Path) -> bool:
        """Copy the cached store over the SQLite file ``target`` (not open elsewhere);
        False, and nothing copied, when there is none."""
        if not self.exists():
            return False
        _copy(self.path, Path(target))
        return True

    def save(self, source: str | Path) -> None:
        """Keep a copy of the SQLite store ``source`` (it may be open) under this key; the
        copy appears whole or not at all."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
        try:
            _copy(Path(source), partial)
            os.replace(partial, self.path)
        finally:
            partial.unlink(missing_ok=True)


def ingest_cache(
    data_file: str | Path,
    conversations: Sequence[Conversation],
    config: MemoryConfig,
    root: str | Path | None = None,
) -> IngestCache:
    """The cache entry for ingesting ``conversations`` of ``data_file`` with ``config``."""
    settings = config.model_dump(mode="json", exclude=set(_READING_ONLY))
    store = settings.get("vector_store") or {}
    (store.get("config") or {}).pop("path", None)
    key = {
        "data": describe_data(data_file)["sha256"],
        "conversations": [c.sample_id for c in conversations],
        "memlane": __version__,
        "ingest": INGEST_FORMAT,
        "config": redact(settings),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    folder = root if root is not None else os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return IngestCache(Path(folder) / f"locomo-{digest}.db")


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
