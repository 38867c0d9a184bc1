"""BM25 with the statistics of the memories searched, not of the whole table, ranked in SQLite.

FTS5's ``bm25()`` weighs each term by its IDF over every row of the index, so one user's
scores would depend on what other users said (a small cross-tenant leak), and a word that is
everywhere in one conversation (a speaker's name) but rare in the table would count as rare.
Here each term's FTS5 score, ``idf_table(t) * tf_part(t, d)``, is rescaled to
``idf_scope(t) * tf_part(t, d)`` with FTS5's own IDF formula, ``log((N - n + 0.5) / (n + 0.5))``
(at least 1e-6), computed once over the table (what FTS5 used) and once over the memories that
match the filter, and the terms' parts are summed: Okapi BM25 (k1 1.2, b 0.75) with the scope's
document frequencies (document lengths are still normalised by the table's average length).

The cost follows the answer, not the scope. Per term, SQLite counts its matches (in the scope,
stopping at half of it: from there on the IDF is the floor). The terms with at most
``FULL_TERM_ROWS`` matches in the scope (every term of a LoCoMo-sized scope) are ranked exactly:
their rescaled scores are summed, grouped and cut to ``limit`` by ONE SQL statement, so no
match comes into Python. A more common term (a speaker's name, a frequent word of a large
scope) is not ranked over all of its matches: its share is added to the memories the rarer
terms found (computed as FTS5 does, from its occurrences and the memory's length), and when
those are fewer than ``limit``, the most recent memories with all the common terms fill the
list, then those with all but the lightest, and so on. Every score given is exact; what can
differ from a full ranking is which memories that match only common terms make the list (at or
past the point where the rare terms' matches run out; on the synthetic 100k-memory scope of
``benchmarks/bench_scale.py``, 90 % of the top 10 are the exact ones, ties counted). When the
filter keeps every indexed memory, no statement joins ``memories``.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["scoped_bm25", "table_rows"]

_MIN_IDF = 1e-6
_K1, _B = 1.2, 0.75
"""FTS5's bm25() constants."""


def idf(rows: int, hits: int) -> float:
    """FTS5's IDF of a term found in ``hits`` of ``rows`` documents."""
    hits = min(max(hits, 0), rows)
    return max(math.log((rows - hits + 0.5) / (hits + 0.5)), _MIN_IDF)


def table_rows(conn: sqlite3.Connection) -> int:
    """The number of rows FTS5 counts in ``memories_fts`` (its "averages" record)."""
    return _averages(conn)[0]


