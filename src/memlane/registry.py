"""One registry for every kind of back end (llm, embedder, vector_store, graph_store, reranker).

A provider is a name, a pydantic config model and a factory. Every factory has one shape,
``factory(config, deps) -> back end``: its validated config, and the ``Dependencies`` a back end
may need from the others (the memory store a graph shares its file with, the LLM a reranker
scores with). A config section (``ProviderSection``: ``{"provider": name, "config": {...}}``)
names a provider, and ``section.build(deps)`` is how every back end is built.

Providers register through the ``memlane.providers`` entry-point group, built-ins exactly as
third parties do (a callable that receives the registry); discovery is lazy and happens once,
on the first lookup. The process-wide registry is ``memlane.providers``. This module imports no
provider: they are loaded through their entry points only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar, cast, overload

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from memlane.errors import ConfigError, UnknownProviderError
from memlane.llm.base import LLM
from memlane.redact import redact

if TYPE_CHECKING:
    from memlane.embed.base import Embedder
    from memlane.graph.base import GraphStore
    from memlane.rerank.base import Reranker
    from memlane.store.base import MemoryStore

__all__ = [
    "ENTRY_POINT_GROUP",
    "MEM0_ALTERNATIVES",
    "Dependencies",
    "Factory",
    "Kind",
    "LLMSection",
    "Provider",
    "ProviderSection",
    "Registry",
    "problems",
    "providers",
]

Kind = Literal["llm", "embedder", "vector_store", "graph_store", "reranker"]
ENTRY_POINT_GROUP = "memlane.providers"
_BUILTINS = EntryPoint(name="builtins", value="memlane._builtins:register_builtins", group=ENTRY_POINT_GROUP)

ConfigT = TypeVar("ConfigT", bound=BaseModel)
T = TypeVar("T")
_Config: TypeAlias = dict[str, Any] | BaseModel
"""A provider's config: a dict, or a model validated into the provider's config model."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What a back end may need from the others; a factory uses what it needs, ignores the rest."""

    store: MemoryStore | None = None
    """The memory store (the ``sqlite`` graph shares an SQLite store's file and connection)."""
    llm: LLM | None = None
    """The Memory's LLM (``llm_reranker`` scores with it unless its config names another)."""


NO_DEPENDENCIES = Dependencies()

Factory: TypeAlias = Callable[[ConfigT, Dependencies], T]
"""How a provider builds its back end: ``factory(validated config, dependencies)``."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A named way to build one kind of back end from its validated config."""

    kind: Kind
    name: str
    config_model: type[BaseModel]
    factory: Factory[Any, object]


