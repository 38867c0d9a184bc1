"""Graph questions: the query a model writes, checked before it runs.

``cypher`` validates and rewrites model-written Cypher (read-only, scope-bound, bounded) for
the Cypher back ends (FalkorDB); ``plan`` is the structured ``QueryPlan`` the SQL graphs
(SQLite, PostgreSQL) run as a recursive query (``memlane.store.graph_plan``); ``models`` holds
the query and outcome records. What the model is asked is ``memlane.prompts.graph_query``;
``Memory.graph_query`` puts it together.
"""

from memlane.graph.query.cypher import validate_cypher
from memlane.graph.query.models import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    MAX_LIMIT,
    CypherQuery,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
    ValidatedCypher,
)
from memlane.graph.query.plan import MAX_HOPS, QueryPlan

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT_MS",
    "MAX_HOPS",
    "MAX_LIMIT",
    "CypherQuery",
    "GraphQuery",
    "GraphQueryOutcome",
    "QueryDialect",
    "QueryPlan",
    "ValidatedCypher",
    "validate_cypher",
]
