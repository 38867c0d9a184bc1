"""``graph_query``: the configured LLM writes ONE read-only query for the scope's graph, and
memlane runs it.

The back end says what it runs (``GraphStore.query_dialect``): Cypher (FalkorDB: validated
and rewritten before it runs, ``memlane.graph.query.validate_cypher``) or a ``QueryPlan`` (the
SQL graphs, SQLite and PostgreSQL: memlane's own recursive query, ``memlane.store.graph_plan``).
The model sees the scope's relationship and entity names. A query the validator or the back
end refuses is sent back to the model once with the reason; refused again, the call fails with
an ``LLMError`` that says why (never an empty answer). memlane never runs a write the model wrote.
"""

from __future__ import annotations

from collections import Counter

from memlane.errors import ConfigError, InvalidInputError, LLMError
from memlane.graph.base import GraphStore
from memlane.graph.models import Relation
from memlane.graph.query import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    MAX_HOPS,
    MAX_LIMIT,
    CypherQuery,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
    QueryPlan,
)  # fmt: skip
from memlane.graph.resolve import user_name
from memlane.llm.base import LLM
from memlane.memory.backends import Backends
from memlane.models import ChatMessage, Scope, Usage
from memlane.prompts.graph_query import (
    CypherAnswer,
    GraphQueryInput,
    build_cypher_messages,
    build_plan_messages,
    repair_messages,
)
from memlane.types import GraphQueryResult

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT_MS",
    "GRAPH_NEEDED",
    "LLM_NEEDED",
    "MAX_LIMIT",
    "graph_query",
    "validate_limits",
]

CONTEXT_RELATIONS = 500
"""How many of the scope's newest relations the names shown to the model come from."""

LLM_NEEDED = (
    "graph_query() needs an LLM to write the query: configure one, e.g. Memory.from_config({'llm': "
    "{'provider': 'openai', 'config': {'model': 'gpt-4.1-mini', 'base_url': "
    "'http://localhost:8080/v1'}}}) for any OpenAI-compatible endpoint"
)
GRAPH_NEEDED = (
    "graph_query() needs the graph: Memory.from_config({..., 'enable_graph': True}) (the memory "
    "store's own: SQLite or PostgreSQL) or a 'graph_store' such as falkordb"
)


def validate_limits(limit: object, timeout_ms: object) -> None:
    """``limit`` an int from 1 to ``MAX_LIMIT``, ``timeout_ms`` a positive int."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an int from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 1:
        raise InvalidInputError(f"timeout_ms must be a positive int (milliseconds), got {timeout_ms!r}")


def graph_query(
    backends: Backends, question: str, scope: Scope, *, limit: int, timeout_ms: int
) -> GraphQueryResult:
    """Ask, check, run (see the module docstring); what the calls cost is added to the usage."""
    graph, llm = backends.graph, backends.llm
    if graph is None:
        raise ConfigError(GRAPH_NEEDED)
    assert llm is not None  # the façade checks it first
    dialect = graph.query_dialect
    if dialect is None:
        raise ConfigError(
            f"graph questions (graph_query) are not supported on this graph back end "
            f"({type(graph).__name__}); use the 'sqlite', 'postgres' or 'falkordb' graph_store"
        )
    data = _input(graph, scope, question, limit)
    messages = build_cypher_messages(data) if dialect == "cypher" else build_plan_messages(data)
    usage = Usage()
    try:
        query, shown = _ask(llm, messages, dialect, usage)
        try:
            outcome = graph.read_query(scope, query, limit=limit, timeout_ms=timeout_ms)
        except InvalidInputError as exc:  # the model's query was refused: once more, with why
            query, shown = _ask(llm, repair_messages(messages, shown, str(exc)), dialect, usage)
            try:
                outcome = graph.read_query(scope, query, limit=limit, timeout_ms=timeout_ms)
            except InvalidInputError as again:
                error = LLMError(
                    f"graph_query: the model's query was refused twice (first: {exc}); last: {again}. "
                    f"Last query: {shown[:500]}"
                )
                error.usage = usage
                raise error from again
    finally:
        backends.spend(usage)
    return _result(question, query, outcome, usage)


def _ask(
    llm: LLM, messages: list[ChatMessage], dialect: QueryDialect, usage: Usage
) -> tuple[GraphQuery, str]:
    """The model's query, and its text as shown back to the model in a repair request."""
    try:
        if dialect == "cypher":
            answer = llm.complete(messages, CypherAnswer)
            usage.add(answer.usage)
            return CypherQuery(answer.value.cypher), answer.value.cypher
        plan = llm.complete(messages, QueryPlan)
        usage.add(plan.usage)
        return plan.value, plan.value.model_dump_json()
    except LLMError as exc:  # failed calls were still paid for
        if exc.usage is not None:
            usage.add(exc.usage)
            exc.usage = usage
        raise


def _input(graph: GraphStore, scope: Scope, question: str, limit: int) -> GraphQueryInput:
    """What the model is told: the user's entity name, and the scope's names, most used first."""
    known = graph.list_relations(scope, limit=CONTEXT_RELATIONS)
    kinds = Counter(r.relationship for r in known)
    names = Counter(n for r in known for n in (r.source, r.destination))
    return GraphQueryInput(
        question=question, user_name=user_name(scope), limit=limit, max_hops=MAX_HOPS,
        relationships=[k for k, _ in kinds.most_common()], entities=[n for n, _ in names.most_common()],
    )  # fmt: skip


def _result(question: str, query: GraphQuery, outcome: GraphQueryOutcome, usage: Usage) -> GraphQueryResult:
    warnings = list(outcome.warnings)
    if not outcome.rows and not warnings:
        warnings.append("the query matched nothing in this scope's graph")
    return {
        "question": question,
        "dialect": outcome.dialect,
        "query": outcome.query,
        "parameters": outcome.parameters,
        "model_query": query.text if isinstance(query, CypherQuery) else query.model_dump(),
        "rows": outcome.rows,
        "relations": [r.as_dict() for r in outcome.relations],
        "citations": _citations(outcome.relations),
        "warnings": warnings,
        "usage": {
            "calls": usage.calls,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        },
    }


def _citations(relations: list[Relation]) -> dict[str, list[str]]:
    return {r.id: list(r.memory_ids) for r in relations}
