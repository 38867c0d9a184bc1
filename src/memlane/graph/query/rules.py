"""The rules of ``validate_cypher`` that hold wherever a token stands (``memlane.graph.query.cypher``
parses the clauses and patterns): no writing or administrative keyword anywhere, no scope
property, parameter or reserved name, function calls from an allow-list only (no procedures or
namespaced functions), no subqueries, no dynamic property access, one statement."""

from __future__ import annotations

from memlane.errors import InvalidInputError
from memlane.graph.query.lexer import Token

__all__ = [
    "AGGREGATES",
    "CLAUSES",
    "FORBIDDEN",
    "FUNCTIONS",
    "HIDDEN_PREFIX",
    "KEYWORDS",
    "check_tokens",
    "reject",
]

HIDDEN_PREFIX = "_ml_"
"""Variables and columns memlane adds (the model may not use the prefix)."""

FORBIDDEN = frozenset(
    "CREATE MERGE SET DELETE DETACH REMOVE CALL YIELD LOAD CSV FOREACH DROP UNION USE PROFILE EXPLAIN "
    "INDEX CONSTRAINT ALTER GRANT REVOKE DENY START PERIODIC COMMIT TRANSACTIONS SHOW TERMINATE".split()
)
SCOPE_WORDS = frozenset({"user_id", "agent_id", "run_id", "skey"})
HIDDEN_PROPERTIES = frozenset({"embedding"})
CLAUSES = frozenset({"MATCH", "OPTIONAL", "UNWIND", "WITH", "RETURN"})
KEYWORDS = frozenset(
    "MATCH OPTIONAL WHERE WITH UNWIND RETURN ORDER BY SKIP LIMIT AS DISTINCT ASC DESC ASCENDING "
    "DESCENDING AND OR XOR NOT IN IS NULL TRUE FALSE CASE WHEN THEN ELSE END STARTS ENDS CONTAINS".split()
)
FUNCTIONS = frozenset(
    "count collect sum avg min max size length type id labels keys properties startnode endnode nodes "
    "relationships head last tail coalesce tolower toupper trim ltrim rtrim tostring tointeger tofloat "
    "toboolean substring replace split left right reverse abs round floor ceil sign exists any all "
    "none single reduce".split()
)
AGGREGATES = frozenset({"count", "collect", "sum", "avg", "min", "max"})


def reject(message: str, token: Token | None = None) -> InvalidInputError:
    where = f" (at character {token.start})" if token is not None else ""
    return InvalidInputError(f"{message}{where}")


def check_tokens(tokens: list[Token]) -> None:
    """The rules that hold wherever a token stands."""
    for i, tok in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        before = tokens[i - 1] if i > 0 else None
        if tok.is_op(";"):
            raise reject("one statement only: remove the ';' and what follows it", tok)
        if tok.kind == "param":
            raise reject(
                f"parameters ({tok.text}) are not allowed: memlane binds the scope itself; "
                "write other values as literals",
                tok,
            )
        if tok.is_op("[") and _subscript(before) and after is not None and after.kind == "string":
            raise reject("dynamic property access (x['key']) is not allowed: write x.key", tok)
        if tok.kind != "ident":
            continue
        _check_word(tok)
        if after is not None and after.is_op("{") and tok.upper in {"EXISTS", "COUNT", "COLLECT"}:
            raise reject(f"subqueries ({tok.text} {{...}}) are not allowed", tok)
        if after is not None and after.is_op("("):
            _check_call(tok, before)


def _subscript(before: Token | None) -> bool:
    """Whether a '[' after ``before`` indexes a value (rather than starting a list)."""
    if before is None:
        return False
    return before.is_op(")", "]") or (before.kind == "ident" and before.upper not in KEYWORDS)


def _check_word(tok: Token) -> None:
    if tok.upper in FORBIDDEN:
        raise reject(
            f"{tok.text} is not allowed: graph questions are read-only (MATCH, OPTIONAL MATCH, WHERE, "
            "WITH, UNWIND, RETURN, ORDER BY, SKIP, LIMIT)",
            tok,
        )
    lower = tok.text.lower()
    if lower in SCOPE_WORDS:
        raise reject(
            f"{tok.text} may not appear: memlane restricts the query to the caller's "
            "user/agent/run itself; remove every condition on it",
            tok,
        )
    if lower in HIDDEN_PROPERTIES:
        raise reject(f"the property {tok.text} is not available to queries", tok)
    if lower.startswith(HIDDEN_PREFIX):
        raise reject(f"names starting with {HIDDEN_PREFIX} are reserved: rename {tok.text}", tok)


def _check_call(tok: Token, before: Token | None) -> None:
    if before is not None and before.is_op("."):
        raise reject(
            f"procedures and namespaced functions (like db.labels() or apoc.*) are not allowed: "
            f"...{tok.text}(",
            tok,
        )
    if tok.upper in KEYWORDS or tok.text.lower() in FUNCTIONS:
        return
    raise reject(
        f"the function {tok.text}() is not allowed; use: {', '.join(sorted(FUNCTIONS))}",
        tok,
    )
