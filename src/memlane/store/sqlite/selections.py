"""Which live memories a filter selects, kept per filter between writes (the vector search's
candidates): a small LRU keyed by the compiled filter, dropped when the file changes."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

import numpy as np

from memlane.filters import Filter
from memlane.store.sqlite.sql import compile_filter
from memlane.store.sqlite.vectors import Seqs

__all__ = ["SELECTIONS", "Selection", "Selections"]

SELECTIONS = 32
"""Filters whose matching memories are kept between writes."""
Selection = tuple[dict[int, str], Seqs]
State = tuple[int | None, int]


class Selections:
    """seq -> id of the live memories matching a filter, and their seqs as a sorted array."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, str], tuple[State, Selection]] = OrderedDict()

    def clear(self) -> None:
        self._kept.clear()

    def matching(self, conn: sqlite3.Connection, where: Filter, state: State) -> Selection:
        """The selection of ``where`` (call under the store's lock, after the vectors' sync).
        ``state`` says whether anything wrote to the file since it was kept: another
        connection's commit changes ``data_version``, this one's writes ``total_changes``."""
        sql, params = compile_filter(where)
        key = (sql, repr(params))
        cached = self._kept.get(key)
        if cached is not None and cached[0] == state:
            self._kept.move_to_end(key)
            return cached[1]
        rows = conn.execute(
            f"SELECT m.seq, m.id FROM memories m WHERE m.deleted_at IS NULL AND {sql}", params
        ).fetchall()
        ids = {seq: mid for seq, mid in rows}
        # in seq order whichever index SQLite walked (scope, period, ids): ties rank the same
        selection = (ids, np.sort(np.fromiter(ids, dtype=np.int64, count=len(ids))))
        self._kept[key] = (state, selection)
        while len(self._kept) > SELECTIONS:
            self._kept.popitem(last=False)
        return selection
