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

The terms are read from ``memory_search_text`` (narrow rows, the scope beside the terms). A
search is ONE statement when its scope has at most ``DIRECT_MATCHES`` memories (any
LoCoMo-sized scope, or one of a thousand): it counts the scope, walks its matches once (their
lengths and their lexemes' frequencies), counts each lexeme's matches among them and ranks
them all exactly, in SQL. A larger scope gets its statistics from that same statement (its
size, the average length, each lexeme's matches counted up to a cap); then, as in
``memlane.store.sqlite.fts``, the cost follows the answer: a lexeme with at most
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

from memlane.filters import Filter
from memlane.store.postgres.search_scope import SearchScope, search_scope
from memlane.tokenizer import tokenize

if TYPE_CHECKING:
    from psycopg import Connection

    from memlane.store.base import ScoredId

__all__ = [
    "CONFIG",
    "FTS_STEP",
    "TEXT_INDEX",
    "FULL_TERM_ROWS",
    "COUNT_ROWS",
    "fold",
    "keyword_search",
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

TEXT_INDEX = "CREATE INDEX IF NOT EXISTS memory_search_text_terms ON memory_search_text USING gin (terms)"
"""The GIN index of the terms (``search`` migration 2; ``search_copy.text_index_after``)."""

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
    conn: Connection[Any], tenant: str, terms: Sequence[str], where: Filter, limit: int
) -> list[ScoredId]:
    """The best ``limit`` memories of the scope (``where``) containing at least one of
    ``terms``, by BM25 over the scope's own statistics, best first."""
    folded = " ".join(dict.fromkeys(fold(term.lower()) for term in terms if term))
    if not folded.strip() or limit <= 0:
        return []
    scope = search_scope(tenant, where, "memory_search_text")
    rows = conn.execute(_first(scope, tenant, folded, limit)).fetchall()
    if not rows or rows[0][0] == 0:
        return [(str(mid), float(score)) for _, mid, score, *_ in rows]
    rows.sort(key=lambda row: (row[5], row[1]))  # the lexemes in the order of the terms
    counts = {str(lexeme): int(count) for _, lexeme, count, *_ in rows}
    return _capped(conn, scope, list(counts), (int(rows[0][3]), float(rows[0][4])), counts, limit)


def _vector(folded: str) -> sql.Composable:
    """The query's lexemes as a constant ``tsvector`` (folded by the planner)."""
    return sql.SQL("to_tsvector({}::regconfig, {})").format(sql.Literal(CONFIG), sql.Literal(folded))


def _first(scope: SearchScope, tenant: str, folded: str, limit: int) -> sql.Composed:
    """The search's one statement: rows ``(0, id, score)``, the matches of a scope of at most
    ``DIRECT_MATCHES`` memories ranked (``_direct``), or, for a larger scope, rows ``(1,
    lexeme, matches, size, average)``: its statistics (``_statistics``) for the capped path."""
    return sql.SQL(
        "WITH size AS MATERIALIZED (SELECT count(*) AS n FROM ({scope} LIMIT {over}) z), {direct}, {stats} "
        "SELECT 0, id, score, NULL::bigint, NULL::float8, NULL::int FROM ranked "
        "UNION ALL SELECT 1, lexeme, hits, n, avg, pos FROM statistics ORDER BY 1, 6, 3 DESC, 2"
    ).format(
        scope=scope.select(sql.SQL("1")),
        over=sql.Literal(DIRECT_MATCHES + 1),
        direct=_direct(scope, tenant, folded, limit),
        stats=_statistics(scope, tenant, folded),
    )


def _direct(scope: SearchScope, tenant: str, folded: str, limit: int) -> sql.Composable:
    """CTEs ranking every match of the query in a scope (``size``) of at most
    ``DIRECT_MATCHES`` memories by BM25, the scope's size, the tenant's average length and
    each lexeme's matches computed in them: ``ranked (id, score)``, best first."""
    vector = _vector(folded)
    norm = sql.SQL("{k1} * ((1 - {b}) + {b} * x.length / st.avg)").format(
        k1=sql.Literal(_K1), b=sql.Literal(_B)
    )
    return sql.SQL(
        "h AS MATERIALIZED ({matches}), "
        "x AS MATERIALIZED (SELECT h.id, h.length, u.lexeme, cardinality(u.positions) AS tf FROM h "
        "CROSS JOIN LATERAL unnest(h.terms) u WHERE u.lexeme = ANY(tsvector_to_array({vector}))), "
        "st AS MATERIALIZED (SELECT size.n, {average} AS avg FROM size WHERE EXISTS (SELECT 1 FROM x)), "
        "w AS (SELECT x.lexeme, greatest(ln((st.n - least(count(*), st.n) + 0.5::float8) / "
        "(least(count(*), st.n) + 0.5::float8)), {floor}) AS weight FROM x CROSS JOIN st "
        "GROUP BY x.lexeme, st.n), "
        "ranked AS (SELECT x.id, sum(w.weight * x.tf * {k} / (x.tf + {norm})) AS score FROM x "
        "JOIN w ON w.lexeme = x.lexeme CROSS JOIN st GROUP BY x.id ORDER BY score DESC, id LIMIT {limit})"
    ).format(
        matches=scope.select(
            sql.SQL("s.memory_id AS id, s.length, s.terms"),
            sql.SQL("s.terms @@ {} AND (SELECT n FROM size) <= {}").format(
                _any_of(vector), sql.Literal(DIRECT_MATCHES)
            ),
        ),
        vector=vector,
        average=_average(tenant),
        floor=sql.Literal(_MIN_IDF),
        k=sql.Literal(_K1 + 1),
        norm=norm,
        limit=sql.Literal(limit),
    )


def _any_of(vector: sql.Composable) -> sql.Composable:
    """A tsquery matching any lexeme of ``vector`` (each quoted, never parsed again)."""
    return sql.SQL("replace(strip({})::text, ' ', ' | ')::tsquery").format(vector)


def _average(tenant: str) -> sql.Composable:
    """The average length of the tenant's indexed memories (1 when none: FTS5's fallback)."""
    return sql.SQL(
        "(SELECT coalesce(nullif(sum(tokens)::float8 / nullif(sum(rows), 0), 0), 1.0::float8) "
        "FROM memory_search_totals WHERE tenant = {})"
    ).format(sql.Literal(tenant))


def _capped(
    conn: Connection[Any],
    scope: SearchScope,
    lexemes: list[str],
    statistics: tuple[int, float],
    counts: dict[str, int],
    limit: int,
) -> list[ScoredId]:
    """A scope of more than ``DIRECT_MATCHES`` memories (see the module), ranked from its
    ``statistics`` (size, average length) and its lexemes' ``counts``."""
    size, average = statistics
    if not lexemes or not size:
        return []
    full = [lex for lex in lexemes if 0 < counts[lex] <= FULL_TERM_ROWS]
    capped = [lex for lex in lexemes if counts[lex] > FULL_TERM_ROWS]
    cap = min((size + 1) // 2, COUNT_ROWS)
    weights = {lex: idf(size, counts[lex] if lex in full else min(counts[lex], cap)) for lex in full + capped}
    scorer = _Scorer(conn, scope, weights, average)
    any_full = _any(full)
    scores = scorer.score(any_full, limit) if any_full is not None else {}
    for group in _fill_order(capped, weights):
        if len(scores) >= limit:
            break
        more = scorer.score(group, limit - len(scores), exclude=_any(full), skip=list(scores), recent=True)
        scores.update(more)
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(mid, score) for mid, score in best]


def _statistics(scope: SearchScope, tenant: str, folded: str) -> sql.Composable:
    """CTEs for a scope (``size``) of more than ``DIRECT_MATCHES`` memories: ``statistics``,
    the query's distinct lexemes (stemmed; ``pos``: the order of the terms), the scope's size,
    the tenant's average length, and each lexeme's matches in the scope counted up to
    ``FULL_TERM_ROWS + 1``, or to ``min(size / 2, COUNT_ROWS)`` when that is more."""
    return sql.SQL(
        "st2 AS MATERIALIZED (SELECT ({size}) AS n, {average} AS avg), "
        "q AS MATERIALIZED (SELECT u.lexeme, u.positions[1] AS pos FROM unnest({vector}) u "
        "WHERE (SELECT n FROM size) > {most_direct}), "
        "statistics AS (SELECT q.lexeme, q.pos, st2.n, st2.avg, (SELECT count(*) FROM ({matches} "
        "LIMIT greatest({full}, least((st2.n + 1) / 2, {most}))) c)::float8 AS hits "
        "FROM q CROSS JOIN st2)"
    ).format(
        size=scope.select(sql.SQL("count(*)")),
        average=_average(tenant),
        vector=_vector(folded),
        most_direct=sql.Literal(DIRECT_MATCHES),
        matches=scope.select(
            sql.SQL("1"),
            sql.SQL(
                "s.terms @@ (chr(39) || replace(q.lexeme, chr(39), chr(39) || chr(39)) || chr(39))::tsquery"
            ),
        ),
        full=sql.Literal(FULL_TERM_ROWS + 1),
        most=sql.Literal(COUNT_ROWS),
    )


def _query(lexemes: Sequence[str], glue: str) -> sql.Composable:
    """A tsquery matching the lexemes (each quoted: never parsed or stemmed again)."""
    text = glue.join("'" + lex.replace("'", "''") + "'" for lex in lexemes)
    return sql.SQL("{}::tsquery").format(sql.Literal(text))


def _any(lexemes: Sequence[str]) -> sql.Composable | None:
    return _query(lexemes, " | ") if lexemes else None


def _fill_order(capped: Sequence[str], weights: dict[str, float]) -> list[sql.Composable]:
    """The queries whose matches fill the list, in order: the memories with all the capped
    lexemes, then without the lightest, ... then with the weightiest alone, then each other."""
    ordered = sorted(capped, key=lambda lex: -weights[lex])
    groups = [_query(ordered[:size], " & ") for size in range(len(ordered), 1, -1)]
    return groups + [_query([lex], "") for lex in ordered]


class _Scorer:
    """BM25 of the scope's memories matching a tsquery, summed over every weighted lexeme."""

    def __init__(
        self, conn: Connection[Any], scope: SearchScope, weights: dict[str, float], average: float
    ) -> None:
        self.conn, self.scope = conn, scope
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
        extra: sql.Composable = sql.SQL("s.terms @@ {}").format(match)
        if exclude is not None:
            extra += sql.SQL(" AND NOT s.terms @@ {}").format(exclude)
        if skip:
            extra += sql.SQL(" AND s.memory_id <> ALL({}::text[])").format(sql.Literal(list(skip)))
        rows = self.scope.select(sql.SQL("s.memory_id AS id, s.length, s.terms"), extra)
        if recent:
            rows += sql.SQL(" ORDER BY s.created_at DESC, s.seq DESC LIMIT {}").format(sql.Literal(limit))
        query = sql.SQL(
            "WITH q(lexeme, weight) AS (VALUES {weights}), h AS MATERIALIZED ({rows}) "
            "SELECT h.id, sum(q.weight * u.tf * {k} / (u.tf + {norm})) AS score FROM h "
            "CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf FROM unnest(h.terms)) u "
            "JOIN q ON q.lexeme = u.lexeme GROUP BY h.id ORDER BY score DESC, h.id LIMIT {limit}"
        ).format(
            weights=self.weights,
            rows=rows,
            k=sql.Literal(_K1 + 1),
            norm=self.norm,
            limit=sql.Literal(limit),
        )
        return {str(mid): float(score) for mid, score in self.conn.execute(query)}
