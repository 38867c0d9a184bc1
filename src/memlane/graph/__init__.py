"""Graph memory: entities and relations extracted in the same LLM call as the facts.

``GraphStore`` (``base``) is the contract; ``SQLiteGraphStore`` (embedded default, same file as
the memories) and ``FalkorDBGraphStore`` (``memlane.graph.falkordb``, the ``falkordb`` extra)
implement it. ``extraction`` holds what the LLM fills; ``resolve`` the pure name rules;
``engine`` the write rules; ``rank`` the search rules.
"""

from memlane.graph.base import GraphStore
from memlane.graph.extraction import (
    GRAPH_INSTRUCTIONS,
    ExtractedEntity,
    ExtractedRelation,
    GraphExtraction,
    GraphFields,
)
from memlane.graph.models import Entity, GraphChanges, GraphSearchResult, Relation, ScoredRelation
from memlane.graph.provider import FalkorDBGraphConfig, SQLiteGraphConfig, build_graph_store
from memlane.graph.resolve import entity_texts
from memlane.graph.settings import GraphSettings
from memlane.graph.sqlite import SQLiteGraphStore

__all__ = [
    "GRAPH_INSTRUCTIONS",
    "Entity",
    "ExtractedEntity",
    "ExtractedRelation",
    "FalkorDBGraphConfig",
    "GraphChanges",
    "GraphExtraction",
    "GraphFields",
    "GraphSearchResult",
    "GraphSettings",
    "GraphStore",
    "Relation",
    "SQLiteGraphConfig",
    "SQLiteGraphStore",
    "ScoredRelation",
    "build_graph_store",
    "entity_texts",
]
