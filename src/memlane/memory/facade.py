"""``Memory``: the mem0-compatible façade. Each public method is a thin one: it checks its
arguments, calls one pipeline over the back ends (``Backends``) and returns mem0's result shape
(``memlane.types``). The everyday calls are here; mixins hold the rest: ``memory.answers``
(get_context, chat, graph_query), ``memory.browse`` (scopes, memory_details, graph_view: the
memory browser's reads) and ``memory.upkeep`` (promote, prune, erasure, copies)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.config import MemoryConfig
from memlane.embed.base import Embedder
from memlane.errors import ConfigError, InvalidInputError
from memlane.filters import and_
from memlane.graph.base import GraphStore
from memlane.llm.base import LLM
from memlane.memory import arguments, erase, kinds, profile, read, shortterm
from memlane.memory.answers import CONFIGURE_LLM, Answers
from memlane.memory.backends import Backends
from memlane.memory.browse import Browse
from memlane.memory.scope import exact_scope, require_plain_scope, resolve_scope, scope_ids, validate_id
from memlane.memory.search.pipeline import search as run_search
from memlane.memory.search.request import search_request
from memlane.memory.times import live_filter, parse_expiration, parse_timestamp
from memlane.memory.upkeep import Upkeep
from memlane.memory.write import add as write_add
from memlane.memory.write import once, pending
from memlane.memory.write import update as write_update
from memlane.memory.write.messages import clean_metadata, normalize_messages, update_metadata
from memlane.models import Usage
from memlane.redact import redact_text
from memlane.rerank.base import Reranker
from memlane.store.base import MemoryStore
from memlane.types import (
    AddResult,
    DeleteResult,
    GetAllResult,
    HistoryItem,
    Id,
    MemoryItem,
    Messages,
    ProfileResult,
    ProfileSlotItem,
    ReprocessResult,
    SearchResult,
    TimeLike,
    UpdateResult,
)

__all__ = ["Memory"]

_LLM_NEEDED = (
    f"add(infer=True) needs an LLM: {CONFIGURE_LLM}, "
    "or call add(..., infer=False) to store the messages verbatim"
)


class Memory(Answers, Browse, Upkeep):
    """Long-term memory: ``add`` conversations, ``search`` them, keep every version.

    ``Memory()`` runs offline: one SQLite file under ``~/.memlane`` and a local embedder.
    Pass a ``MemoryConfig`` (or a mem0-style config dict) to choose other back ends, or
    ready-made ``store`` / ``embedder`` / ``llm`` / ``graph`` / ``reranker`` objects.
    """

    def __init__(
        self,
        config: MemoryConfig | dict[str, Any] | None = None,
        *,
        store: MemoryStore | None = None,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        graph: GraphStore | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.backends = Backends.build(
            config, store=store, embedder=embedder, llm=llm, graph=graph, reranker=reranker
        )
        """The back ends every call runs on."""

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> Memory:
        """Build from a config dict (memlane's or mem0's shape); ``ConfigError`` if invalid."""
        return cls(MemoryConfig.load(config_dict))

    # -- the back ends ---------------------------------------------------------------------

    @property
    def config(self) -> MemoryConfig:
        return self.backends.config

    @property
    def store(self) -> MemoryStore:
        return self.backends.store

    @property
    def embedder(self) -> Embedder:
        return self.backends.embedder

    @property
    def llm(self) -> LLM | None:
        return self.backends.llm

    @llm.setter
    def llm(self, llm: LLM | None) -> None:
        self.backends.llm = llm

    @property
    def graph(self) -> GraphStore | None:
        """Entities and relations, when the graph is on (``enable_graph`` or ``graph_store``)."""
        return self.backends.graph

    @property
    def reranker(self) -> Reranker | None:
        """Used by ``search(rerank=True)`` when a ``reranker`` is configured or given."""
        return self.backends.reranker

    @property
    def llm_usage(self) -> Usage:
        """LLM calls and tokens spent by this instance so far."""
        return self.backends.usage

    # -- writes ----------------------------------------------------------------------------

    def add(
        self,
        messages: Messages,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool | None = None,
        memory_type: str | None = None,
        prompt: str | None = None,
        timestamp: TimeLike | None = None,
        expiration_date: TimeLike | None = None,
        filters: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> AddResult:
        """Remember messages (a string, a message dict or a list of them).

        ``infer`` defaults to True when an LLM is configured and False otherwise; with
        ``infer=False`` each non-system message is stored verbatim.
        ``memory_type`` ("semantic", "episodic", "procedural") types every memory written (else
        the extraction call types each fact; verbatim ones are "semantic"); mem0's
        "procedural_memory" (with an ``agent_id``) stores the LLM's summary of the run.
        ``idempotency_key`` (a memlane extension): a repeat of this add with the same key and
        arguments, within ``idempotency.ttl``, answers what the first answered and writes
        nothing (a retry after a dropped connection); other arguments: ``ConflictError``.
        """
        scope, _ = resolve_scope(scope_ids(user_id, agent_id, run_id), filters)
        if filters and set(filters) - {"user_id", "agent_id", "run_id"}:
            raise InvalidInputError("add() takes only user_id, agent_id and run_id in filters")
        require_plain_scope(scope, "add")
        clean = clean_metadata(metadata)
        normalized = normalize_messages(messages)
        observed_at = parse_timestamp(timestamp)
        expires = parse_expiration(expiration_date)
        memory_type = kinds.add_type(memory_type)
        if memory_type is not None and memory_type != kinds.MEM0_PROCEDURAL:
            clean = {**clean, kinds.TYPE_KEY: memory_type}
            memory_type = None
        procedural = memory_type is not None and scope.agent_id is not None  # mem0: else ignored
        if infer is None:
            infer = self.llm is not None
        if (infer or procedural) and self.llm is None:
            raise ConfigError(_LLM_NEEDED)
        params = pending.params_of(clean, prompt, memory_type if procedural else None, observed_at, expires)
        infer = infer or procedural
        key = None if idempotency_key is None else validate_id("idempotency_key", idempotency_key)
        with self.backends.swap.shared():
            if key is None:
                return write_add.add(self.backends, scope, normalized, params, infer=infer)
            digest = once.request_hash(scope, normalized, params, infer)
            backends = self.backends
            return once.add_once(
                backends,
                key,
                digest,
                scope,
                lambda finish: write_add.add(backends, scope, normalized, params, infer=infer, finish=finish),
            )

    def reprocess(
        self, *, user_id: Id | None = None, agent_id: Id | None = None, run_id: Id | None = None
    ) -> ReprocessResult:
        """Retry the adds whose LLM call failed (their messages were kept), oldest first, for a
        scope (every id given must match) or all: ``{"results": [per add: id, scope ids,
        messages, results...], "remaining": messages still waiting}``, plus ``error`` when the
        LLM failed again (the retry stops there)."""
        scope = exact_scope(user_id, agent_id, run_id)
        if self.llm is None:
            raise ConfigError("reprocess() needs an LLM: configure the one the failed adds should use")
        with self.backends.swap.shared():
            return write_add.reprocess(self.backends, scope)

    def update(
        self,
        memory_id: Id,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        expiration_date: TimeLike | None = write_update.KEEP,
        data: str | None = None,
    ) -> UpdateResult:
        """Change a memory's text (a new version; the old one stays in history) or metadata.

        ``metadata`` is merged into the stored metadata (as mem0 does; ``{}`` changes nothing).
        ``data`` is mem0 1.x's name for ``text``; when both are given, ``text`` wins.
        ``expiration_date=None`` removes the memory's expiration date.
        """
        memory_id = validate_id("memory_id", memory_id)
        text = text if text is not None else data
        keep = expiration_date is write_update.KEEP
        if text is None and metadata is None and keep:
            raise InvalidInputError("update() needs text, metadata or expiration_date")
        if text is not None:
            arguments.check_size("text", arguments.validate_text("text", text))
        clean = update_metadata(metadata) if metadata is not None else None
        expires = write_update.KEEP if keep else parse_expiration(expiration_date)
        with self.backends.swap.shared():
            write_update.update(self.backends, memory_id, text, clean, expires)
        return {"message": "Memory updated successfully!"}

    def delete(self, memory_id: Id) -> DeleteResult:
        """Remove a memory from reads and search; its history keeps a DELETE row."""
        erase.delete(self.backends, validate_id("memory_id", memory_id))
        return {"message": "Memory deleted successfully!"}

    def delete_all(
        self,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        *,
        filters: dict[str, Any] | None = None,
    ) -> DeleteResult:
        """Delete every memory of a scope (all of them, in one transaction); say how many.

        It needs a plain id: an operator on an id (``in``, ``exists``) names no one to delete.
        """
        scope, where = resolve_scope(scope_ids(user_id, agent_id, run_id), filters)
        require_plain_scope(scope, "delete_all")
        deleted = erase.delete_all(self.backends, scope, where)
        return {"message": "Memories deleted successfully!", "deleted": deleted}

    # -- reads -----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        filters: dict[str, Any] | None = None,
        threshold: float | None = None,
        rerank: bool = False,
        explain: bool = False,
        show_expired: bool = False,
        reference_date: TimeLike | None = None,
        memory_type: str | Sequence[str] | None = None,
        long_term: bool = False,
        as_of: TimeLike | None = None,
    ) -> SearchResult:
        """The memories of a scope that best match ``query`` (dense + full-text, fused).

        A period the query names ("last weekend", "in May 2023") is read against
        ``reference_date`` (default: now) and lifts the memories observed in it.
        ``memory_type`` (a type or a list) keeps the memories of those types. A run's memories
        expire after ``short_term.ttl``; ``long_term=True`` with a ``run_id`` and a ``user_id``
        (or ``agent_id``) reads the run plus the owner's long-term memories, the run's lifted.
        ``as_of`` (a time) reads what memlane held then: each memory's text of that time (deleted
        ones until their deletion) and the relations of then (``memory.search.as_of``).
        """
        ids = scope_ids(user_id, agent_id, run_id)
        request = search_request(query, ids, filters, top_k=top_k, limit=limit, threshold=threshold,
                                 rerank=rerank, explain=explain, show_expired=show_expired,
                                 reference_date=reference_date, memory_type=memory_type,
                                 long_term=long_term, as_of=as_of)  # fmt: skip
        with self.backends.swap.shared():
            return run_search(self.backends, request)

    def get(self, memory_id: Id) -> MemoryItem | None:
        """One memory, or None if there is none with this id."""
        return read.get_memory(self.backends, validate_id("memory_id", memory_id))

    def get_all(
        self,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        show_expired: bool = False,
        page: int | None = None,
        page_size: int | None = None,
        memory_type: str | Sequence[str] | None = None,
        long_term: bool = False,
        as_of: TimeLike | None = None,
    ) -> GetAllResult:
        """The memories of a scope, newest first: the first ``top_k`` (or ``limit``; any size).

        With ``page`` (1-based) and/or ``page_size`` (default: ``top_k`` or 100), one page of
        them, plus ``count`` (how many match in all), ``page``, ``page_size`` and the ``next``
        and ``previous`` page numbers (None at the ends), as mem0's platform pages.
        ``memory_type`` (a type or a list) keeps the memories of those types; ``long_term``
        adds the owner's long-term memories to a run's (as ``search``). ``as_of`` (a time) lists
        them as memlane held them then (as ``search``): each memory's text of that time, those
        deleted since included, those recorded since left out; and the relations of then.
        """
        at = parse_timestamp(as_of, "as_of")
        scope, where = resolve_scope(scope_ids(user_id, agent_id, run_id), filters)
        k = arguments.validate_top_k(top_k, limit, arguments.LIST_TOP_K, maximum=None)
        given = top_k is not None or limit is not None
        paging = arguments.validate_paging(page, page_size, k if given else None)
        if not show_expired:
            where = and_(where, live_filter(self.config.short_term.ttl, at))
        if memory_type is not None:
            where = and_(where, kinds.type_filter(memory_type))
        if long_term:
            scope, where, _ = shortterm.long_term_scope(scope, where)
        return read.list_memories(self.backends, scope, where, k, paging, at)

    def history(self, memory_id: Id) -> list[HistoryItem]:
        """Every ADD / UPDATE / DELETE of a memory, oldest first ([] for an unknown id, as mem0)."""
        return read.memory_history(self.backends, validate_id("memory_id", memory_id))

    def resolve_id(self, memory_id_or_prefix: Id) -> str:
        """The memory id a unique prefix (at least 4 characters) names, or the value itself."""
        return read.resolve_id(self.backends, validate_id("memory_id", memory_id_or_prefix))

    def describe_llm(self) -> str | None:
        """The configured LLM as a short label, secrets masked; None without an LLM."""
        llm = self.backends.llm
        return None if llm is None else redact_text(llm.label)

    def get_profile(
        self,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        filters: dict[str, Any] | None = None,
        as_of: TimeLike | None = None,
    ) -> ProfileResult:
        """The profile of a scope's owner: ``{"profile": {key: value}, "slots": [{key, value,
        memory_id, valid_from, valid_to, recorded_at, expired_at}]}``, in the configured slot
        order; ``as_of`` (a datetime or ISO string) reads what was current at that record time."""
        owner = profile.profile_owner("get_profile", user_id, agent_id, run_id, filters)
        return profile.read_profile(self.backends, owner, parse_timestamp(as_of, "as_of"))

    def profile_history(
        self,
        key: str,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[ProfileSlotItem]:
        """Every value one slot had, oldest first, each with its valid and recorded times
        (``expired_at`` set once superseded or cleared); ``[]`` for a slot never set."""
        key = arguments.validate_profile_key(key)
        owner = profile.profile_owner("profile_history", user_id, agent_id, run_id, filters)
        return profile.slot_history(self.backends, owner, key)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the store and the providers' connections."""
        self.backends.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
