"""``Memory``'s upkeep methods: short-term memory (promote, prune), erasure (reset, purge) and
copies (export, import, reindex, backup). A mixin of ``Memory`` (``memory.facade``), kept apart
so the façade reads as the API's everyday calls; every method is one call into its module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from memlane.embed.base import Embedder
from memlane.errors import InvalidInputError
from memlane.filters import Cond, and_
from memlane.memory import erase, export, reindex
from memlane.memory.backends import Backends
from memlane.memory.scope import exact_scope, validate_id
from memlane.memory.write import promote, prune
from memlane.types import Id, PromoteResult, PruneResult, PurgeResult

__all__ = ["Upkeep"]


class Upkeep:
    """Promote, prune, reset, purge, export, import, reindex and backup over ``backends``."""

    backends: Backends

    # -- short-term memory ----------------------------------------------------------------

    def promote(self, memory_id: Id) -> PromoteResult:
        """Make a run's memory long-term: its ``run_id`` and ``expiration_date`` go (the run is
        kept in metadata as ``promoted_from_run``) and its history gets an UPDATE row with the
        same text. A memory already long-term is left as it is (``promoted`` False)."""
        record, changed = promote.promote(self.backends, validate_id("memory_id", memory_id))
        message = "Memory promoted to long-term!" if changed else "Memory is already long-term"
        return {"message": message, "id": record.id, "promoted": changed}

    def prune(
        self,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        dry_run: bool = False,
    ) -> PruneResult:
        """Delete the expired memories (of a scope, every id given must match; else of all):
        those past their ``expiration_date`` and the runs' memories older than
        ``short_term.ttl``. They go as with ``delete``: gone from reads and search, each with a
        DELETE history row, their versions kept (``purge`` erases for good). ``dry_run`` only
        counts them. Returns ``pruned`` (how many) and their ``ids``."""
        scope = exact_scope(user_id, agent_id, run_id)
        where = and_(*(Cond(k, "eq", v) for k, v in scope.as_dict().items()))
        records = prune.prune(self.backends, where, dry_run=dry_run)
        verb = "would be pruned" if dry_run else "pruned"
        return {
            "message": f"{len(records)} expired memory(ies) {verb}",
            "pruned": len(records),
            "ids": [r.id for r in records],
            "dry_run": dry_run,
        }

    # -- erasure and copies ----------------------------------------------------------------

    def reset(self) -> None:
        """Remove every memory, version, history row and message of every scope."""
        erase.reset(self.backends)

    def purge(
        self,
        memory_id: Id | None = None,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
    ) -> PurgeResult:
        """Erase for good (GDPR): a memory, or everything of a scope, with every version,
        history row, source message and index entry; no copy of the text remains."""
        ids = [validate_id("memory_id", memory_id)] if memory_id is not None else []
        scope = exact_scope(user_id, agent_id, run_id)
        if not ids and scope.is_empty():
            raise InvalidInputError("purge() needs a memory_id or a user_id, agent_id or run_id")
        count = erase.purge(self.backends, ids, scope)
        return {"message": "Memories purged successfully!", "purged": count}

    def export(self, destination: str | Path | IO[str]) -> dict[str, int]:
        """Write every record to a JSON Lines file (see ``memlane.memory.export``); counts by kind."""
        return export.export_jsonl(self.backends.store, destination, self.backends.graph)

    def import_data(self, source: str | Path | IO[str]) -> dict[str, int]:
        """Load an export (all or nothing); counts by kind."""
        counts = export.import_jsonl(
            self.backends.store, source, embedder=self.backends.embedder, graph=self.backends.graph
        )
        self.backends.store_changed()
        return counts

    def reindex(
        self,
        embedder_config: dict[str, Any] | Embedder,
        *,
        batch_size: int = 256,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Re-embed every memory and graph entity with another embedder (its config section, e.g.
        ``{"provider": "openai", "config": {...}}``, or an embedder), any dimension, while
        searches go on with the old vectors; then switch to it atomically and use it. Resumable:
        an interrupted reindex keeps its staged vectors (``memlane.memory.reindex``)."""
        embedder, section = reindex.build_embedder(embedder_config)
        return reindex.reindex(self.backends, embedder, section, batch_size=batch_size, progress=progress)

    def backup(self, destination: str | Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the store while writers keep going (stores that support it).

        Never onto the database itself; an existing ``destination`` is replaced only with
        ``overwrite=True``. Either refusal is an ``InvalidInputError`` that changes no file.
        """
        export.backup(self.backends.store, destination, overwrite=overwrite)
