"""One registry for every kind of provider (llm, embedder, vector_store, graph_store, reranker).

Built-in providers register exactly as third-party ones do: through the ``memlane.providers``
entry-point group, whose entries are callables taking the registry. Discovery is lazy and
happens once, on the first lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from memlane.errors import ConfigError, UnknownProviderError

__all__ = ["ENTRY_POINT_GROUP", "MEM0_ALTERNATIVES", "Kind", "Provider", "Registry", "problems", "registry"]

Kind = Literal["llm", "embedder", "vector_store", "graph_store", "reranker"]
ENTRY_POINT_GROUP = "memlane.providers"
_BUILTINS_ENTRY = "builtins"


@dataclass(frozen=True, slots=True)
class Provider:
    """A named way to build one kind of back end from its validated config."""

    kind: Kind
    name: str
    config_model: type[BaseModel]
    factory: Callable[[Any], Any]


class Registry:
    """Providers by kind and name."""

    def __init__(self, *, discover: bool = True) -> None:
        self._providers: dict[tuple[str, str], Provider] = {}
        self._discover = discover
        self._loaded = False
        self._lock = threading.RLock()

    def register(
        self,
        kind: Kind,
        name: str,
        config_model: type[BaseModel],
        factory: Callable[[Any], Any],
    ) -> None:
        """Register (or replace) the provider ``name`` of ``kind``."""
        with self._lock:
            self._providers[(kind, name)] = Provider(kind, name, config_model, factory)

    def names(self, kind: Kind) -> list[str]:
        """The registered provider names of one kind, sorted."""
        self._ensure_loaded()
        return sorted(n for k, n in self._providers if k == kind)

    def get(self, kind: Kind, name: str) -> Provider:
        """The provider, or ``UnknownProviderError`` listing the known names."""
        self._ensure_loaded()
        try:
            return self._providers[(kind, name)]
        except KeyError:
            hint = MEM0_ALTERNATIVES.get((kind, name)) or MEM0_ALTERNATIVES.get((kind, "*"))
            known = self.names(kind)
            raise UnknownProviderError(
                kind, name, known, hint if name in MEM0_NAMES[kind] else None
            ) from None

    def validate(self, kind: Kind, name: str, config: dict[str, Any] | BaseModel) -> BaseModel:
        """Validate a provider's config into its config model."""
        provider = self.get(kind, name)
        if isinstance(config, provider.config_model):
            return config
        data = config.model_dump() if isinstance(config, BaseModel) else config
        try:
            return provider.config_model.model_validate(data)
        except ValidationError as exc:
            lines = problems(exc.errors(), "config.", provider.config_model)
            raise ConfigError(
                f"invalid config for the {kind} provider {name!r}:\n"
                + "\n".join(f"  {line}" for line in lines)
            ) from None

    def create(self, kind: Kind, name: str, config: dict[str, Any] | BaseModel) -> Any:
        """Build the back end ``name`` of ``kind`` from its config."""
        return self.get(kind, name).factory(self.validate(kind, name, config))

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            found_builtins = False
            if self._discover:
                for ep in entry_points(group=ENTRY_POINT_GROUP):
                    found_builtins |= ep.name == _BUILTINS_ENTRY
                    _call_register(ep.load(), self, ep.name)
            if not found_builtins:  # running from a source tree that was never installed
                from memlane.providers import register_builtins

                register_builtins(self)


def _call_register(fn: Any, reg: Registry, name: str) -> None:
    if not callable(fn):
        raise ConfigError(f"entry point {name!r} in {ENTRY_POINT_GROUP!r} is not callable")
    fn(reg)


def problems(
    errors: Sequence[ErrorDetails], prefix: str = "", model: type[BaseModel] | None = None
) -> list[str]:
    """One readable line per problem of a pydantic ``ValidationError`` (its ``errors()``): where,
    and what is wrong; never the value given (it may be a key)."""
    lines: list[str] = []
    for error in errors:
        where = prefix + ".".join(str(part) for part in error["loc"]) if error["loc"] else prefix.rstrip(".")
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field" + (f"; the fields are: {', '.join(fields(model))}" if model else "")
        elif error["type"] in ("model_type", "model_attributes_type", "dict_type"):
            message = "must be an object (a dict of settings)"
        lines.append(f"{where or 'config'}: {message}")
    return lines


