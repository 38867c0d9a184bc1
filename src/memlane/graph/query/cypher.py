"""The validator of model-written Cypher: read-only, scope-bound, bounded, or refused.

``validate_cypher`` accepts one statement of a small read-only subset of openCypher and
returns it rewritten so that it can only read the scope's graph:

- clauses: ``MATCH``, ``OPTIONAL MATCH``, ``WHERE``, ``WITH``, ``UNWIND``, ``RETURN``,
  ``ORDER BY``, ``SKIP``, ``LIMIT``; it ends with ``RETURN``. Anything else that could write
  or reach outside the graph (``CREATE``, ``MERGE``, ``SET``, ``DELETE``, ``DETACH``,
  ``REMOVE``, ``CALL``, ``LOAD CSV``, ``FOREACH``, ``UNION``, subqueries, procedures and
  namespaced functions such as ``db.*`` or ``apoc.*``) is refused, wherever it appears;
  function calls are limited to an allow-list;
- patterns appear in ``MATCH`` only, so every node the query touches is in a ``MATCH``
  pattern; each node pattern gets the scope as an inline property map (``{user_id: $user_id}``):
  an equality no ``OR`` can escape. Relationships need no map: a relation only ever joins two
  entities of the same exact scope, so every relationship (and every step of a variable-length
  path) between scoped nodes is the scope's. (Scoping relationships too would hit a FalkorDB
  planner bug, FalkorDB/FalkorDB#2594, open in 4.16-4.18: two chained relationship patterns
  both found by an indexed property lose their shared node and join wrongly.) The model may not
  name the scope (``user_id``,
  ``agent_id``, ``run_id``, ``skey``) or use parameters at all;
- variable-length relationships need an upper bound of at most ``max_hops`` (``*1..3``);
- the final ``RETURN`` gets ``LIMIT`` (the model's, capped at ``limit``); the back end adds a
  time limit.

The text is tokenised first (``lexer``): strings, comments, backticks and escapes cannot hide
a keyword, and look-alike characters are refused. Every refusal is an ``InvalidInputError``
that says what to change (the message is shown to the model when it is asked again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memlane.errors import InvalidInputError
from memlane.graph.query.lexer import Token, tokenize
from memlane.graph.query.models import ValidatedCypher
from memlane.graph.query.parts import Edit, Projection, Relationship, aggregates, apply_edits
from memlane.graph.query.rules import CLAUSES, HIDDEN_PREFIX, KEYWORDS, check_tokens, reject
from memlane.models import Scope

__all__ = [
    "ENTITY_LABEL",
    "RELATION_TYPE",
    "ValidatedCypher",
    "validate_cypher",
]

ENTITY_LABEL = "Entity"
RELATION_TYPE = "RELATES"

_OPEN = {"(": ")", "[": "]", "{": "}"}


def validate_cypher(text: str, scope: Scope, *, limit: int, max_hops: int) -> ValidatedCypher:
    """``text`` checked and rewritten for ``scope`` (a read filter: each id it sets must
    match), or ``InvalidInputError`` saying why it cannot run."""
    if scope.is_empty():
        raise InvalidInputError("a graph query needs a user_id, agent_id or run_id")
    tokens = tokenize(text)
    if tokens and tokens[-1].is_op(";"):
        tokens = tokens[:-1]
    if not tokens:
        raise InvalidInputError("the query is empty")
    check_tokens(tokens)
    parser = _Parser(tokens, scope, max_hops)
    parser.parse()
    return parser.finish(text, limit)


@dataclass(slots=True)
class _Parser:
    tokens: list[Token]
    scope: Scope
    max_hops: int
    pos: int = 0
    edits: list[Edit] = field(default_factory=list)
    relations: list[Relationship] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    final: Projection = field(default_factory=Projection)

    # -- cursor ---------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        at = self.pos + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            end = self.tokens[-1].end
            raise InvalidInputError(f"the query ends too early (after character {end})")
        self.pos += 1
        return tok

    def expect_op(self, op: str, what: str) -> Token:
        tok = self.take()
        if not tok.is_op(op):
            raise reject(f"expected {op!r} {what}, found {tok.text!r}", tok)
        return tok

    def expect_word(self, word: str) -> Token:
        tok = self.take()
        if not tok.is_word(word):
            raise reject(f"expected {word}, found {tok.text!r}", tok)
        return tok

    def variable(self) -> Token | None:
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.upper not in KEYWORDS:
            self.pos += 1
            return tok
        return None

    # -- clauses --------------------------------------------------------------------------

    def parse(self) -> None:
        while (tok := self.peek()) is not None:
            if self.clauses and self.clauses[-1] == "RETURN":
                raise reject(f"RETURN must be the last clause; found {tok.text!r} after it", tok)
            if tok.is_word("OPTIONAL"):
                self.take()
                self.expect_word("MATCH")
                self.match()
            elif tok.is_word("MATCH"):
                self.take()
                self.match()
            elif tok.is_word("UNWIND"):
                self.take()
                self.expression({"AS"})
                self.expect_word("AS")
                if self.variable() is None:
                    raise reject("UNWIND ... AS needs a variable name", self.peek())
            elif tok.is_word("WITH", "RETURN"):
                self.take()
                self.projection(tok.upper)
            else:
                raise reject(
                    f"unexpected {tok.text!r}: a query is MATCH ... [WHERE ...] [WITH ...] RETURN ...", tok
                )
            self.clauses.append(tok.upper)
        if not self.clauses or self.clauses[-1] != "RETURN":
            raise InvalidInputError("the query must end with a RETURN clause")

    def match(self) -> None:
        self.pattern()
        while (tok := self.peek()) is not None and tok.is_op(","):
            self.take()
            self.pattern()
        if (tok := self.peek()) is not None and tok.is_word("WHERE"):
            self.take()
            self.expression(CLAUSES)

    def projection(self, clause: str) -> None:
        final = clause == "RETURN"
        if (tok := self.peek()) is not None and tok.is_word("DISTINCT"):
            self.take()
            self.final.distinct = final
        start = self.pos
        stops = {*CLAUSES, "ORDER", "SKIP", "LIMIT", "WHERE"}
        self.expression(stops)
        if final:
            self.final.items_end = self.tokens[self.pos - 1].end
            self.final.aggregates = aggregates(self.tokens[start : self.pos])
        if (tok := self.peek()) is not None and tok.is_word("ORDER"):
            self.take()
            self.expect_word("BY")
            self.expression(stops)
        for word in ("SKIP", "LIMIT"):
            if (tok := self.peek()) is not None and tok.is_word(word):
                self.take()
                number, after = self.take(), self.peek()
                if number.kind != "number" or not number.text.isdigit() or (after and after.kind == "op"):
                    shown = after.text if after and number.kind == "number" else number.text
                    raise reject(f"{word} takes one whole number, found {shown!r}", number)
                if final and word == "LIMIT":
                    self.final.limit = number
        if not final and (tok := self.peek()) is not None and tok.is_word("WHERE"):
            self.take()
            self.expression(CLAUSES)

    # -- expressions ----------------------------------------------------------------------

    def expression(self, stops: set[str] | frozenset[str], stop_ops: tuple[str, ...] = ()) -> None:
        """Skip one expression (up to a stop word or op at depth 0), checking what it holds."""
        closers: list[str] = []
        start = self.pos
        while (tok := self.peek()) is not None:
            if not closers and (tok.upper in stops and tok.kind == "ident" and not self._operator_with()):
                break
            if not closers and tok.kind == "op" and tok.text in stop_ops:
                break
            if tok.kind == "ident" and tok.upper in CLAUSES and not self._operator_with():
                raise reject(
                    f"nested clauses and subqueries ({tok.text} inside brackets) are not allowed", tok
                )
            self._check_pattern_in_expression(tok)
            if tok.kind == "op" and tok.text in _OPEN:
                closers.append(_OPEN[tok.text])
            elif (
                tok.kind == "op" and tok.text in _OPEN.values() and (not closers or closers.pop() != tok.text)
            ):
                raise reject(f"unbalanced {tok.text!r}", tok)
            self.pos += 1
        if closers:
            raise InvalidInputError(f"a bracket is never closed (expected {closers[-1]!r})")
        if self.pos == start:
            raise reject("an expression is missing", self.peek())

    def _operator_with(self) -> bool:
        """Whether the WITH here is part of STARTS WITH / ENDS WITH."""
        tok, before = self.peek(), self.peek(-1) if self.pos > 0 else None
        if tok is None or before is None:
            return False
        return tok.is_word("WITH") and before.is_word("STARTS", "ENDS")

    def _check_pattern_in_expression(self, tok: Token) -> None:
        after, then = self.peek(1), self.peek(2)
        before = self.peek(-1) if self.pos > 0 else None
        arrow = tok.is_op("-") and after is not None and after.is_op("(", "[", "-", ">")
        arrow = arrow or (tok.is_op("<") and after is not None and after.is_op("-"))
        called = before is not None and before.kind == "ident" and before.upper not in KEYWORDS
        node = tok.is_op("(") and not called and after is not None and after.kind == "ident"
        if node and then is not None and then.is_op(")", ":", "{"):  # (a), (a:Entity): a node pattern
            raise reject("node patterns are allowed in MATCH only (write a, not (a))", tok)
        if arrow:
            raise reject(
                "patterns are allowed in MATCH only (write 'a - (b)' as 'a - b', 'x < -1' as 'x < 0 - 1')",
                tok,
            )

    # -- patterns -------------------------------------------------------------------------

    def pattern(self) -> None:
        first, second = self.peek(), self.peek(1)
        if first is not None and first.kind == "ident" and second is not None and second.is_op("="):
            self.pos += 2  # a path variable: p = (a)-[r]->(b)
        self.node()
        while (tok := self.peek()) is not None and tok.is_op("-", "<"):
            self.relationship()
            self.node()

    def node(self) -> None:
        self.expect_op("(", "to start a node pattern")
        self.variable()
        while (tok := self.peek()) is not None and tok.is_op(":"):
            self.take()
            label = self.take()
            if label.text != ENTITY_LABEL:
                raise reject(f"nodes have one label, :{ENTITY_LABEL} (found :{label.text})", label)
        self.properties(scoped=True)
        self.expect_op(")", "to end the node pattern")

    def relationship(self) -> None:
        left = self.take().is_op("<")
        if left:
            self.expect_op("-", "after '<'")
        dash = self.tokens[self.pos - 1]
        tok = self.take()
        if tok.is_op("-"):  # (a)--(b): no brackets; finish() adds them with the scope
            self.relations.append(Relationship(None, dash.end, bare=True))
        elif tok.is_op("["):
            self.bracket(tok)
            self.expect_op("-", "after the relationship's ']'")
        else:
            raise reject(f"expected '-' or '[' in a relationship pattern, found {tok.text!r}", tok)
        if (arrow := self.peek()) is not None and arrow.is_op(">"):
            self.take()
            if left:
                raise reject("a relationship has one direction: <-[...]- or -[...]->", arrow)

    def bracket(self, opening: Token) -> None:
        var = self.variable()
        self.relations.append(Relationship(var.text if var else None, opening.end))
        if (tok := self.peek()) is not None and tok.is_op(":"):
            self.take()
            self._relation_type()
            while (tok := self.peek()) is not None and tok.is_op("|"):
                self.take()
                if (tok := self.peek()) is not None and tok.is_op(":"):
                    self.take()
                self._relation_type()
        if (tok := self.peek()) is not None and tok.is_op("*"):
            self.take()
            self.hops(tok)
        self.properties(scoped=False)
        self.expect_op("]", "to end the relationship pattern")

    def _relation_type(self) -> None:
        kind = self.take()
        if kind.text != RELATION_TYPE:
            raise reject(
                f"relationships have one type, :{RELATION_TYPE}; the relationship's name is the "
                f"property r.name (write [r:{RELATION_TYPE} {{name: '{kind.text.lower()}'}}])",
                kind,
            )

    def hops(self, star: Token) -> None:
        low = self._whole_number()
        high = low
        if (tok := self.peek()) is not None and tok.is_op(".."):
            self.take()
            high = self._whole_number()
        if high is None:
            raise reject(
                f"variable-length relationships need an upper bound of at most {self.max_hops} "
                f"(write *1..{self.max_hops})",
                star,
            )
        if high > self.max_hops or (low is not None and low > high):
            raise reject(f"at most {self.max_hops} hops (write *1..{self.max_hops})", star)

    def _whole_number(self) -> int | None:
        tok = self.peek()
        if tok is None or tok.kind != "number":
            return None
        if not tok.text.isdigit():
            raise reject(f"hop counts are whole numbers, found {tok.text}", tok)
        self.take()
        return int(tok.text)

    def properties(self, *, scoped: bool) -> None:
        """An optional inline map; with ``scoped``, the scope is added to it (or as a new one)."""
        tok = self.peek()
        if tok is None or not tok.is_op("{"):
            if tok is not None and scoped:
                self.edits.append(Edit(tok.start, tok.start, f" {{{self._scope_map()}}}"))
            return
        self.take()
        empty = True
        while (tok := self.peek()) is not None and not tok.is_op("}"):
            if not empty:
                self.expect_op(",", "between properties")
            key = self.take()
            if key.kind != "ident":
                raise reject(f"a property name is expected, found {key.text!r}", key)
            self.expect_op(":", f"after the property name {key.text}")
            self.expression(frozenset(), (",", "}"))
            empty = False
        end = self.expect_op("}", "to end the property map")
        if scoped:
            self.edits.append(Edit(end.start, end.start, ("" if empty else ", ") + self._scope_map()))

    def _scope_map(self) -> str:
        return ", ".join(f"{key}: ${key}" for key in self.scope.as_dict())

    # -- the result -----------------------------------------------------------------------

    def finish(self, original: str, limit: int) -> ValidatedCypher:
        edits = list(self.edits)
        columns: list[str] = []
        track = "WITH" not in self.clauses  # every relationship variable is still in scope at RETURN
        extra: list[str] = []
        for index, rel in enumerate(self.relations if track else [], start=1):
            name = rel.name or f"{HIDDEN_PREFIX}r{index}"
            if rel.bare:
                edits.append(Edit(rel.at, rel.at, f"[{name}]"))
            elif rel.name is None:
                edits.append(Edit(rel.at, rel.at, name))
            column = f"{HIDDEN_PREFIX}rels{index}"
            value = f"collect(DISTINCT {name})" if self.final.aggregates else name
            extra.append(f", {value} AS {column}")
            columns.append(column)
        if extra:
            edits.append(Edit(self.final.items_end, self.final.items_end, "".join(extra)))
        number = self.final.limit
        if number is not None:
            edits.append(Edit(number.start, number.end, str(min(int(number.text), limit))))
        text = apply_edits(original, edits, self.tokens[-1].end)
        if number is None:
            text += f" LIMIT {limit}"
        return ValidatedCypher(
            text=text, parameters=self.scope.as_dict(), original=original, limit=limit,
            relation_columns=tuple(columns), distinct=self.final.distinct,
        )  # fmt: skip
