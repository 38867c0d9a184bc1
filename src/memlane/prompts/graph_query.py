"""Graph questions: the model writes ONE read-only query for the scope's graph.

On a Cypher back end (FalkorDB) it answers ``CypherAnswer`` (checked by
``memlane.graph.query.validate_cypher`` before anything runs); on the SQL graphs (SQLite,
PostgreSQL) it fills a ``QueryPlan`` that memlane runs itself. The prompt shows the graph's
shape and the scope's relationship and entity names (so the model uses names that exist); a
refused query is sent back once with the reason (``repair_messages``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.graph.resolve import normalize_name
from memlane.models import ChatMessage

__all__ = [
    "MAX_CYPHER_CHARS",
    "MAX_KNOWN_NAMES",
    "CypherAnswer",
    "GraphQueryInput",
    "build_cypher_messages",
    "build_plan_messages",
    "repair_messages",
]

MAX_CYPHER_CHARS = 500
MAX_KNOWN_NAMES = 40
_SHOWN_CHARS = 1000


class GraphQueryInput(BaseModel):
    question: str
    user_name: str
    """The name of the entity that stands for the user."""
    relationships: list[str] = Field(default_factory=list)
    """Relationship names of the scope's graph, most used first."""
    entities: list[str] = Field(default_factory=list)
    """Entity names of the scope's graph, most connected first."""
    max_hops: int = 3
    limit: int = 20


class CypherAnswer(BaseModel):
    """The model's Cypher."""

    model_config = ConfigDict(extra="ignore")

    cypher: str = Field(
        max_length=MAX_CYPHER_CHARS, description="one read-only openCypher statement, ending with RETURN"
    )


def _names(names: list[str]) -> str:
    shown = names[:MAX_KNOWN_NAMES]
    return ", ".join(shown) if shown else "(none yet)"


_CYPHER_SYSTEM = """You answer questions about one person's knowledge graph by writing ONE \
read-only openCypher query for FalkorDB.
The graph: nodes (e:Entity {{name, names, type, created_at}}) and relationships \
(s:Entity)-[r:RELATES {{name, valid_from, valid_to, created_at, invalidated_at, mentions}}]->(d:Entity). \
Every relationship has the type RELATES; what it means is r.name, a snake_case verb phrase \
(works_at, lives_in). A fact still true has r.invalidated_at IS NULL. The user is the entity \
named "{user_name}".
Rules:
- only MATCH, OPTIONAL MATCH, WHERE, WITH, UNWIND, RETURN, ORDER BY, SKIP, LIMIT: never write \
data or call procedures;
- no parameters ($...), no comments, no backticks; never filter on user_id, agent_id or run_id: \
memlane limits the query to this person's graph;
- find an entity by name with 'acme corp' IN e.names (e.names: its name and aliases in lower \
case, punctuation as spaces; indexed);
- a variable-length path needs an upper bound: [r:RELATES*1..{max_hops}];
- return the relationship variables you match (r) with the values that answer the question; \
at most {limit} rows.
Relationship names in this graph: {relationships}
Entity names in this graph: {entities}
Example: "Where does the user work?" -> {{"cypher": "MATCH (u:Entity)-[r:RELATES]->(c:Entity) \
WHERE '{user_lower}' IN u.names AND r.name = 'works_at' AND r.invalidated_at IS NULL \
RETURN c.name, r"}}
Answer with JSON only: {{"cypher": "..."}}."""

_PLAN_SYSTEM = """You answer questions about one person's knowledge graph by filling a query \
plan; memlane runs it. The graph: entities (people, places, organisations, things) joined by \
relations "source -relationship-> destination", the relationship a snake_case verb phrase \
(works_at, lives_in). The user is the entity "{user_name}" (write "user").
Fill:
- "start": the entities the question is about, named as in the graph;
- "relationships": the relationship names to follow ([] for any);
- "direction": "outgoing" (from the start entity: user -works_at-> Acme), "incoming" (towards \
it: Bob -manages-> user) or "both";
- "hops": 1, or up to {max_hops} when the question chains facts (where is the company the user \
works at? 2);
- "end_names" / "end_types": only when the question says what the answer must be;
- "include_history": true only for facts that may have stopped being true (used to, before).
Relationship names in this graph: {relationships}
Entity names in this graph: {entities}
Answer with JSON only: {{"start": [...], "relationships": [...], "direction": "both", "hops": 1, \
"end_names": [], "end_types": [], "include_history": false}}."""


def build_cypher_messages(data: GraphQueryInput) -> list[ChatMessage]:
    """Ask for ``CypherAnswer``."""
    system = _CYPHER_SYSTEM.format(
        user_name=data.user_name, user_lower=normalize_name(data.user_name).replace("'", ""),
        max_hops=data.max_hops, limit=data.limit,
        relationships=_names(data.relationships), entities=_names(data.entities),
    )  # fmt: skip
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Question: {data.question}"}]


def build_plan_messages(data: GraphQueryInput) -> list[ChatMessage]:
    """Ask for a ``QueryPlan``."""
    system = _PLAN_SYSTEM.format(
        user_name=data.user_name, max_hops=data.max_hops,
        relationships=_names(data.relationships), entities=_names(data.entities),
    )  # fmt: skip
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Question: {data.question}"}]


def repair_messages(messages: list[ChatMessage], query: str, reason: str) -> list[ChatMessage]:
    """``messages`` plus the refused query and why, asking for a corrected one."""
    shown = query.strip()[:_SHOWN_CHARS] or "(empty)"
    ask = (
        f"That query cannot run: {reason}. Write the query again, corrected, following every rule; "
        "answer with the JSON only."
    )
    return [*messages, {"role": "assistant", "content": shown}, {"role": "user", "content": ask}]
