"""Every response model memlane sends to an LLM, by name: the schema tests run over all of them."""

from __future__ import annotations

from pydantic import BaseModel

from memlane.memory.write import infer
from memlane.prompts import fact_extraction, graph_extraction, procedural, query_rewrite, rerank, vision

RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "facts": fact_extraction.Facts,
    "facts+profile": infer.FactsWithProfile,
    **{
        "update" + ("+graph" if graph else "") + ("+profile" if profile else ""): model
        for (graph, profile), model in infer._UPDATE_MODELS.items()
    },
    "graph": graph_extraction.GraphExtraction,
    "procedural": procedural.ProceduralSummary,
    "vision": vision.ImageDescription,
    "query_rewrite": query_rewrite.QueryRewrite,
    "rerank-3": rerank.scores_for(3),
    f"rerank-{rerank.MAX_DOCUMENTS}": rerank.scores_for(rerank.MAX_DOCUMENTS),
}
"""Each model once; ``rerank-100`` is the largest schema any call sends."""
