"""The shapes ``Memory`` takes and returns, for IDEs and type checkers.

Results stay plain dicts at runtime (mem0's shapes); these ``TypedDict`` classes only
document their keys. ``NotRequired`` keys are present only in some cases, as each says.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NotRequired, TypedDict

__all__ = [
    "AddResult",
    "AddResultItem",
    "ChatResult",
    "ChatUsage",
    "ContextCitation",
    "ContextResult",
    "DeleteResult",
    "GetAllResult",
    "GraphEntityItem",
    "GraphQueryResult",
    "GraphViewResult",
    "HistoryItem",
    "Id",
    "MemoryDetails",
    "MemoryItem",
    "MemoryVersionItem",
    "MessageDict",
    "Messages",
    "ProfileChangeItem",
    "ProfileResult",
    "ProfileSlotItem",
    "PromoteResult",
    "PruneResult",
    "PurgeResult",
    "ReprocessedAdd",
    "ReprocessResult",
    "ScopeItem",
    "SearchItem",
    "SourceMessageItem",
    "SearchResult",
    "TimeLike",
    "UpdateResult",
]

# -- what the methods take ---------------------------------------------------------------

Id = str | int
"""A user, agent, run or memory id: a string, or an int (turned into its string, as mem0 does)."""

TimeLike = str | int | float | date | datetime
"""A time: a datetime (naive means UTC), a date, an ISO-8601 string or Unix seconds."""


class MessageDict(TypedDict, total=False):
    """One message in mem0's (OpenAI's) form; ``content`` may also be a list of parts
    (``{"type": "text", "text": ...}``, ``{"type": "image_url", "image_url": {"url": ...}}``)."""

    role: str
    content: str | dict[str, Any] | list[dict[str, Any]]
    name: str
    metadata: dict[str, Any]


Messages = str | MessageDict | dict[str, Any] | list[MessageDict] | list[dict[str, Any]]
"""What ``add()`` remembers: a string (a user message), a message dict or a list of them."""

# -- what the methods return ---------------------------------------------------------------


class _Memory(TypedDict):
    """The keys of a memory in every result (mem0's shape)."""

    id: str
    memory: str
    hash: str
    metadata: dict[str, Any] | None
    created_at: str
    updated_at: str
    user_id: NotRequired[str]
    agent_id: NotRequired[str]
    run_id: NotRequired[str]
    actor_id: NotRequired[str]
    role: NotRequired[str]
    attributed_to: NotRequired[str]
    """The role an inferred memory came from (``"user"``, ``"assistant"``)."""
    expiration_date: NotRequired[str]


class MemoryItem(_Memory):
    """A memory as ``get`` and ``get_all`` return it."""

    score: NotRequired[None]
    """``get``: None (mem0's key)."""


class SearchItem(_Memory):
    """A memory as ``search`` returns it."""

    score: float
    """The fused score, in [0, 1]."""
    rerank_score: NotRequired[float]
    """``search(rerank=True)`` with a reranker."""
    score_details: NotRequired[dict[str, float]]
    """``search(explain=True)``: each signal's part."""


class SearchResult(TypedDict):
    results: list[SearchItem]
    relations: NotRequired[list[dict[str, str]]]
    """Graph on: ``{"source", "relationship", "destination"}`` triples related to the query."""


class GetAllResult(TypedDict):
    results: list[MemoryItem]
    relations: NotRequired[list[dict[str, str]]]
    """Graph on: ``{"source", "relationship", "target"}`` triples of the scope."""
    count: NotRequired[int]
    """Paged (``page`` or ``page_size`` given): how many match in all; then also the keys below."""
    page: NotRequired[int]
    page_size: NotRequired[int]
    next: NotRequired[int | None]
    previous: NotRequired[int | None]


class GraphQueryResult(TypedDict):
    """``graph_query()``: what the model's query found and what ran."""

    question: str
    dialect: str
    """``"cypher"`` (FalkorDB) or ``"plan"`` (the SQLite graph's query plan)."""
    query: str
    """The statement that ran: the model's Cypher with the scope bound and LIMIT set, or the SQL
    the plan became."""
    parameters: dict[str, Any]
    model_query: str | dict[str, Any]
    """What the model wrote: its Cypher, or its plan."""
    rows: list[dict[str, Any]]
    """The answer's rows (entities by name, relations as triples; plan: ``path``, ``end``, ``hops``)."""
    relations: list[dict[str, Any]]
    """The relations the query used, whole (both clocks, ``memory_ids``)."""
    citations: dict[str, list[str]]
    """Relation id -> the ids of the memories that support it."""
    warnings: list[str]
    usage: dict[str, int]
    """LLM ``calls``, ``prompt_tokens`` and ``completion_tokens`` this call spent."""


class AddResultItem(TypedDict):
    id: str
    memory: str
    event: str
    previous_memory: NotRequired[str]
    """UPDATE: the text before."""
    actor_id: NotRequired[str | None]
    """Verbatim adds: the message's ``name``."""
    role: NotRequired[str | None]
    """Verbatim adds: the message's role."""


class ProfileChangeItem(TypedDict):
    key: str
    value: str | None
    previous_value: str | None
    event: str
    memory_id: str | None


class AddResult(TypedDict):
    results: list[AddResultItem]
    relations: NotRequired[dict[str, list[list[dict[str, str]]]]]
    """Graph on: ``{"added_entities": [...], "deleted_entities": [...]}``."""
    profile: NotRequired[list[ProfileChangeItem]]
    """Profile on: the slots this add set, changed or cleared."""


class ReprocessedAdd(AddResult):
    """One pending add retried by ``reprocess``: its id, scope ids, message count and
    ``add()``'s answer."""

    id: str
    messages: int
    user_id: NotRequired[str]
    agent_id: NotRequired[str]
    run_id: NotRequired[str]


class ReprocessResult(TypedDict):
    results: list[ReprocessedAdd]
    remaining: int
    """Messages still waiting for extraction."""
    error: NotRequired[str]
    """Why the retry stopped (the LLM failed again)."""


class UpdateResult(TypedDict):
    message: str


class DeleteResult(TypedDict):
    message: str
    deleted: NotRequired[int]
    """``delete_all``: how many memories were deleted."""


class PurgeResult(TypedDict):
    message: str
    purged: int


class PromoteResult(TypedDict):
    """``promote()``'s answer: ``promoted`` is False when the memory was long-term already."""

    message: str
    id: str
    promoted: bool


class PruneResult(TypedDict):
    """``prune()``'s answer: how many expired memories were deleted (or would be, ``dry_run``)."""

    message: str
    pruned: int
    ids: list[str]
    dry_run: bool


class HistoryItem(TypedDict):
    id: str
    memory_id: str
    old_memory: str | None
    new_memory: str | None
    event: str
    created_at: str
    updated_at: str | None
    is_deleted: bool
    actor_id: str | None
    role: str | None


class ProfileSlotItem(TypedDict):
    key: str
    value: str
    memory_id: str | None
    valid_from: str | None
    valid_to: str | None
    recorded_at: str
    expired_at: str | None


class ProfileResult(TypedDict):
    profile: dict[str, str]
    slots: list[ProfileSlotItem]


class ContextCitation(TypedDict):
    """What one citation id of ``get_context`` (``p1``, ``r1``, ``m1``) stands for."""

    id: str
    kind: str
    """``"profile"`` (a slot), ``"relation"`` (a graph relation) or ``"memory"``."""
    text: str
    """The line the context shows for it, without the tag."""
    memory_id: str | None
    """The memory cited (memory), or the one the slot was written from (profile); None for a relation."""
    memory_ids: list[str]
    """Every memory behind it: the memory and its exact duplicates, a relation's supporting
    memories, the slot's memory."""
    source_ids: list[str]
    """The ids of the conversation messages those memories were made from."""
    date: str | None
    """When the fact was observed or became true (ISO-8601), when known."""
    key: NotRequired[str]
    """Profile: the slot's key (its value is in ``text``)."""
    relation: NotRequired[dict[str, str]]
    """Relation: ``{"id", "source", "relationship", "destination"}``."""


class ContextResult(TypedDict):
    """``get_context``: one deterministic, citable block for a prompt."""

    text: str
    citations: dict[str, ContextCitation]
    """Citation id (``"m1"``, as tagged ``[m1]`` in ``text``) -> what it stands for."""
    tokens: int
    """``text``'s length in ``tokenizer``'s tokens: never more than ``max_tokens``."""
    max_tokens: int
    tokenizer: str
    """The token counter used (``"wordpiece:all-MiniLM-L6-v2"``, or UTF-8 bytes without it)."""


class ChatUsage(TypedDict):
    calls: int
    prompt_tokens: int
    completion_tokens: int


class ChatResult(TypedDict):
    """``chat``: the answer, the context entries it cites, the context and the LLM's usage."""

    answer: str
    citations: list[ContextCitation]
    """Only ids present in ``context`` (invented ones are dropped and logged), in the order cited."""
    context: ContextResult
    usage: ChatUsage
    remembered: NotRequired[AddResult]
    """``chat(remember=True)``: what ``add()`` did with the exchange."""


# -- the memory browser (``Memory.scopes``, ``memory_details``, ``graph_view``) ------------


class ScopeItem(TypedDict):
    """One user, agent or run that has memories."""

    type: str
    """``"user"``, ``"agent"`` or ``"run"``."""
    id: str
    total_memories: int
    """Its current (not deleted, not expired) memories."""
    created_at: str | None
    """When its oldest current memory was written."""
    last_activity: str | None
    """The latest ``created_at`` / ``updated_at`` among its current memories."""


class MemoryVersionItem(TypedDict):
    version: int
    text: str
    valid_from: str | None
    valid_to: str | None
    recorded_at: str
    expired_at: str | None
    """None for the current version."""


class SourceMessageItem(TypedDict):
    """A conversation message a memory was made from."""

    id: str
    role: str
    content: str
    name: str | None


class GraphEntityItem(TypedDict):
    id: str
    name: str
    degree: int
    """How many of the returned relations touch it."""


class MemoryDetails(TypedDict):
    """``memory_details``: everything known about one memory, deleted or not."""

    id: str
    memory: MemoryItem | None
    """The current memory; None once deleted."""
    deleted: bool
    versions: list[MemoryVersionItem]
    """Every text it had, oldest first."""
    history: list[HistoryItem]
    sources: list[SourceMessageItem]
    """Its provenance: the messages it was made from."""
    entities: list[GraphEntityItem]
    """The entities of ``relations``."""
    relations: list[dict[str, Any]]
    """Graph on: the relations it supports, current and invalidated (``Relation.as_dict()``)."""


class GraphViewResult(TypedDict):
    """``graph_view``: a scope's graph, bounded for drawing."""

    enabled: bool
    """False when the graph is off (then everything else is empty)."""
    entities: list[GraphEntityItem]
    """The ``max_entities`` most connected entities, most connected first."""
    relations: list[dict[str, Any]]
    """The relations between them (``Relation.as_dict()``, with ``memory_ids``; an invalidated
    one has ``invalidated_at`` set), newest first."""
    total_entities: int
    total_relations: int
    truncated: bool
    """True when entities or relations were left out."""