class Registry:
    """Providers by kind and name."""

    def __init__(self, *, discover: bool = True) -> None:
        self._providers: dict[tuple[str, str], Provider] = {}
        self._discover = discover
        self._loaded = False
        self._lock = threading.RLock()

    # one overload per kind: a factory must build that kind's contract, and create() returns it
    @overload
    def register(
        self, kind: Literal["llm"], name: str, config_model: type[ConfigT], factory: Factory[ConfigT, LLM]
    ) -> None: ...
    @overload
    def register(
        self,
        kind: Literal["embedder"],
        name: str,
        config_model: type[ConfigT],
        factory: Factory[ConfigT, Embedder],
    ) -> None: ...
    @overload
    def register(
        self,
        kind: Literal["vector_store"],
        name: str,
        config_model: type[ConfigT],
        factory: Factory[ConfigT, MemoryStore],
    ) -> None: ...
    @overload
    def register(
        self,
        kind: Literal["graph_store"],
        name: str,
        config_model: type[ConfigT],
        factory: Factory[ConfigT, GraphStore],
    ) -> None: ...
    @overload
    def register(
        self,
        kind: Literal["reranker"],
        name: str,
        config_model: type[ConfigT],
        factory: Factory[ConfigT, Reranker],
    ) -> None: ...
    def register(
        self, kind: Kind, name: str, config_model: type[BaseModel], factory: Factory[Any, object]
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

    def validate(self, kind: Kind, name: str, config: _Config) -> BaseModel:
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

    @overload
    def create(self, kind: Literal["llm"], name: str, config: _Config, deps: Dependencies = ...) -> LLM: ...
    @overload
    def create(
        self, kind: Literal["embedder"], name: str, config: _Config, deps: Dependencies = ...
    ) -> Embedder: ...
    @overload
    def create(
        self, kind: Literal["vector_store"], name: str, config: _Config, deps: Dependencies = ...
    ) -> MemoryStore: ...
    @overload
    def create(
        self, kind: Literal["graph_store"], name: str, config: _Config, deps: Dependencies = ...
    ) -> GraphStore: ...
    @overload
    def create(
        self, kind: Literal["reranker"], name: str, config: _Config, deps: Dependencies = ...
    ) -> Reranker: ...
    def create(self, kind: Kind, name: str, config: _Config, deps: Dependencies = NO_DEPENDENCIES) -> object:
        """Build the back end ``name`` of ``kind`` from its config and what it may need of the others."""
        return self.get(kind, name).factory(self.validate(kind, name, config), deps)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            found = list(entry_points(group=ENTRY_POINT_GROUP)) if self._discover else []
            builtins = [ep for ep in found if ep.name == _BUILTINS.name] or [_BUILTINS]  # never installed
            for ep in (*builtins, *(ep for ep in found if ep.name != _BUILTINS.name)):
                _call_register(ep.load(), self, ep.name)  # built-ins first: a plug-in may replace one


def _call_register(fn: Any, reg: Registry, name: str) -> None:
    if not callable(fn):
        raise ConfigError(f"entry point {name!r} in {ENTRY_POINT_GROUP!r} is not callable")
    fn(reg)


class ProviderSection(BaseModel, Generic[T]):
    """``{"provider": name, "config": {...}}``: one back end of one kind (``T``: its contract).

    ``config`` is validated against the config model the provider registered, so a misspelt
    provider or field fails when the section loads; ``build(deps)`` makes the back end.
    """

    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[Kind]

    provider: str
    config: dict[str, Any] = Field(default_factory=dict)
    _parsed: BaseModel | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _none_config(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("config") is None and "config" in data:
            data = {**data, "config": {}}
        return data

    @model_validator(mode="after")
    def _validate_provider(self) -> ProviderSection[T]:
        self._parsed = providers.validate(self.kind, self.provider, self.config)
        return self

    @property
    def parsed(self) -> BaseModel:
        """The provider's validated config model."""
        if self._parsed is None:
            self._parsed = providers.validate(self.kind, self.provider, self.config)
        return self._parsed

    def build(self, deps: Dependencies = NO_DEPENDENCIES) -> T:
        """A new back end from this section, given what it may need of the others."""
        built = providers.create(self.kind, self.provider, self.parsed, deps)
        return cast(T, built)  # create() is typed per kind; ``kind`` is the one T was declared for

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:  # never a secret of the raw config
        for name, value in super().__repr_args__():
            yield name, redact(value) if isinstance(value, (dict, str)) else value


class LLMSection(ProviderSection[LLM]):
    """An LLM: the Memory's (``MemoryConfig.llm``), or another back end's own (a reranker's)."""

    kind: ClassVar[Kind] = "llm"


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
    ("vector_store", "*"): "use provider 'sqlite' (embedded; config.path: the database file; the "
    "default) or 'postgres' (PostgreSQL with pgvector, mem0's 'pgvector' section works as is: "
    "pip install 'memlane[postgres]'); other server stores (qdrant…) are not built in",
    ("graph_store", "*"): "use provider 'sqlite' (embedded, the default with enable_graph: true), "
    "'postgres' (PostgreSQL: the default with a postgres memory store) or 'falkordb' (a graph server "
    "speaking openCypher, as Neo4j does)",
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
        "qdrant chroma milvus upstash_vector azure_ai_search azure_mysql pinecone mongodb "
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


providers = Registry()
"""The process-wide registry that config sections resolve providers in (``memlane.providers``)."""
