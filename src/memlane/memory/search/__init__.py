"""The search pipeline: candidates per signal, fusion, periods, profile cues, query expansion
and reranking; ``pipeline.search`` runs one search.

Internal: ``Memory.search`` is the public entry point.
"""

__all__: list[str] = []
