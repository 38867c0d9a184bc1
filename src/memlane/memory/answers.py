"""``Memory``'s methods that turn memories into answers: ``get_context`` (a cited block under a
token budget), ``chat`` (one LLM call over it) and ``graph_query`` (one validated read-only query
of the graph). A mixin of ``Memory`` (``memory.facade``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memlane.errors import ConfigError, InvalidInputError
from memlane.memory import arguments
from memlane.memory import graph_query as graph_questions
from memlane.memory.backends import Backends
from memlane.memory.context import chat as chat_pipeline
from memlane.memory.context.build import build_context, context_request
from memlane.memory.scope import exact_scope, require_plain_scope, scope_ids
from memlane.types import AddResult, ChatResult, ContextResult, GraphQueryResult, Id, TimeLike

__all__ = ["CONFIGURE_LLM", "Answers"]

CONFIGURE_LLM = (
    "configure one, e.g. Memory.from_config({'llm': "
    "{'provider': 'openai', 'config': {'model': 'gpt-4.1-mini', 'base_url': "
    "'http://localhost:8080/v1'}}}) for any OpenAI-compatible endpoint"
)
"""How to give a Memory an LLM (the errors of every call that needs one say it)."""
CHAT_NEEDS_LLM = f"chat() needs an LLM: {CONFIGURE_LLM}, or call get_context() and use your own LLM"


class Answers:
    """``get_context``, ``chat`` and ``graph_query`` over ``backends``."""

    backends: Backends
    add: Callable[..., AddResult]
    """``Memory.add`` (``chat(remember=True)`` stores the exchange with it)."""

    def get_context(
        self,
        query: str,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        filters: dict[str, Any] | None = None,
        max_tokens: int = 1000,
        reference_date: TimeLike | None = None,
        top_k: int | None = None,
        show_expired: bool = False,
    ) -> ContextResult:
        """One deterministic block for a prompt: the profile slots the query asks about (then
        the others), the graph's relations (graph on), then the memories, oldest first under
        their dates, each line tagged ``[p1]`` / ``[r1]`` / ``[m1]``; ``citations`` maps each tag
        to its slot, relation or memory ids and their source message ids.

        ``text`` is never longer than ``max_tokens`` tokens of ``tokenizer`` (all-MiniLM-L6-v2's
        WordPiece; UTF-8 bytes without the ``local`` extra); the best ``top_k`` search hits
        (default: one per 10 tokens of budget, at least 20) compete for the room in search's
        order, except that the memories of an actor the query names (a message's ``name``, so
        the memory's ``actor_id``: "what has Melanie painted?") are lifted; the same inputs
        give the same bytes. ``reference_date`` reads the query's periods ("last week")
        and is shown as ``Today:``; without it the block holds no clock time.
        """
        ids = scope_ids(user_id, agent_id, run_id)
        request = context_request(query, ids, filters, max_tokens, reference_date, top_k, show_expired)
        return build_context(self.backends, request)

    def chat(
        self,
        query: str,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        filters: dict[str, Any] | None = None,
        max_tokens: int = 1000,
        reference_date: TimeLike | None = None,
        top_k: int | None = None,
        remember: bool = False,
    ) -> ChatResult:
        """Answer ``query`` from the scope's memories: ``get_context`` packs them, the configured
        LLM answers in one call and cites the context's ids. Returns ``{"answer", "citations"
        (the cited entries of the context; ids the model invented are dropped and logged),
        "context", "usage"}``; ``remember=True`` also ``add``s the exchange (``"remembered"``).
        """
        llm = self.backends.llm
        if llm is None:
            raise ConfigError(CHAT_NEEDS_LLM)
        ids = scope_ids(user_id, agent_id, run_id)
        request = context_request(query, ids, filters, max_tokens, reference_date, top_k, False)
        scope = request.search.scope
        if remember:
            require_plain_scope(scope, "chat(remember=True)")
        result = chat_pipeline.answer(self.backends, llm, request)
        if remember:
            said = [{"role": "user", "content": query}, {"role": "assistant", "content": result["answer"]}]
            result["remembered"] = self.add(
                said, user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id,
                timestamp=reference_date,
            )  # fmt: skip
        return result

    def graph_query(
        self,
        question: str,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        limit: int = graph_questions.DEFAULT_LIMIT,
        timeout_ms: int = graph_questions.DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryResult:
        """Answer a question from the scope's graph: the LLM writes ONE read-only query (Cypher on
        FalkorDB, validated and bound to the scope before it runs; a query plan on the SQLite
        and PostgreSQL graphs), memlane runs it (at most ``limit`` rows, ``timeout_ms`` on
        FalkorDB and PostgreSQL) and returns
        the rows, the relations used with the memories that support them, and what ran."""
        question = arguments.validate_query(question)
        scope = exact_scope(user_id, agent_id, run_id)
        if scope.is_empty():
            raise InvalidInputError("graph_query() needs a user_id, agent_id or run_id")
        graph_questions.validate_limits(limit, timeout_ms)
        if self.backends.llm is None:
            raise ConfigError(graph_questions.LLM_NEEDED)
        return graph_questions.graph_query(self.backends, question, scope, limit=limit, timeout_ms=timeout_ms)
