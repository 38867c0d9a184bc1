"""``MemoryConfig``: one validated section per kind of back end, in mem0's ``{provider, config}`` shape.

Each section's ``config`` is validated against the config model its provider registered, so a
misspelt provider or field fails when the config loads, with a message naming the known ones.
Every back end is built the same way: ``section.build(deps)`` (``memlane.registry.Dependencies``:
the memory store for the graph, the Memory's LLM for the reranker).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from memlane.embed.base import Embedder
from memlane.errors import ConfigError, MemlaneError
from memlane.graph.base import GraphStore
from memlane.models import is_profile_key
from memlane.redact import redact_text
from memlane.registry import Kind, LLMSection, ProviderSection, problems
from memlane.rerank.base import Reranker
from memlane.store.base import MemoryStore

__all__ = [
    "DEFAULT_PROFILE_SLOTS",
    "EmbedderSection",
    "GraphStoreSection",
    "IdempotencyConfig",
    "LLMSection",
    "MemoryConfig",
    "ProfileConfig",
    "ProviderSection",
    "RerankerSection",
    "SearchConfig",
    "ShortTermConfig",
    "VectorStoreSection",
]


class VectorStoreSection(ProviderSection[MemoryStore]):
    kind: ClassVar[Kind] = "vector_store"
    provider: str = "sqlite"


class EmbedderSection(ProviderSection[Embedder]):
    kind: ClassVar[Kind] = "embedder"
    provider: str = "local"


class GraphStoreSection(ProviderSection[GraphStore]):
    """mem0's ``graph_store`` section; ``custom_prompt``, ``threshold`` and ``llm`` are accepted
    for mem0 configs (``threshold`` sets the entity match threshold; the others are ignored).

    Without a ``provider`` (and with ``enable_graph``), the graph lives with the memories:
    ``for_store`` picks the graph provider the memory store names in its ``graph_provider``
    attribute (PostgreSQL: ``postgres``), else ``sqlite``."""

    kind: ClassVar[Kind] = "graph_store"
    provider: str = "sqlite"
    custom_prompt: str | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)
    llm: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _mem0_threshold(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("threshold") is not None:
            config = dict(data.get("config") or {})
            config.setdefault("match_threshold", data["threshold"])
            data = {**data, "config": config}
        return data

    def for_store(self, store: MemoryStore) -> GraphStoreSection:
        """This section, or (when it names no provider) the same with the store's graph provider."""
        name = str(getattr(store, "graph_provider", "sqlite"))
        if "provider" in self.model_fields_set or name == self.provider:
            return self
        return GraphStoreSection.model_validate({**self.model_dump(exclude={"provider"}), "provider": name})


class RerankerSection(ProviderSection[Reranker]):
    """mem0's ``reranker`` section: ``sentence_transformer`` (alias ``cross_encoder``: a local
    cross-encoder) or ``llm_reranker`` (the Memory's LLM unless ``config.llm`` names another)."""

    kind: ClassVar[Kind] = "reranker"
    provider: str = "sentence_transformer"


