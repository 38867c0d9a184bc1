"""The search pipeline: candidates per signal, fusion, periods, profile cues, query expansion
and reranking; ``pipeline.search`` runs one search."""
