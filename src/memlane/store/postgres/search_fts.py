"""BM25 in PostgreSQL with the statistics of the memories searched, not of the whole table.

What is indexed is what ``memlane.tokenizer`` reads: a memory's tokens (diacritics folded, as
FTS5's ``remove_diacritics`` does), joined by spaces and turned into a ``tsvector`` by the
``memlane_search`` text search configuration (the default parser, every word stemmed by
Snowball's English stemmer, no stop words), beside the number of tokens. A query's terms go
through the same configuration, so both sides score the same lexemes, stemmed as the SQLite
store's porter tokenizer stems them (Snowball English is Porter's successor).

The score is Okapi BM25 (k1 1.2, b 0.75, FTS5's IDF ``log((N - n + 0.5) / (n + 0.5))``, at
least 1e-6) with ``N`` the memories of the scope (the filter's selection), ``n`` a lexeme's
matches among them, and lengths normalised by the average over the tenant's memories (as
FTS5 does over its table, kept in ``memory_search_totals`` by the writers). A term's
frequency in a memory is the number of its positions in the tsvector.

A query with at most ``DIRECT_MATCHES`` matches in the scope (any LoCoMo-sized scope, or one
of a thousand memories) is ranked exactly from ONE statement that brings each match's length
and its lexemes' frequencies (one walk of the scope; the sums are done in Python). Past that,
as in ``memlane.store.sqlite.fts``, the cost follows the answer: a lexeme with at most
``FULL_TERM_ROWS`` matches in the scope is ranked over all of them in one statement; a more
common one (a speaker's name in a large scope) adds its share to the memories the rarer terms
found, and when those are fewer than ``limit``, the most recent memories with all the common
terms fill the list, then those with all but the lightest, and so on. A capped lexeme's matches
are counted up to ``COUNT_ROWS`` (from there on its IDF is taken as if it had that many).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql

from memlane.tokenizer import tokenize

if TYPE_CHECKING:
    from psycopg import Connection

    from memlane.store.base import ScoredId

__all__ = [
    "CONFIG",
    "FTS_STEP",
    "FULL_TERM_ROWS",
    "COUNT_ROWS",
    "fold",
    "keyword_search",
    "scope_join",
    "search_text",
]

CONFIG = "memlane_search"
"""The text search configuration of the index and the queries."""

FTS_STEP = f"""
CREATE TEXT SEARCH DICTIONARY memlane_english_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION {CONFIG}
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
        hword_asciipart, hword_part, hword_numpart
    WITH memlane_english_stem;