class SearchConfig(BaseModel):
    """How search fuses its signals (see ``memlane.memory.search`` and the README)."""

    model_config = ConfigDict(extra="forbid")

    dense_weight: float = Field(default=0.4, ge=0, description="weight of vector similarity")
    keyword_weight: float = Field(default=0.6, ge=0, description="weight of BM25 full-text")
    keyword_saturation: float = Field(
        default=4.0, gt=0, description="BM25 score worth 0.5 in the calibrated relevance"
    )
    dense_floor: float = Field(
        default=0.5, ge=0, le=1, description="the best cosine counts as a full match only from here"
    )
    keyword_floor: float = Field(
        default=8.0, ge=0, description="the best BM25 score counts as a full match only from here"
    )
    neighbour_weight: float = Field(
        default=0.35, ge=0, le=1, description="share of a neighbouring turn's score a memory gets"
    )
    neighbour_window: int = Field(
        default=2, ge=0, le=10, description="conversation turns on each side that count as neighbours"
    )
    candidates: int = Field(default=200, ge=1, le=10_000, description="candidates per signal")
    graph_weight: float = Field(
        default=0.3, ge=0, le=1, description="weight of graph links (when the graph is on) in the fused score"
    )
    time_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="weight of the time signal when the query names a period (0 turns it off)",
    )
    profile_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="lift of the memories behind the profile slots a query asks about (profile on)",
    )
    mmr_lambda: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="maximal marginal relevance: 1 is pure relevance, lower values trade it for "
        "diversity among the top k; None (default) turns it off",
    )
    rerank_candidates: int = Field(
        default=30,
        ge=1,
        le=1000,
        description="how many of the best fused hits the reranker scores (search(rerank=True))",
    )
    rerank_weight: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="1: the reranker's order; lower blends in the fused score (a hedge against a "
        "weak reranker)",
    )
    expand_queries: int = Field(
        default=0,
        ge=0,
        le=10,
        description="other phrasings of each query asked of the LLM and searched too (0: off)",
    )
    time_after_days: float = Field(
        default=14.0,
        ge=0,
        description="a memory observed up to this many days after the period gets half the time signal",
    )
    recency_weight: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="weight of recency: a memory observed d days before the reference date gets "
        "0.5 ** (d / recency_half_life_days) times this (0, the default, turns it off)",
    )
    recency_half_life_days: float = Field(
        default=30.0, gt=0, description="days after which a memory's recency signal has halved"
    )


DEFAULT_PROFILE_SLOTS = (
    "name", "preferred_name", "age", "birthday", "gender", "pronouns",
    "home_city", "hometown", "country", "languages",
    "occupation", "employer", "education",
    "partner", "children", "pets",
    "diet", "allergies", "health", "hobbies", "favourite_food",
)  # fmt: skip
"""The profile keys used unless ``profile.slots`` replaces them: who the user is, where they
live, what they do, who they live with, and what they eat, avoid and enjoy."""

MAX_PROFILE_SLOTS = 100


