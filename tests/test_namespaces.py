"""Every public namespace, pinned: what a user or a back-end author may import.

The public API is ``memlane`` and the ``__all__`` of the packages listed here (their
``__init__`` files hold only extension points: contracts, config models, fakes, records). Every
other module is implementation and may change; a name added or removed here is an API change
and belongs in CHANGELOG.md.
"""

from __future__ import annotations

import importlib

import pytest

NAMESPACES: dict[str, list[str]] = {
    "memlane.config": [
        "DEFAULT_PROFILE_SLOTS", "EmbedderSection", "GraphStoreSection", "IdempotencyConfig",
        "LLMSection", "MemoryConfig", "ProfileConfig", "ProviderSection", "RerankerSection",
        "SearchConfig", "ShortTermConfig", "VectorStoreSection",
    ],
    "memlane.client": ["API_KEY_ENV", "AsyncClient", "Client"],
    "memlane.embed": ["Embedder", "HashEmbedder", "Purpose"],
    "memlane.errors": [
        "AuthenticationError", "ConfigError", "ConflictError", "DimensionMismatchError", "EmbedderError",
        "EmbedderMismatchError", "EmptyOutputError", "InvalidFilterError", "InvalidInputError", "LLMError",
        "MemlaneError", "MissingDependencyError", "NotFoundError", "ProviderError", "RemoteError",
        "RerankError", "StoreError", "UnknownProviderError",
    ],
    "memlane.eval": [
        "EvalResult", "evaluate_locomo", "ingest_cache", "load_locomo", "provenance", "table",
        "write_reports",
    ],
    "memlane.graph": [
        "Entity", "ExtractedEntity", "ExtractedRelation", "GraphChanges", "GraphOps", "GraphSearchResult",
        "GraphSettings", "GraphStore", "OpsGraphStore", "Relation", "ScoredRelation", "build_graph_store",
        "entity_texts",
    ],
    "memlane.mcp": ["INSTRUCTIONS", "Caller", "Resolve", "build_server", "serve_stdio"],
    "memlane.graph.query": [
        "DEFAULT_LIMIT", "DEFAULT_TIMEOUT_MS", "MAX_HOPS", "MAX_LIMIT", "CypherQuery", "GraphQuery",
        "GraphQueryOutcome", "QueryDialect", "QueryPlan", "ValidatedCypher", "validate_cypher",
    ],
    "memlane.llm": [
        "ChatMessage", "ChatReply", "ChatRequest", "FakeCall", "FakeLLM", "LLM", "LLMResult",
        "OutputParseError", "RetryPolicy", "StructuredLLM", "TransientLLMError", "TruncatedOutputError",
        "Usage", "VisionSettings", "parse_output",
    ],
    "memlane.memory": ["AsyncMemory", "Memory", "migrate"],
    "memlane.memory.search": [],
    "memlane.memory.write": [],
    "memlane.prompts": [],
    "memlane.redact": [
        "REDACTED", "is_secret_key", "redact", "redact_secrets", "redact_text", "redact_url",
        "redacted_config", "secrets_of_url",
    ],
    "memlane.registry": [
        "Dependencies", "ENTRY_POINT_GROUP", "Factory", "Kind", "LLMSection", "MEM0_ALTERNATIVES", "Provider",
        "ProviderSection", "Registry", "problems", "providers",
    ],
    "memlane.rerank": [
        "CrossEncoderConfig", "CrossEncoderReranker", "LLMReranker", "LLMRerankerConfig", "Reranker",
        "RerankerSettings", "build_reranker",
    ],
    "memlane.store": ["MemoryStore", "PendingAdd", "StoreTransaction"],
    "memlane.store.falkordb": ["FalkorDBGraphStore", "LocalFalkorDB"],
    "memlane.store.sqlite": ["SQLiteStore", "register"],
    "memlane.types": [
        "AddResult", "AddResultItem", "ChatResult", "ChatUsage", "ContextCitation", "ContextResult",
        "DeleteResult", "GetAllResult", "GraphEntityItem", "GraphQueryResult", "GraphViewResult",
        "HistoryItem", "Id", "MemoryDetails", "MemoryItem", "MemoryVersionItem", "MessageDict", "Messages",
        "ProfileChangeItem", "ProfileResult", "ProfileSlotItem", "PromoteResult", "PruneResult",
        "PurgeResult", "ReprocessResult", "ReprocessedAdd", "ScopeItem", "SearchItem", "SearchResult",
        "SourceMessageItem", "TimeLike", "UpdateResult",
    ],
    "memlane.cli": ["cli", "main"],
}  # fmt: skip


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_each_public_namespace_exports_exactly_its_extension_points(namespace: str) -> None:
    module = importlib.import_module(namespace)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{namespace} declares no __all__"
    assert sorted(exported) == sorted(NAMESPACES[namespace]), f"{namespace}.__all__ changed"
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{namespace}.{name} is listed but missing"


def test_the_top_level_re_exports_only_public_names() -> None:
    import memlane

    names = ("memlane.errors", "memlane.types", "memlane.memory", "memlane.client")
    owners = [importlib.import_module(n) for n in names]
    reexported = {name for owner in owners for name in owner.__all__}
    extra = set(memlane.__all__) - reexported
    assert extra == {"MemoryConfig", "__version__", "providers"}