"""
"""The configuration (part of the ``search`` component's first migration)."""

DIRECT_MATCHES = 5000
"""A scope with at most this many matches of the query is ranked exactly, in Python, from one
statement; past it, the lexemes' matches are counted and ranked in SQL (``FULL_TERM_ROWS``)."""
FULL_TERM_ROWS = 1000
"""A lexeme with more matches in the scope is not ranked over all of them (see the module)."""
COUNT_ROWS = 10_000
"""A capped lexeme's matches are counted up to this many (or half the scope)."""

_FTS5_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_MIN_IDF = 1e-6
_K1, _B = 1.2, 0.75


def scope_join(tenant: str) -> sql.Composed:
    """``memories m`` joined to the tenant's ``memory_search s`` rows."""
    return sql.SQL(
        "memories m JOIN memory_search s ON s.tenant = m.tenant AND s.memory_id = m.id AND s.tenant = {}"
    ).format(sql.Literal(tenant))


def fold(token: str) -> str:
    """``token`` without diacritics ("café" -> "cafe")."""
    if token.isascii():
        return token
    return "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))


def search_text(text: str) -> tuple[str, int]:
    """What ``memory_search`` indexes of ``text``: its folded tokens joined by spaces, and
    its length for BM25, counted as FTS5's unicode61 tokenizer counts (runs of letters and
    digits: "that's" is two), so lengths are normalised as in the SQLite store."""
    tokens = [fold(token) for token in tokenize(text)]
    return " ".join(tokens), len(_FTS5_TOKEN.findall(text))


def idf(rows: int, hits: int) -> float:
    """FTS5's IDF of a term found in ``hits`` of ``rows`` documents."""
    hits = min(max(hits, 0), rows)
    return max(math.log((rows - hits + 0.5) / (hits + 0.5)), _MIN_IDF)


def keyword_search(
    conn: Connection[Any], tenant: str, terms: Sequence[str], where: sql.Composable, limit: int
) -> list[ScoredId]:
    """The best ``limit`` memories of the scope (``where``, over ``memories m``) containing
    at least one of ``terms``, by BM25 over the scope's own statistics, best first."""
    if not terms or limit <= 0:
        return []
    join = scope_join(tenant)
    lexemes = _lexemes(conn, terms)
    if not lexemes:
        return []
    size, average = _scope(conn, tenant, where)
    if not size:
        return []
    direct = _direct(conn, join, where, lexemes, size, average)
    if direct is not None:
        return sorted(direct.items(), key=lambda item: (-item[1], item[0]))[:limit]
    counts = _counts(conn, join, where, lexemes, FULL_TERM_ROWS + 1)
    full = [lex for lex in lexemes if 0 < counts[lex] <= FULL_TERM_ROWS]
    capped = [lex for lex in lexemes if counts[lex] > FULL_TERM_ROWS]
    if capped:
        counts.update(_counts(conn, join, where, capped, min((size + 1) // 2, COUNT_ROWS)))
    weights = {lex: idf(size, counts[lex]) for lex in full + capped}
    scorer = _Scorer(conn, join, where, weights, average)
    any_full = _any(full)
    scores = scorer.score(any_full, limit) if any_full is not None else {}
    for group in _fill_order(capped, weights):
        if len(scores) >= limit:
            break
        more = scorer.score(group, limit - len(scores), exclude=_any(full), skip=list(scores), recent=True)
        scores.update(more)
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(mid, score) for mid, score in best]


def _direct(
    conn: Connection[Any],
    join: sql.Composable,
    where: sql.Composable,
    lexemes: Sequence[str],
    size: int,
    average: float,
) -> dict[str, float] | None:
    """Every match's BM25 from one statement that brings each match's lexemes, lengths and
    frequencies (one walk of the scope), or None when the scope has more than
    ``DIRECT_MATCHES`` matches (then the capped path ranks them in SQL)."""
    query = sql.SQL(
        "SELECT h.id, h.length, x.lexeme, cardinality(x.positions) FROM (SELECT m.id, s.length, s.terms "
        "FROM {join} WHERE {where} AND s.terms @@ {any} LIMIT {cap}) h "
        "CROSS JOIN LATERAL unnest(h.terms) x WHERE x.lexeme = ANY({lexemes}::text[])"
    ).format(
        join=join,
        where=where,
        any=_any(lexemes),
        cap=sql.Literal(DIRECT_MATCHES + 1),
        lexemes=sql.Literal(list(lexemes)),
    )
    rows = conn.execute(query).fetchall()
    found: dict[str, tuple[int, list[tuple[str, int]]]] = {}
    for mid, length, lexeme, tf in rows:
        found.setdefault(str(mid), (int(length), []))[1].append((str(lexeme), int(tf)))
    if len(found) > DIRECT_MATCHES:
        return None
    hits: dict[str, int] = {}
    for _, terms in found.values():
        for lexeme, _ in terms:
            hits[lexeme] = hits.get(lexeme, 0) + 1
    weights = {lexeme: idf(size, count) for lexeme, count in hits.items()}
    scores: dict[str, float] = {}
    for mid, (length, terms) in found.items():
        norm = _K1 * (1 - _B + _B * length / (average or 1.0))
        scores[mid] = sum(weights[lexeme] * tf * (_K1 + 1) / (tf + norm) for lexeme, tf in terms)
    return scores


def _lexemes(conn: Connection[Any], terms: Sequence[str]) -> list[str]:
    """The distinct lexemes of ``terms`` (folded, stemmed), in the order of the terms."""
    folded = list(dict.fromkeys(fold(term.lower()) for term in terms if term))
    query = sql.SQL(
        "SELECT t.n, (unnest(to_tsvector({config}, t.term))).lexeme "
        "FROM unnest({terms}::text[]) WITH ORDINALITY AS t(term, n) ORDER BY t.n"
    ).format(config=sql.Literal(CONFIG), terms=sql.Literal(folded))
    return list(dict.fromkeys(str(row[1]) for row in conn.execute(query)))


def _scope(conn: Connection[Any], tenant: str, where: sql.Composable) -> tuple[int, float]:
    """The number of memories in the scope, and the average length of the tenant's indexed
    memories (``memory_search_totals``: what FTS5's "averages" record is to the SQLite store)."""
    row = conn.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM memories m WHERE {where}), sum(rows), sum(tokens) "
            "FROM memory_search_totals WHERE tenant = {tenant}"
        ).format(where=where, tenant=sql.Literal(tenant))
    ).fetchone()
    if row is None:
        return 0, 0.0
    size, rows, tokens = int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)
    return size, tokens / rows if rows > 0 else 0.0