class ProfileConfig(BaseModel):
    """Profile slots: keyed, single-valued facts about a scope's owner (``home_city = Bangalore``),
    filled in add()'s one LLM call. Off by default; see the README's "Profile"."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="extract profile slots in add()'s LLM call")
    slots: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROFILE_SLOTS),
        max_length=MAX_PROFILE_SLOTS,
        description="the only keys the model may fill (snake_case, at most 40 characters, at most "
        "100 keys); a key it answers outside this list is dropped with a logged warning",
    )

    @field_validator("slots")
    @classmethod
    def _check_slots(cls, slots: list[str]) -> list[str]:
        for key in slots:
            if not is_profile_key(key):
                raise ValueError(
                    f"profile slot {key!r} must be snake_case (a-z, 0-9, _; starting with a "
                    "letter) and at most 40 characters"
                )
        repeated = sorted({k for k in slots if slots.count(k) > 1})
        if repeated:
            raise ValueError(f"profile slots listed twice: {', '.join(repeated)}")
        return slots

    @model_validator(mode="after")
    def _slots_when_enabled(self) -> ProfileConfig:
        if self.enabled and not self.slots:
            raise ValueError("profile.enabled needs at least one slot in profile.slots")
        return self


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class ShortTermConfig(BaseModel):
    """Short-term memory: memories scoped to a ``run_id``. See the README's "Short- and long-term"."""

    model_config = ConfigDict(extra="forbid")

    ttl: float | None = Field(
        default=None,
        gt=0,
        description='how long a run\'s memories stay after created_at: seconds or "30m", "12h", '
        '"7d", "2w"; null (default, as mem0): only their expiration_date ends them',
    )
    run_boost: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="search(run_id=..., long_term=True): a run memory's score s becomes "
        "s + run_boost * (1 - s)",
    )
    promote_recurring: bool = Field(
        default=False,
        description="a fact added in one run that a memory of another run of the same user "
        "(or agent) already holds promotes that memory to long-term (off by default: as in mem0, "
        "an add never changes another memory's scope)",
    )
    promote_similarity: float = Field(
        default=0.92, gt=0, le=1, description="cosine from which two facts of two runs are the same"
    )

    @field_validator("ttl", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return _seconds("ttl", value)


def _seconds(name: str, value: Any) -> Any:
    """A duration given as text ("30m", "12h", "7d", "2w", "90") in seconds; other values as is."""
    if not isinstance(value, str):
        return value
    found = _DURATION.match(value.lower())
    if found is None:
        raise ValueError(f'{name} {value!r} is not a duration: use seconds, "30m", "12h", "7d" or "2w"')
    return float(found.group(1)) * _SECONDS[found.group(2)]


class IdempotencyConfig(BaseModel):
    """``add(idempotency_key=...)``: how long a key's answer is kept, how long a repeat waits."""

    model_config = ConfigDict(extra="forbid")

    ttl: float = Field(
        default=86_400.0,
        gt=0,
        description='how long a key is remembered after its first add (seconds or "30m", "12h", '
        '"7d"); a repeat after that adds again. Expired keys are forgotten lazily, by later adds',
    )
    wait: float = Field(
        default=60.0,
        ge=0,
        description="how long (seconds) an add waits for another add holding the same key to "
        "finish before raising ConflictError (retry later)",
    )
    stale_after: float = Field(
        default=900.0,
        gt=0,
        description="seconds after which an add holding a key is taken to have died (a killed "
        "process): the next add with the key does the work (the first can no longer commit)",
    )

    @field_validator("ttl", "wait", "stale_after", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        return _seconds(str(info.field_name), value)


class MemoryConfig(BaseModel):
    """The whole configuration; every field has a default, so ``MemoryConfig()`` works offline."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # errors never quote a secret

    vector_store: VectorStoreSection = Field(default_factory=VectorStoreSection)
    embedder: EmbedderSection = Field(default_factory=EmbedderSection)
    llm: LLMSection | None = None
    graph_store: GraphStoreSection | None = None
    reranker: RerankerSection | None = None
    enable_graph: bool = Field(
        default=False,
        description="keep entities and relations (in the memory store's database: the embedded "
        "SQLite graph, or the PostgreSQL one with a postgres store; unless graph_store names another)",
    )
    search: SearchConfig = Field(default_factory=SearchConfig)
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    short_term: ShortTermConfig = Field(default_factory=ShortTermConfig)
    idempotency: IdempotencyConfig = Field(default_factory=IdempotencyConfig)
    pipeline: Literal["single", "classic"] = Field(
        default="single",
        description="single: one LLM call per add(); classic: mem0 1.x's extract-then-decide",
    )
    infer_candidates: int = Field(
        default=10, ge=0, le=100, description="existing memories shown to the model per add()"
    )
    custom_instructions: str | None = None
    custom_fact_extraction_prompt: str | None = None
    custom_update_memory_prompt: str | None = None
    history_db_path: str | None = Field(
        default=None, description="accepted for mem0 configs; memlane keeps history in the store"
    )
    version: str = Field(default="v1.1", description="accepted for mem0 configs; ignored")

    @classmethod
    def load(cls, data: dict[str, Any] | MemoryConfig | None) -> MemoryConfig:
        """Validate a config dict; raise ``ConfigError`` (or the memlane error behind it)."""
        if isinstance(data, MemoryConfig):
            return data
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"config must be a dict, got {type(data).__name__}")
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise _config_error(exc) from None


def _config_error(exc: ValidationError) -> MemlaneError:
    """One error for a config that did not validate: memlane's own when it is the only problem
    (an unknown provider…), else a ``ConfigError`` with one line per problem."""
    errors = exc.errors()
    causes = [(error.get("ctx") or {}).get("error") for error in errors]
    if len(errors) == 1 and isinstance(causes[0], MemlaneError):
        return causes[0]
    lines: list[str] = []
    for error, cause in zip(errors, causes, strict=True):
        if isinstance(cause, MemlaneError):
            lines.extend(line.strip() for line in str(cause).splitlines() if line.strip())
        else:
            lines.extend(problems([error]))
    return ConfigError(redact_text("invalid memlane config:\n" + "\n".join(f"  {line}" for line in lines)))
