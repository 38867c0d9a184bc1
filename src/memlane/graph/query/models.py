"""What a graph question runs and returns: the query (Cypher text or a ``QueryPlan``) and
the outcome (rows, the relations used, what ran). Records only: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from memlane.graph.models import Relation
from memlane.graph.query.plan import QueryPlan

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT_MS",
    "MAX_LIMIT",
    "CypherQuery",
    "GraphQuery",
    "GraphQueryOutcome",
    "QueryDialect",
    "ValidatedCypher",
]

QueryDialect = Literal["cypher", "plan"]
"""What a graph back end's ``read_query`` takes: a Cypher text, or a ``QueryPlan``."""

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
DEFAULT_TIMEOUT_MS = 2000
"""How long a query may run on a back end that can stop one (FalkorDB's ``TIMEOUT``)."""


@dataclass(frozen=True, slots=True)
class CypherQuery:
    """A read-only Cypher statement (checked by ``validate_cypher`` before it runs)."""

    text: str


GraphQuery = CypherQuery | QueryPlan


@dataclass(slots=True)
class GraphQueryOutcome:
    """What one graph query found."""

    dialect: QueryDialect
    query: str
    """The statement that ran: the Cypher as rewritten (scope bound, LIMIT set), or the SQL."""
    parameters: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    """The answer's rows, column -> value (entities as their names, relations as triples)."""
    relations: list[Relation] = field(default_factory=list)
    """The relations the query used, in the order the rows first met them."""
    warnings: list[str] = field(default_factory=list)
    """What looked wrong (an entity name the scope does not have...)."""


@dataclass(frozen=True, slots=True)
class ValidatedCypher:
    """A statement that passed: what runs, with which parameters, and how to read its rows."""

    text: str
    """The statement to run: the scope bound in every pattern, ``LIMIT`` enforced."""
    parameters: dict[str, str]
    """The scope's ids (the only parameters)."""
    original: str
    limit: int
    relation_columns: tuple[str, ...] = ()
    """Columns memlane added to the final ``RETURN`` that carry the matched relationships
    (not part of the answer's rows)."""
    distinct: bool = False
    """The final ``RETURN`` is ``DISTINCT`` (rows without the added columns are de-duplicated)."""
