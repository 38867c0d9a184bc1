"""Graph memory: the contract, its records and its rules; the back ends live in ``memlane.store``.

``GraphStore`` (``base``) is the contract and ``OpsGraphStore`` (``store``) its one
implementation over a back end's ``GraphOps`` (``ops``): ``SQLiteGraphStore``
(``memlane.store.sqlite.graph``, the embedded default, same file as the memories),
``PostgresGraphStore`` (``memlane.store.postgres.graph``, the ``postgres`` extra, same database
and transactions as a PostgreSQL memory store) and ``FalkorDBGraphStore``
(``memlane.store.falkordb``, the ``falkordb`` extra). ``models`` holds the records; ``resolve``
the pure name rules; ``engine`` the write rules; ``rank`` the search rules. What the LLM is
asked is ``memlane.prompts.graph_extraction``.
"""

from memlane.graph.base import GraphStore, build_graph_store
from memlane.graph.models import (
    Entity,
    ExtractedEntity,
    ExtractedRelation,
    GraphChanges,
    GraphSearchResult,
    Relation,
    ScoredRelation,
)
from memlane.graph.ops import GraphOps
from memlane.graph.resolve import entity_texts
from memlane.graph.settings import GraphSettings
from memlane.graph.store import OpsGraphStore

__all__ = [
    "Entity",
    "ExtractedEntity",
    "ExtractedRelation",
    "GraphChanges",
    "GraphOps",
    "GraphSearchResult",
    "GraphSettings",
    "GraphStore",
    "OpsGraphStore",
    "Relation",
    "ScoredRelation",
    "build_graph_store",
    "entity_texts",
]
