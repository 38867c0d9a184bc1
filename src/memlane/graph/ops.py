"""``GraphOps``: the operations a graph back end implements; everything else is shared.

``OpsGraphStore`` (``memlane.graph.store``) implements the whole ``GraphStore`` contract once
(``apply``, ``search``, ``list_relations``, the deletes) over these operations; a back end
(``memlane.store.sqlite.graph``, ``memlane.store.falkordb.graph``,
``memlane.store.postgres.graph``) subclasses it and provides three things:

- ``reading()``: a context yielding ``GraphOps`` that see every committed write (and the
  caller's own open transaction, where the back end joins one). It may hold a lock.
- ``writing(erase=False)``: a context yielding ``GraphOps`` for ONE unit of work. Back ends
  with transactions run it in one (all or nothing: an exception rolls every write back); a
  back end that joins a caller's transaction uses a savepoint of it. Reads inside the unit see
  its own earlier writes. Back ends without multi-statement transactions (FalkorDB) must make
  every operation atomic and serialise the units of one process (a lock), so that entity
  resolution sees a graph no other writer of the process changes meanwhile. ``erase=True``
  (``purge``) also removes the deleted data's leftover copies where the back end keeps any
  (SQLite: ``secure_delete`` and a WAL checkpoint); a back end that cannot says so.
- ``close()``.

Conventions of every operation: ``skey`` is ``resolve.scope_key`` of an exact scope (writes and
entity resolution); a ``Scope`` argument is a read or delete *filter* (each id it sets must
match; it is never empty: the shared code refuses an empty one). Names are compared by their
norm (``resolve.normalize_name``), vectors are unit rows (cosine = dot product). Relations come
back whole (both endpoints' names, every supporting memory id in the order they came). Ties are
broken deterministically, so a search or an ``apply`` gives the same answer every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from memlane.graph.models import Entity, Relation
from memlane.graph.rank import Candidate, WalkRequest
from memlane.models import Scope, Vectors

__all__ = ["GraphOps"]


class GraphOps(Protocol):
    """Reads and writes on one back end's unit of work (see the module docstring)."""

    # -- entity resolution and relation writes (``engine.write``) --------------------------

    def entities_by_names(self, skey: str, norms: Sequence[str]) -> dict[str, Entity]:
        """Entities of the exact scope ``skey`` whose name or an alias normalises to each norm
        (an entity's own name wins over another's alias, then the oldest entity)."""
        ...

    def nearest_entities(
        self, skey: str, vectors: Vectors, threshold: float
    ) -> list[tuple[Entity, float] | None]:
        """For each row of ``vectors``, the committed entity of scope ``skey`` most similar by
        name, with its cosine, if ``>= threshold``."""
        ...

    def create_entities(self, items: Sequence[tuple[Entity, Vectors | None]]) -> None:
        """New entities with their name vectors (None: no vector), names and aliases findable
        by ``entities_by_names`` at once."""

    def update_entity(self, entity: Entity) -> None:
        """Store a changed type, aliases (findable at once) and ``updated_at``."""

    def current_relations(
        self, keys: Sequence[tuple[str, str, str | None]]
    ) -> dict[tuple[str, str], list[Relation]]:
        """Current relations by ``(source_id, relationship)`` for every key given (empty lists
        included), oldest first, each once: those to the given destination id, or to any
        destination where it is None."""
        ...

    def insert_relations(self, relations: Sequence[Relation]) -> None:
        """New relations, with their memory ids (some may already be invalidated, by a later
        fact of the same call)."""

    def mention(self, relation: Relation, memory_ids: Sequence[str], at: str) -> Relation:
        """One more mention, ``updated_at`` set, the memory ids it lacks appended; return the
        relation as stored."""
        ...

    def invalidate(self, relation: Relation, valid_to: str, at: str) -> Relation:
        """Set ``invalidated_at`` and ``updated_at`` to ``at`` and (unless set) ``valid_to``;
        return the relation as stored. Nothing is deleted."""
        ...

    # -- search ----------------------------------------------------------------------------

    def named_entities(self, scope: Scope, norms: Sequence[str]) -> list[str]:
        """Ids of the scope's entities whose name or an alias normalises to one of ``norms``."""
        ...

    def similar_entities(
        self, scope: Scope, vector: Vectors, threshold: float, limit: int
    ) -> list[tuple[str, float]]:
        """The ``limit`` entities of the scope whose name vector is most similar to ``vector``
        (cosine ``>= threshold``), best first, as (id, cosine)."""
        ...

    def walk(self, request: WalkRequest) -> dict[str, Candidate]:
        """The relations reached by the best-first walk of ``rank.walk`` from the request's
        seeds: relations current now (or at record time ``as_of``), either direction, up to
        ``hops`` away, scored with ``decay`` and ``resolve.lexical_factor(name, stems)``, at most
        ``limit`` steps. By relation id; each keeps its fewest hops and best path score."""
        ...

    def relations_by_ids(self, ids: Sequence[str]) -> list[Relation]:
        """These relations (current or not), in any order; unknown ids are skipped."""
        ...

    def list_relations(
        self, scope: Scope, *, limit: int | None, as_of: str | None, include_invalidated: bool
    ) -> list[Relation]:
        """The scope's relations, newest first (then last written first): current ones, those
        current at record time ``as_of``, or every one with ``include_invalidated``; at most
        ``limit`` (None: all)."""
        ...

    # -- copies (``GraphStore.dump``; ``load`` writes with ``create_entities`` and
    # ``insert_relations``) ---------------------------------------------------------------

    def dump_entities(self, after: str | None, limit: int) -> list[tuple[Entity, Vectors | None]]:
        """At most ``limit`` entities of every scope, each with its name vector (None: it has
        none), in a stable order (the write order where the back end keeps one), starting after
        the entity with id ``after`` (None: from the first; it must exist)."""
        ...

    def dump_relations(self, after: str | None, limit: int) -> list[Relation]:
        """At most ``limit`` relations of every scope, current and invalidated, whole (as
        ``relations_by_ids`` gives them), in a stable order (the write order where the back end
        keeps one), starting after the relation with id ``after`` (None: from the first)."""
        ...

    def set_entity_vectors(self, items: Sequence[tuple[str, Vectors]]) -> None:
        """Replace these entities' name vectors (``GraphStore.reembed``: a new embedder)."""

    # -- deletes (for real) ----------------------------------------------------------------

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        """Drop these memories from every relation; delete the relations left with none (those
        that never had one stay) and then their endpoints left with no relation. Returns how
        many relations were deleted."""
        ...

    def delete_scope(self, scope: Scope) -> int:
        """Delete every relation and entity of the scope; return how many relations went."""
        ...

    def reset(self) -> None:
        """Delete every entity and relation of every scope."""
