"""``search(..., as_of=T)``: what memlane believed at record time T.

The candidates are the memories of the scope that had a version current at T
(``MemoryStore.versions_as_of``: recorded by T, not yet superseded or deleted by T), each with the
text of that version; a memory deleted after T still counts. They are ranked by two signals:

- dense: the stored vector for a version that is still current; a version since changed (or a
  deleted memory, whose vector is dropped) is embedded at query time, at most ``AS_OF_EMBED``
  of them per search, those sharing the most query words first (then the latest recorded); the
  others compete on keywords alone. Those vectors are kept in a process-wide cache
  (``AS_OF_CACHE`` texts, by embedder and text hash), so later searches over the same past
  mostly skip the embedder;
- keyword: BM25 over the candidates' texts of time T (document frequencies among them).

Fused as ``search`` fuses them (``dense_weight``, ``keyword_weight``, each normalised by the best
score or its floor); no time, graph, profile or neighbour lift. Relations are the graph's as
they stood at T (created by T, not invalidated by T).

``get_all(as_of=T)`` lists the same memories (``records_as_of``): every one with a version
current at T, with that version's text, newest created first.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import replace

from memlane.filters import Filter
from memlane.memory.backends import Backends
from memlane.models import Hit, MemoryRecord, MemoryVersion, Vectors
from memlane.tokenizer import keywords, tokenize

__all__ = ["AS_OF_CACHE", "AS_OF_CANDIDATES", "AS_OF_EMBED", "as_of_hits", "records_as_of"]

AS_OF_CANDIDATES = 5_000
"""The most memory versions one ``as_of`` search reads (the latest recorded first)."""
AS_OF_EMBED = 64
"""The most past texts (changed or deleted since) one ``as_of`` search embeds (cached ones are free)."""
AS_OF_CACHE = 20_000
"""How many past texts' vectors the process keeps (least recently used out first)."""
_CACHE: OrderedDict[tuple[str, str], Vectors] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_K1, _B = 1.2, 0.75


def as_of_hits(
    backends: Backends,
    query: str,
    vector: Vectors,
    where: Filter,
    at: str,
    top_k: int,
    threshold: float | None,
) -> list[Hit]:
    """The ``top_k`` memories ``where`` matches that best match ``query`` as they stood at
    record time ``at`` (each with the text it had then), best first."""
    pairs = backends.store.versions_as_of(where, at, AS_OF_CANDIDATES)
    if not pairs or top_k <= 0:
        return []
    texts = [version.text for _, version in pairs]
    bm25 = _bm25(keywords(query), texts)
    dense = _dense(backends, vector, pairs, bm25)
    config = backends.config.search
    total = config.dense_weight + config.keyword_weight
    wd, wk = (config.dense_weight / total, config.keyword_weight / total) if total else (0.5, 0.5)
    dense_max = max(max(dense), config.dense_floor) or 1.0
    bm25_max = max(max(bm25), config.keyword_floor) or 1.0
    hits: list[Hit] = []
    for index, (record, version) in enumerate(pairs):
        score = wd * max(dense[index], 0.0) / dense_max + wk * bm25[index] / bm25_max
        if threshold is not None and score < threshold:
            continue
        details = {"semantic_score": dense[index], "bm25_score": bm25[index], "final_score": score}
        hits.append(Hit(_as_then(record, version), score, details))
    hits.sort(key=lambda h: -h.score)
    return hits[:top_k]


def records_as_of(backends: Backends, where: Filter, at: str) -> list[MemoryRecord]:
    """Every memory ``where`` matches as it stood at record time ``at`` (its version current
    then; memories deleted later included, memories recorded later left out), newest created
    first (as ``get_all``). All of them are read: paging slices this list."""
    pairs = backends.store.versions_as_of(where, at, sys.maxsize)
    records = [_as_then(record, version) for record, version in pairs]
    records.sort(key=lambda r: r.created_at, reverse=True)  # stable: the latest recorded first
    return records


def _dense(
    backends: Backends,
    vector: Vectors,
    pairs: Sequence[tuple[MemoryRecord, MemoryVersion]],
    bm25: list[float],
) -> list[float]:
    """Each candidate's cosine to ``vector``: stored for current texts, embedded (bounded, cached)
    for past ones, 0 for past ones past the bound."""
    current = [record.id for record, version in pairs if version.expired_at is None]
    stored = backends.store.similarities(vector, current)
    scores = [stored.get(record.id, 0.0) if version.expired_at is None else 0.0 for record, version in pairs]
    past = [i for i, (_, version) in enumerate(pairs) if version.expired_at is not None]
    identity = backends.embedder.identity or type(backends.embedder).__name__
    known = _cached(identity, [pairs[i][1].hash for i in past])
    missing = [i for i in past if pairs[i][1].hash not in known]
    missing.sort(key=lambda i: -bm25[i])  # stable: the latest recorded first among equals
    chosen = missing[:AS_OF_EMBED]
    if chosen:
        embedded = backends.embedder.embed([pairs[i][1].text for i in chosen], purpose="add")
        fresh = {pairs[i][1].hash: embedded[row] for row, i in enumerate(chosen)}
        _remember(identity, fresh)
        known.update(fresh)
    for index in past:
        found = known.get(pairs[index][1].hash)
        if found is not None:
            scores[index] = float(found @ vector)
    return scores


def _cached(identity: str, hashes: Sequence[str]) -> dict[str, Vectors]:
    with _CACHE_LOCK:
        out = {}
        for text_hash in hashes:
            found = _CACHE.get((identity, text_hash))
            if found is not None:
                _CACHE.move_to_end((identity, text_hash))
                out[text_hash] = found
        return out


def _remember(identity: str, vectors: dict[str, Vectors]) -> None:
    with _CACHE_LOCK:
        for text_hash, row in vectors.items():
            _CACHE[(identity, text_hash)] = row
        while len(_CACHE) > AS_OF_CACHE:
            _CACHE.popitem(last=False)


def _bm25(terms: Sequence[str], texts: Sequence[str]) -> list[float]:
    """BM25 of each text for ``terms``, with document frequencies and lengths among ``texts``."""
    docs = [Counter(tokenize(text)) for text in texts]
    if not terms or not docs:
        return [0.0] * len(texts)
    average = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
    count = len(docs)
    idf = {}
    for term in terms:
        df = sum(1 for d in docs if term in d)
        idf[term] = math.log(1 + (count - df + 0.5) / (df + 0.5))
    scores = []
    for doc in docs:
        length = sum(doc.values())
        score = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                score += idf[term] * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average))
        scores.append(score)
    return scores


def _as_then(record: MemoryRecord, version: MemoryVersion) -> MemoryRecord:
    """The memory as it stood: the version's text, times and number."""
    return replace(
        record,
        text=version.text,
        hash=version.hash,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        updated_at=version.recorded_at,
        expired_at=version.expired_at,
        version=version.version,
    )