def _query(lexemes: Sequence[str], glue: str) -> sql.Composable:
    """A tsquery matching the lexemes (each quoted: never parsed or stemmed again)."""
    text = glue.join("'" + lex.replace("'", "''") + "'" for lex in lexemes)
    return sql.SQL("{}::tsquery").format(sql.Literal(text))


def _any(lexemes: Sequence[str]) -> sql.Composable | None:
    return _query(lexemes, " | ") if lexemes else None


def _counts(
    conn: Connection[Any], join: sql.Composable, where: sql.Composable, lexemes: Sequence[str], cap: int
) -> dict[str, int]:
    """Each lexeme's matches in the scope, counted up to ``cap``: one statement."""
    parts = [
        sql.SQL(
            "SELECT {n}::int, (SELECT count(*) FROM (SELECT 1 FROM {join} WHERE {where} "
            "AND s.terms @@ {query} LIMIT {cap}) x)"
        ).format(n=sql.Literal(i), join=join, where=where, query=_query([lex], ""), cap=sql.Literal(cap))
        for i, lex in enumerate(lexemes)
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {lexemes[int(n)]: int(count) for n, count in rows}


def _fill_order(capped: Sequence[str], weights: dict[str, float]) -> list[sql.Composable]:
    """The queries whose matches fill the list, in order: the memories with all the capped
    lexemes, then without the lightest, ... then with the weightiest alone, then each other."""
    ordered = sorted(capped, key=lambda lex: -weights[lex])
    groups = [_query(ordered[:size], " & ") for size in range(len(ordered), 1, -1)]
    return groups + [_query([lex], "") for lex in ordered]


class _Scorer:
    """BM25 of the scope's memories matching a tsquery, summed over every weighted lexeme."""

    def __init__(
        self,
        conn: Connection[Any],
        join: sql.Composable,
        where: sql.Composable,
        weights: dict[str, float],
        average: float,
    ) -> None:
        self.conn, self.join, self.where = conn, join, where
        self.weights = sql.SQL(", ").join(
            sql.SQL("({}, {}::float8)").format(sql.Literal(lex), sql.Literal(w)) for lex, w in weights.items()
        )
        self.norm = sql.SQL("{k1} * (1 - {b} + {b} * h.length / {avg})").format(
            k1=sql.Literal(_K1), b=sql.Literal(_B), avg=sql.Literal(average or 1.0)
        )

    def score(
        self,
        match: sql.Composable,
        limit: int,
        *,
        exclude: sql.Composable | None = None,
        skip: Sequence[str] = (),
        recent: bool = False,
    ) -> dict[str, float]:
        """id -> score of the best ``limit`` memories matching ``match`` (``recent``: of the
        most recent ``limit`` of them), leaving out those matching ``exclude`` and ``skip``."""
        extra: sql.Composable = sql.SQL("")
        if exclude is not None:
            extra += sql.SQL(" AND NOT s.terms @@ {}").format(exclude)
        if skip:
            extra += sql.SQL(" AND m.id <> ALL({}::text[])").format(sql.Literal(list(skip)))
        tail = sql.SQL(" ORDER BY m.created_at DESC, m.seq DESC LIMIT {}").format(sql.Literal(limit))
        query = sql.SQL(
            "WITH q(lexeme, weight) AS (VALUES {weights}), "
            "h AS MATERIALIZED (SELECT m.id, s.length, s.terms FROM {join} WHERE {where} "
            "AND s.terms @@ {match}{extra}{tail}) "
            "SELECT h.id, sum(q.weight * u.tf * {k} / (u.tf + {norm})) AS score FROM h "
            "CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf FROM unnest(h.terms)) u "
            "JOIN q ON q.lexeme = u.lexeme GROUP BY h.id ORDER BY score DESC, h.id LIMIT {limit}"
        ).format(
            weights=self.weights,
            join=self.join,
            where=self.where,
            match=match,
            extra=extra,
            tail=tail if recent else sql.SQL(""),
            k=sql.Literal(_K1 + 1),
            norm=self.norm,
            limit=sql.Literal(limit),
        )
        return {str(mid): float(score) for mid, score in self.conn.execute(query)}
