"""Property: whatever text the validator accepts, what runs holds no writing keyword outside a
string, no parameter but the scope's, a bound on every variable-length path, and a final LIMIT
within the limit; and every node pattern carries the scope."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from memlane.errors import InvalidInputError
from memlane.graph.query import validate_cypher
from memlane.graph.query.lexer import Token, tokenize
from memlane.graph.query.rules import FORBIDDEN, KEYWORDS
from memlane.models import Scope

SCOPE = Scope(user_id="alice", run_id="r1")
FRAGMENTS = [
    "MATCH", "OPTIONAL MATCH", "WHERE", "WITH", "RETURN", "UNWIND", "AS", "ORDER BY", "SKIP", "LIMIT",
    "CREATE", "DELETE", "DETACH", "SET", "MERGE", "CALL", "db.labels()", "(a)", "(b:Entity)",
    "(a {name: 'x'})", "-[r:RELATES]->", "-[*1..2]-", "-[*]-", "--", "<--", "-->", "a.name", "b", "r",
    "count(*)", "collect(b)", "'str'", "'it\\'s DELETE'", '"q"', ",", "=", "<", "-", "1", "5000", "[1, 2]",
    "x", ";", "//", "/*", "$user_id", "user_id", "{", "}", "(", ")", "[", "]", "STARTS WITH", "'a'", "*",
    "..",
]  # fmt: skip
QUERIES = st.lists(st.sampled_from(FRAGMENTS), min_size=2, max_size=14).map(" ".join)
SEEDS = st.sampled_from(
    [
        "MATCH (a)-[r:RELATES]->(b) RETURN b.name",
        "MATCH (a)--(b) WHERE a.name = 'x' RETURN a, b LIMIT 5000",
        "MATCH (a:Entity {name: 'n'})-[*1..2]-(b) WITH b RETURN count(b)",
    ]
)


def check(text: str) -> None:
    try:
        checked = validate_cypher(text, SCOPE, limit=20, max_hops=3)
    except InvalidInputError:
        return
    tokens = tokenize(checked.text)  # strings are single tokens: their content is never looked at
    words = {t.upper for t in tokens if t.kind == "ident"}
    assert not words & FORBIDDEN, checked.text
    assert {t.text for t in tokens if t.kind == "param"} <= {"$user_id", "$run_id"}, checked.text
    assert tokens[-2].upper == "LIMIT" and int(tokens[-1].text) <= 20, checked.text
    assert all(high <= 3 for high in _hops(tokens)), checked.text
    shapes = "".join(_shape(t) for t in tokens)
    assert not re.search(r"(^|[^i])\(i(:i)?\)", shapes), checked.text  # a node pattern without the scope


def _shape(token: Token) -> str:
    """One character per token: k keyword, i identifier, n number, s string, p parameter, else the
    operator."""
    if token.kind == "ident" and token.upper in KEYWORDS:
        return "k"
    return {"ident": "i", "number": "n", "string": "s", "param": "p"}.get(token.kind) or token.text[:1]


def _hops(tokens: list[Token]) -> list[float]:
    """The upper bound of every variable-length relationship (infinity when there is none)."""
    out: list[float] = []
    relationship = False
    for i, tok in enumerate(tokens):
        if tok.is_op("[") and i and tokens[i - 1].is_op("-"):
            relationship = True
        elif tok.is_op("]"):
            relationship = False
        elif tok.is_op("*") and relationship:
            rest = [t.text for t in tokens[i + 1 : i + 4]]
            if rest[:1] == ["]"] or rest[:2] == ["..", "]"] or rest[1:3] == ["..", "]"]:
                out.append(float("inf"))
            else:
                out.append(float(rest[2] if rest[1:2] == [".."] else rest[1] if rest[0] == ".." else rest[0]))
    return out


@settings(max_examples=400, deadline=None)
@given(QUERIES)
def test_random_fragments(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None)
@given(SEEDS, st.lists(st.sampled_from(FRAGMENTS), max_size=4).map(" ".join), st.integers(0, 200))
def test_legitimate_queries_with_something_spliced_in(seed: str, extra: str, at: int) -> None:
    cut = at % (len(seed) + 1)
    check(seed[:cut] + " " + extra + " " + seed[cut:])
