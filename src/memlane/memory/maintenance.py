"""Erasure, backups and export: the data-safety methods of ``Memory`` (a mixin, so ``Memory``
stays about remembering and recalling)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from memlane.embed.base import Embedder
from memlane.errors import InvalidInputError, NotFoundError
from memlane.graph.base import GraphStore
from memlane.memory import inputs
from memlane.models import Scope
from memlane.store.base import MemoryStore
from memlane.transfer import export_jsonl, import_jsonl

__all__ = ["DataSafety"]


class DataSafety:
    """``reset``, ``purge``, ``export``, ``import_data`` and ``backup`` over a store and graph."""

    store: MemoryStore
    embedder: Embedder
    graph: GraphStore | None
    _dimension_checked: bool

    def reset(self) -> None:
        """Remove every memory, version, history row and message of every scope."""
        if self.graph is not None:
            self.graph.reset()
        self.store.reset()
        self._dimension_checked = False

    def purge(
        self,
        memory_id: str | None = None,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Erase for good (GDPR): a memory, or everything of a scope, with every version,
        history row, source message and index entry; no copy of the text remains."""
        ids = [inputs.validate_id("memory_id", memory_id)] if memory_id is not None else []
        given = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        scope = Scope(**{k: inputs.validate_id(k, v) for k, v in given.items() if v is not None})
        if not ids and scope.is_empty():
            raise InvalidInputError("purge() needs a memory_id or a user_id, agent_id or run_id")
        if ids and not self.store.history(ids[0]):
            raise NotFoundError(ids[0])
        target = None if scope.is_empty() else scope
        if self.graph is not None:
            self.graph.purge(ids, target)
        count = self.store.purge(ids, target)
        return {"message": "Memories purged successfully!", "purged": count}

    def export(self, destination: str | Path | IO[str]) -> dict[str, int]:
        """Write every record to a JSON Lines file (see ``memlane.transfer``); counts by kind."""
        return export_jsonl(self.store, destination)

    def import_data(self, source: str | Path | IO[str]) -> dict[str, int]:
        """Load an export (all or nothing); counts by kind."""
        counts = import_jsonl(self.store, source, embedder=self.embedder)
        self._dimension_checked = False
        return counts

    def backup(self, destination: str | Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the store while writers keep going (stores that support it).

        Never onto the database itself; an existing ``destination`` is replaced only with
        ``overwrite=True``. Either refusal is an ``InvalidInputError`` that changes no file.
        """
        self.store.backup(destination, overwrite=overwrite)