def _averages(conn: sqlite3.Connection) -> tuple[int, int]:
    """FTS5's "averages" record of ``memories_fts``: its rows and their tokens."""
    row = conn.execute("SELECT block FROM memories_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0, 0
    buf = bytes(row[0])
    rows, used = _varint(buf)
    tokens, _ = _varint(buf[used:]) if used < len(buf) else (0, 0)
    return rows, tokens


def _varint(buf: bytes) -> tuple[int, int]:
    """The SQLite varint at the start of ``buf`` and its length: 7 bits per byte,
    big-endian; a 9th byte carries 8."""
    value = 0
    for i, byte in enumerate(buf[:8]):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i + 1
    return (value << 8) | buf[8], 9


class _Scope:
    """The memories searched: ``seq -> id`` of the live ones matching ``where_sql`` (alias
    ``m``), and the SQL that keeps an FTS5 row to them."""

    def __init__(
        self, conn: sqlite3.Connection, ids: Mapping[int, str], where_sql: str, params: Sequence[Any]
    ) -> None:
        self.conn, self.ids = conn, ids
        self.rows, tokens = _averages(conn)
        self.average_length = tokens / self.rows if self.rows else 0.0
        if len(ids) >= self.rows:  # every indexed memory: the table's rows are the scope's
            self.join, self.where, self.params = "", "", []
        else:
            # CROSS JOIN keeps the full-text match first: left to itself, the planner walks
            # the scope's rows and probes the index for each (30 times slower)
            self.join = "CROSS JOIN memories m ON m.seq = memories_fts.rowid"
            self.where = f"AND m.deleted_at IS NULL AND {where_sql}"
            self.params = list(params)

    def select(self, columns: str, tail: str = "") -> str:
        return f"SELECT {columns} FROM memories_fts {self.join} WHERE memories_fts MATCH ? {self.where}{tail}"

    def count(self, phrase: str, cap: int) -> int:
        """How many memories of the scope match ``phrase``, at most ``cap``."""
        sql = f"SELECT count(*) FROM ({self.select('1', ' LIMIT ?')})"
        return int(self.conn.execute(sql, [phrase, *self.params, cap]).fetchone()[0])


FULL_TERM_ROWS = 1000
"""A term matching more memories of the scope is not ranked over all of its matches: its share
goes to the memories the rarer terms found, and its most recent matches fill the list when they
are too few. At or below it (every term of a LoCoMo-sized scope), BM25 is exact."""


class _Terms:
    """The query's terms that match the scope, as (FTS5 phrase, ``idf_scope / idf_table``):
    ``full`` ranked over all their matches, ``capped`` (more than ``FULL_TERM_ROWS`` matches,
    or at least half of the scope: the floor IDF) not."""

    def __init__(self, scope: _Scope, terms: Sequence[str]) -> None:
        self.full: list[tuple[str, float]] = []
        self.capped: list[tuple[str, float]] = []
        """Capped: (phrase, the scope's IDF)."""
        self.matches: dict[str, list[tuple[int, float]]] = {}
        """A filtered scope's matches of each full term, with their FTS5 scores."""
        size = len(scope.ids)
        half = (size + 1) // 2  # from here on the scope's IDF is the floor: no need to count further
        for term in dict.fromkeys(terms):
            phrase = '"' + term.replace('"', '""') + '"'
            hits = int(
                scope.conn.execute(
                    "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", [phrase]
                ).fetchone()[0]
            )
            found = min(hits, half)
            fetched = False
            if scope.join and hits:
                # a filtered scope: its matches cost a join each, so its first FULL_TERM_ROWS + 1
                # come with their scores (all of them, for a term that is not capped)
                sql = scope.select("memories_fts.rowid, -bm25(memories_fts)", " LIMIT ?")
                rows = scope.conn.execute(sql, [phrase, *scope.params, FULL_TERM_ROWS + 1]).fetchall()
                fetched = len(rows) <= FULL_TERM_ROWS
                found = len(rows) if fetched else scope.count(phrase, half)
                self.matches[phrase] = rows
            if not found:
                continue
            weight = idf(size, found)
            # a term at the floor IDF whose matches are all here already (a speaker's name in a
            # small scope) is summed from them: cheaper than the capped path, and the same score
            if found > FULL_TERM_ROWS or (weight <= _MIN_IDF and not fetched):
                self.capped.append((phrase, weight))
            else:
                self.full.append((phrase, weight / idf(scope.rows, hits)))


def scoped_bm25(
    conn: sqlite3.Connection,
    terms: Sequence[str],
    where_sql: str,
    params: Sequence[Any],
    scope_ids: Mapping[int, str],
    limit: int,
) -> list[tuple[str, float]]:
    """The best ``limit`` memories of the scope by BM25 over its own statistics, best first:
    ``scope_ids`` maps the seq of each live memory matching ``where_sql`` (alias ``m``) to its
    id; a memory must contain at least one of ``terms``."""
    if not scope_ids or limit <= 0:
        return []
    scope = _Scope(conn, scope_ids, where_sql, params)
    found = _Terms(scope, terms)
    scores = _combined(found, limit) if scope.join else _ranked(scope, found.full, limit)
    if found.capped:
        _add_capped(scope, found.capped, scores, limit)
    best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    return [(scope_ids[seq], score) for seq, score in best if seq in scope_ids]


def _combined(found: _Terms, limit: int) -> dict[int, float]:
    """seq -> the summed shares of the full terms, for the best ``limit``, from their matches."""
    scores: dict[int, float] = {}
    for phrase, factor in found.full:
        for seq, score in found.matches[phrase]:
            scores[seq] = scores.get(seq, 0.0) + score * factor
    return dict(sorted(scores.items(), key=lambda item: -item[1])[:limit])


def _ranked(scope: _Scope, full: list[tuple[str, float]], limit: int) -> dict[int, float]:
    """seq -> the summed shares of ``full`` terms, for the best ``limit``: one statement."""
    if not full:
        return {}
    columns = "memories_fts.rowid AS seq, -bm25(memories_fts) * ? AS s"
    parts = " UNION ALL ".join(scope.select(columns) for _ in full)
    args: list[Any] = []
    for phrase, factor in full:
        args += [factor, phrase, *scope.params]
    # MATERIALIZED: flattened into the grouping, bm25() would lose its full-text cursor
    sql = (
        f"WITH hits AS MATERIALIZED ({parts}) "
        "SELECT seq, sum(s) AS score FROM hits GROUP BY seq ORDER BY score DESC LIMIT ?"
    )
    return {int(seq): float(s) for seq, s in scope.conn.execute(sql, [*args, limit])}


def _add_capped(scope: _Scope, capped: list[tuple[str, float]], scores: dict[int, float], limit: int) -> None:
    """The capped terms' shares of the memories in ``scores``, after (when there are fewer
    than ``limit``: every match of a full term is in) their most recent matches joined them.

    Not with ``bm25()`` nor by probing ``memories_fts``: FTS5 counts a term's matches over its
    whole doclist in every statement that calls ``bm25()``, and seeks a row of a long doclist
    slowly. The share is computed here as FTS5 does, from the term's occurrences in each memory
    (the memories alone, indexed again by a private in-memory FTS5 table with the same
    tokenizer, where ``highlight()`` marks them) and the memory's length (``memories_fts_docsize``)."""
    recent = scope.select("memories_fts.rowid", " ORDER BY memories_fts.rowid DESC LIMIT ?")
    for group in _fill_order(capped):
        if len(scores) >= limit:
            break
        for (seq,) in scope.conn.execute(recent, [group, *scope.params, limit]):
            scores.setdefault(int(seq), 0.0)
            if len(scores) >= limit:
                break
    if not scores:
        return
    seqs = list(scores)
    marks = ", ".join("?" for _ in seqs)
    lengths = {
        int(seq): _varint(bytes(size))[0]
        for seq, size in scope.conn.execute(
            f"SELECT id, sz FROM memories_fts_docsize WHERE id IN ({marks})", seqs
        )
    }
    probe = _probe()
    probe.execute("DELETE FROM probe")
    probe.executemany(
        "INSERT INTO probe (rowid, text) VALUES (?, ?)",
        scope.conn.execute(f"SELECT seq, text FROM memories WHERE seq IN ({marks})", seqs),
    )
    for phrase, weight in capped:
        rows = probe.execute(
            "SELECT rowid, highlight(probe, 0, char(1), '') FROM probe WHERE probe MATCH ?", [phrase]
        )
        for seq, marked in rows:
            tf = str(marked).count("\x01")
            norm = _K1 * (1 - _B + _B * lengths.get(int(seq), 0) / (scope.average_length or 1.0))
            scores[int(seq)] += weight * tf * (_K1 + 1) / (tf + norm)


def _fill_order(capped: list[tuple[str, float]]) -> list[str]:
    """FTS5 queries whose matches fill the list, in order: the memories with all the capped
    terms, then without the lightest, ... then with the weightiest alone, then each other."""
    ordered = [phrase for phrase, _ in sorted(capped, key=lambda term: -term[1])]
    groups = [" AND ".join(ordered[:size]) for size in range(len(ordered), 1, -1)]
    return groups + ordered


TOKENIZE = "porter unicode61 remove_diacritics 2"
"""``memories_fts``'s tokenizer (schema migration 1)."""

_local = threading.local()


def _probe() -> sqlite3.Connection:
    """This thread's private in-memory database with an FTS5 table ``probe`` (its writes must
    not count as changes of the store's connection: those invalidate its cached selections)."""
    conn: sqlite3.Connection | None = getattr(_local, "probe", None)
    if conn is None:
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE probe USING fts5(text, tokenize='{TOKENIZE}')")
        _local.probe = conn
    return conn
