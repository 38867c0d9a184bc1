"""``Memory``: the mem0-compatible façade over a store, an embedder and (later) an LLM."""

from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import Any

from memlane.config import GraphStoreSection, MemoryConfig
from memlane.embed.base import Embedder
from memlane.errors import ConfigError, InvalidInputError, NotFoundError
from memlane.filters import Filter, and_
from memlane.graph.base import GraphStore
from memlane.graph.provider import build_graph_store
from memlane.llm.base import LLM
from memlane.memory import inputs, pending
from memlane.memory.add import Applied, add_verbatim, apply_plan, change_event
from memlane.memory.format import add_result, record_item
from memlane.memory.infer import Inference, describe_images
from memlane.memory.maintenance import DataSafety
from memlane.memory.plan import Plan
from memlane.memory.profile import ProfileMethods
from memlane.memory.recall import SearchMethods
from memlane.models import MemoryRecord, Scope, Usage, now_iso, text_hash
from memlane.rerank.base import Reranker, build_reranker
from memlane.store.base import MemoryStore, PendingAdd

__all__ = ["Memory"]

_UNSET: Any = object()

LIST_TOP_K = 100


class Memory(SearchMethods, DataSafety, ProfileMethods):
    """Long-term memory: ``add`` conversations, ``search`` them, keep every version.

    ``Memory()`` runs offline: one SQLite file under ``~/.memlane`` and a local embedder.
    Pass a ``MemoryConfig`` (or a mem0-style config dict) to choose other back ends, or
    ready-made ``store`` / ``embedder`` objects.
    """

    def __init__(
        self,
        config: MemoryConfig | dict[str, Any] | None = None,
        *,
        store: MemoryStore | None = None,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        graph: GraphStore | None = None,
    ) -> None:
        self.config = MemoryConfig.load(config)
        self.store: MemoryStore = store if store is not None else self.config.vector_store.build()
        self.embedder: Embedder = embedder if embedder is not None else self.config.embedder.build()
        if llm is None and self.config.llm is not None:
            llm = self.config.llm.build()
        self.llm: LLM | None = llm
        section = self.config.graph_store or (GraphStoreSection() if self.config.enable_graph else None)
        if graph is None and section is not None:
            try:
                graph = build_graph_store(section.provider, section.config, self.store)
            except BaseException:
                if store is None:  # the store this Memory opened: not left open behind the error
                    self.store.close()
                raise
        self.graph: GraphStore | None = graph
        """Entities and relations, when the graph is on (``enable_graph`` or ``graph_store``)."""
        section_r = self.config.reranker
        self.reranker: Reranker | None = (
            None if section_r is None else build_reranker(section_r.provider, section_r.parsed, llm=llm)
        )
        """Used by ``search(rerank=True)`` when a ``reranker`` is configured."""
        self.llm_usage = Usage()
        """LLM calls and tokens spent by this instance so far."""
        self._dimension_checked = False
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> Memory:
        """Build from a config dict (memlane's or mem0's shape); ``ConfigError`` if invalid."""
        return cls(MemoryConfig.load(config_dict))

    # -- writes --------------------------------------------------------------------------

    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool | None = None,
        memory_type: str | None = None,
        prompt: str | None = None,
        timestamp: Any = None,
        expiration_date: Any = None,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Remember messages (a string, a message dict or a list of them).

        ``infer`` defaults to True when an LLM is configured and False otherwise; with
        ``infer=False`` each non-system message is stored verbatim.
        """
        scope, _ = inputs.resolve_scope({"user_id": user_id, "agent_id": agent_id, "run_id": run_id}, filters)
        if filters and set(filters) - {"user_id", "agent_id", "run_id"}:
            raise InvalidInputError("add() takes only user_id, agent_id and run_id in filters")
        inputs.require_plain_scope(scope, "add")
        clean = inputs.clean_metadata(metadata)
        normalized = inputs.normalize_messages(messages)
        observed_at = inputs.parse_timestamp(timestamp)
        expires = inputs.parse_expiration(expiration_date)
        if memory_type is not None and memory_type != "procedural_memory":
            raise InvalidInputError(f"memory_type must be None or 'procedural_memory', got {memory_type!r}")
        procedural = memory_type is not None and scope.agent_id is not None  # mem0: else ignored
        if infer is None:
            infer = self.llm is not None
        if (infer or procedural) and self.llm is None:
            raise ConfigError(
                "add(infer=True) needs an LLM: configure one, e.g. Memory.from_config({'llm': "
                "{'provider': 'openai', 'config': {'model': 'gpt-4.1-mini', 'base_url': "
                "'http://localhost:8080/v1'}}}) for any OpenAI-compatible endpoint, "
                "or call add(..., infer=False) to store the messages verbatim"
            )
        self._check_dimension()
        usage = Usage()
        inference = self._inference(inputs.owner_filter(scope), usage, scope)
        normalized = describe_images(normalized, inference if self._vision() else None, self._detail())
        try:
            if (infer or procedural) and inference is not None:
                kind = memory_type if procedural else None
                params = pending.params_of(clean, prompt, kind, observed_at, expires)
                run = functools.partial(self._infer, inference)
                applied = pending.add_inferred(self.store, scope, normalized, params, run)
            else:
                records = add_verbatim(
                    self.store,
                    self.embedder,
                    scope,
                    normalized,
                    metadata=clean,
                    observed_at=observed_at,
                    expiration_date=expires,
                )
                applied = Applied([add_result(r, "ADD", verbatim=True) for r in records])
        finally:
            with self._lock:
                self.llm_usage.add(usage)
        return self._response(applied)

    def reprocess(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Retry the adds whose LLM call failed (their messages were kept), oldest first, for a
        scope (every id given must match) or all: ``{"results": [per add: id, scope ids,
        messages, results...], "remaining": messages still waiting}``, plus ``error`` when the
        LLM failed again (the retry stops there)."""
        given = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        scope = Scope(**{k: inputs.validate_id(k, v) for k, v in given.items() if v is not None})
        if self.llm is None:
            raise ConfigError("reprocess() needs an LLM: configure the one the failed adds should use")
        self._check_dimension()
        usage = Usage()

        def run(batch: PendingAdd) -> Applied:
            return self._infer(self._inference(inputs.owner_filter(batch.scope), usage, batch.scope), batch)

        try:
            return pending.reprocess(self.store, scope, run, self._response)
        finally:
            with self._lock:
                self.llm_usage.add(usage)

    def update(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        expiration_date: Any = _UNSET,
        data: str | None = None,
    ) -> dict[str, str]:
        """Change a memory's text (a new version; the old one stays in history) or metadata.

        ``metadata`` is merged into the stored metadata (as mem0 does; ``{}`` changes nothing).
        ``data`` is mem0 1.x's name for ``text``; when both are given, ``text`` wins.
        """
        memory_id = inputs.validate_id("memory_id", memory_id)
        text = text if text is not None else data
        if text is None and metadata is None and expiration_date is _UNSET:
            raise InvalidInputError("update() needs text, metadata or expiration_date")
        if text is not None:
            inputs.check_size("text", inputs.validate_text("text", text))
        clean = inputs.update_metadata(metadata) if metadata is not None else None
        expires = None if expiration_date is _UNSET else inputs.parse_expiration(expiration_date)
        old = self._require(memory_id)
        now = now_iso()
        new = replace(
            old,
            text=text if text is not None else old.text,
            hash=text_hash(text) if text is not None else old.hash,
            metadata={**old.metadata, **clean} if clean is not None else old.metadata,
            expiration_date=old.expiration_date if expiration_date is _UNSET else expires,
            updated_at=now,
            sources=[],
        )
        if (new.text, new.metadata, new.expiration_date) == (old.text, old.metadata, old.expiration_date):
            return {"message": "Memory updated successfully!"}  # nothing changes: no new version
        vector = None
        if new.text != old.text:
            self._check_dimension()
            vector = self.embedder.embed([new.text], purpose="update")[0]
        with self.store.transaction() as tx:
            tx.update(new, vector, now)
            tx.add_history([change_event(old, "UPDATE", new.text, at=now)])
        return {"message": "Memory updated successfully!"}

    def delete(self, memory_id: str) -> dict[str, str]:
        """Remove a memory from reads and search; its history keeps a DELETE row."""
        memory_id = inputs.validate_id("memory_id", memory_id)
        old = self._require(memory_id)
        now = now_iso()
        with self.store.transaction() as tx:
            tx.delete(memory_id, now)
            tx.expire_profile(now, memory_ids=[memory_id])
            if self.graph is not None:
                self.graph.remove_memories([memory_id])
            tx.add_history([change_event(old, "DELETE", None, at=now)])
        return {"message": "Memory deleted successfully!"}

    def delete_all(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        *,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Delete every memory of a scope (all of them, in one transaction); say how many.

        It needs a plain id: an operator on an id (``in``, ``exists``) names no one to delete.
        """
        scope, where = inputs.resolve_scope(
            {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}, filters
        )
        inputs.require_plain_scope(scope, "delete_all")
        now = now_iso()
        with self.store.transaction() as tx:
            records = self.store.list_records(where)
            for record in records:
                tx.delete(record.id, now)
            self._forget_profile(tx, now, scope, where, records)
            if self.graph is not None:
                self.graph.delete_scope(scope)
            tx.add_history([change_event(r, "DELETE", None, at=now) for r in records])
            tx.drop_pending(scope)  # reprocess must not bring deleted conversations back
        return {"message": "Memories deleted successfully!", "deleted": len(records)}

    # -- reads ---------------------------------------------------------------------------

    def get(self, memory_id: str) -> dict[str, Any] | None:
        """One memory, or None if there is none with this id."""
        record = self.store.get(inputs.validate_id("memory_id", memory_id))
        return None if record is None else {**record_item(record), "score": None}

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        show_expired: bool = False,
        page: int | None = None,
        page_size: int | None = None,
    ) -> dict[str, Any]:
        """The memories of a scope, newest first: the first ``top_k`` (or ``limit``; any size).

        With ``page`` (1-based) and/or ``page_size`` (default: ``top_k`` or 100), one page of
        them, plus ``count`` (how many match in all), ``page``, ``page_size`` and the ``next``
        and ``previous`` page numbers (None at the ends), as mem0's platform pages.
        """
        scope, where = inputs.resolve_scope(
            {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}, filters
        )
        k = inputs.validate_top_k(top_k, limit, LIST_TOP_K, maximum=None)
        given = top_k is not None or limit is not None
        paging = inputs.validate_paging(page, page_size, k if given else None)
        if not show_expired:
            where = and_(where, inputs.expiration_filter())
        number, k = paging or (1, k)
        records = self.store.list_records(where, limit=k, offset=(number - 1) * k)
        out: dict[str, Any] = {"results": [record_item(r) for r in records]}
        if paging is not None:
            out.update(inputs.page_links(number, k, self.store.count(where)))
        if self.graph is not None:
            relations = self.graph.list_relations(scope, limit=k) if not scope.is_empty() else []
            out["relations"] = [r.triple("target") for r in relations]
        return out

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """Every ADD / UPDATE / DELETE of a memory, oldest first ([] for an unknown id, as mem0)."""
        memory_id = inputs.validate_id("memory_id", memory_id)
        return [e.as_dict() for e in self.store.history(memory_id)]

    def chat(self, query: str) -> Any:
        raise NotImplementedError("chat() is not available yet; use search() and your own LLM")

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Release the store and the providers' connections."""
        if self.graph is not None:
            self.graph.close()
        self.store.close()
        self.embedder.close()
        if self.llm is not None:
            self.llm.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def _require(self, memory_id: str) -> MemoryRecord:
        record = self.store.get(memory_id)
        if record is None:
            raise NotFoundError(memory_id)
        return record

    def _inference(self, where: Filter, usage: Usage, scope: Scope) -> Inference | None:
        if self.llm is None:
            return None
        return Inference(
            self.llm,
            self.store,
            self.embedder,
            self.config,
            where,
            usage,
            graph=self.graph is not None,
            user_name=scope.user_id or "user",
            profile_scope=self._profile_scope(scope),
        )

    def _infer(self, inference: Inference | None, batch: PendingAdd) -> Applied:
        """One pending add through the LLM (a procedural summary, or the configured pipeline)
        and into the store, finishing the pending add in the same transaction."""
        assert inference is not None  # callers check that an LLM is configured
        p = batch.params
        metadata: dict[str, Any] = dict(p.get("metadata") or {})
        if p.get("memory_type"):
            plan = Plan(adds=[inference.procedural_summary(batch.messages, p.get("prompt"))])
            metadata["memory_type"] = p["memory_type"]
        else:
            date = (p.get("observed_at") or now_iso())[:10]
            plan = inference.plan(batch.messages, date, p.get("prompt"))
        return apply_plan(
            self.store,
            self.embedder,
            plan,
            batch.scope,
            batch.messages,
            metadata=metadata,
            observed_at=p.get("observed_at"),
            expiration_date=p.get("expiration_date"),
            graph=self.graph,
            profile_scope=self._profile_scope(batch.scope),
            pending_id=batch.id,
        )

    def _response(self, applied: Applied) -> dict[str, Any]:
        return applied.response(graph=self.graph is not None, profile=self.config.profile.enabled)

    def _vision(self) -> bool:
        return bool(self.config.llm and getattr(self.config.llm.parsed, "enable_vision", False))

    def _detail(self) -> str:
        parsed = self.config.llm.parsed if self.config.llm else None
        return str(getattr(parsed, "vision_details", None) or "auto")