def fields(model: type[BaseModel]) -> list[str]:
    """The names a config model accepts (aliases included), sorted."""
    names = {name for name in model.model_fields}
    names |= {f.alias for f in model.model_fields.values() if isinstance(f.alias, str)}
    return sorted(names)


_LOCAL_SERVER = "use provider 'openai' with base_url {url} (any OpenAI-compatible endpoint)"
MEM0_ALTERNATIVES: dict[tuple[str, str], str] = {
    ("vector_store", "*"): "memlane keeps memories and vectors in its embedded store: use provider "
    "'sqlite' (config.path: the database file; the default); server stores (pgvector, qdrant…) are "
    "not built in yet",
    ("graph_store", "*"): "use provider 'sqlite' (embedded, the default with enable_graph: true) or "
    "'falkordb' (a graph server speaking openCypher, as Neo4j does)",
    ("embedder", "ollama"): _LOCAL_SERVER.format(url="http://localhost:11434/v1") + " and model e.g. "
    "'nomic-embed-text'",
    ("embedder", "lmstudio"): _LOCAL_SERVER.format(url="http://localhost:1234/v1"),
    ("embedder", "together"): _LOCAL_SERVER.format(url="https://api.together.xyz/v1"),
    ("embedder", "azure_openai"): _LOCAL_SERVER.format(url="https://<resource>.openai.azure.com/openai/v1"),
    ("embedder", "gemini"): _LOCAL_SERVER.format(
        url="https://generativelanguage.googleapis.com/v1beta/openai"
    ),
    ("embedder", "fastembed"): "use provider 'local' (sentence-transformers models, run by ONNX Runtime)",
    ("embedder", "*"): "use 'local' (a sentence-transformers model on this machine) or 'openai' with "
    "the base_url of an OpenAI-compatible embeddings endpoint",
    (
        "llm",
        "azure_openai",
    ): "use provider 'openai' with base_url https://<resource>.openai.azure.com/openai/v1 "
    "and your Azure key, or 'litellm' with model 'azure/<deployment>'",
    ("llm", "azure_openai_structured"): "use provider 'openai' with base_url "
    "https://<resource>.openai.azure.com/openai/v1 and your Azure key",
    ("llm", "openai_structured"): "use provider 'openai' (structured output is on by default)",
    (
        "llm",
        "gemini",
    ): "use provider 'openai' with base_url https://generativelanguage.googleapis.com/v1beta/openai "
    "and a Gemini key, or 'litellm' with model 'gemini/<model>'",
    ("llm", "xai"): "use provider 'openai' with base_url https://api.x.ai/v1",
    ("llm", "*"): "use 'openai' with the base_url of any OpenAI-compatible endpoint, or 'litellm' "
    "(pip install 'memlane[litellm]') for other APIs",
    ("reranker", "*"): "use 'sentence_transformer' (a local cross-encoder; config.model e.g. "
    "'BAAI/bge-reranker-base') or 'llm_reranker'",
}
"""What to use instead of a mem0 provider memlane lacks, by kind ("*": any other mem0 name)."""

MEM0_NAMES: dict[str, frozenset[str]] = {
    "vector_store": frozenset(
        "qdrant chroma pgvector milvus upstash_vector azure_ai_search azure_mysql pinecone mongodb "
        "redis valkey databricks elasticsearch vertex_ai_vector_search opensearch supabase weaviate "
        "faiss langchain s3_vectors baidu cassandra neptune turbopuffer oracledb".split()
    ),
    "graph_store": frozenset("neo4j memgraph neptune neptunedb kuzu apache_age".split()),
    "embedder": frozenset(
        "azure_openai ollama gemini vertexai together lmstudio langchain aws_bedrock fastembed".split()
    ),
    "llm": frozenset(
        "openai_structured azure_openai azure_openai_structured aws_bedrock gemini minimax xai sarvam "
        "langchain".split()
    ),
    "reranker": frozenset("cohere huggingface zero_entropy".split()),
}
"""mem0's provider names that memlane does not register (its factory lists)."""


registry = Registry()
"""The process-wide registry that ``MemoryConfig`` resolves providers in."""
