"""``migrate``: copy every record from one back-end set to another (SQLite <-> PostgreSQL, or any
two stores and graphs a config names), resumable, then verified.

What is copied: the store's ``dump()`` (meta, memories with their vectors, versions, history,
messages, sources, profile slots, pending adds) and the graph's (entities with their name
vectors, relations current and invalidated with their memory ids). Vectors travel as they are:
nothing is re-embedded (``memlane reindex`` changes the model afterwards).

Resuming: the store's records go in batches, each loaded in one transaction together with a
``migration`` meta record (the source and how many records are in), so after Ctrl-C or SIGKILL a
rerun skips what landed and continues. The graph's batches are counted in the destination's
graph itself (its dump keeps write order). The source must not change during a migration (stop
its writers): the verification at the end (counts and an order-independent checksum per kind,
the source as it is then against the destination) says so if it did; migrate again into a new
destination then.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memlane.config import GraphStoreSection, MemoryConfig
from memlane.errors import ConfigError, InvalidInputError
from memlane.graph.base import GraphStore
from memlane.models import now_iso
from memlane.redact import redact_text
from memlane.registry import Dependencies
from memlane.store.base import MemoryStore

__all__ = ["PROGRESS_KEY", "Endpoint", "migrate", "open_endpoint", "summarize"]

PROGRESS_KEY = "migration"
"""The destination store's meta key that records an unfinished migration."""
_GRAPH_KINDS = ("entity", "relation")
_CONFIG_SUFFIXES = (".json", ".yaml", ".yml")

Progress = Callable[[int, int], None]
"""``progress(records copied so far, records in all)``."""


@dataclass
class Endpoint:
    """One side of a migration: a store and (when it has one) its graph."""

    label: str
    """The spec, secrets masked: how reports and the progress record name it."""
    store: MemoryStore
    graph: GraphStore | None
    path: Path | None = None
    """The SQLite file, when the spec is one (a migration onto itself is refused)."""

    def close(self) -> None:
        if self.graph is not None:
            self.graph.close()
        self.store.close()


def spec_config(spec: str, *, create: bool) -> tuple[dict[str, Any], Path | None]:
    """The config a spec names: a ``postgresql://`` URL, a config file (``.json``, ``.yaml``),
    else a SQLite path (``create``: it may be created). The graph is on for a URL or a path (it
    lives in the same database); a config file decides for itself."""
    if spec.startswith(("postgresql://", "postgres://")):
        return {"vector_store": {"provider": "postgres", "config": {"url": spec}}, "enable_graph": True}, None
    path = Path(spec).expanduser()
    if path.suffix.lower() in _CONFIG_SUFFIXES:
        config = _read_config(path)
        store = config.get("vector_store")
        if not create and isinstance(store, dict) and store.get("provider", "sqlite") == "sqlite":
            store_config = {**(store.get("config") or {}), "create": False}  # a source is never created
            config = {**config, "vector_store": {**store, "config": store_config}}
        return config, None
    if not create and not path.is_file():
        raise InvalidInputError(
            f"{spec!r} does not exist: give a SQLite file, a postgresql:// URL or a config file"
        )
    store = {"provider": "sqlite", "config": {"path": str(path), "create": create}}
    return {"vector_store": store, "enable_graph": True}, path


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read the config {str(path)!r}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{str(path)!r} is not valid JSON: {exc}") from None
    else:
        try:
            import yaml  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise ConfigError(
                f"reading {str(path)!r} needs PyYAML (pip install pyyaml), or use JSON"
            ) from None
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{str(path)!r} must hold a config object")
    return data


def open_endpoint(spec: str, *, create: bool) -> Endpoint:
    """The store and graph ``spec`` names (see ``spec_config``); no embedder is loaded."""
    config, path = spec_config(spec, create=create)
    loaded = MemoryConfig.load(config)
    store = loaded.vector_store.build()
    try:
        section = loaded.graph_store or (GraphStoreSection() if loaded.enable_graph else None)
        graph = section.for_store(store).build(Dependencies(store=store)) if section is not None else None
    except BaseException:
        store.close()
        raise
    return Endpoint(redact_text(spec), store, graph, path)


# -- verification --------------------------------------------------------------------------


@dataclass
class Tally:
    """Count and order-independent checksum of one kind's records."""

    count: int = 0
    digest: int = 0

    def add(self, record: dict[str, Any]) -> None:
        text = json.dumps(record.get("data"), sort_keys=True, ensure_ascii=False, default=str)
        self.digest = (
            self.digest + int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        ) % 2**64
        self.count += 1

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "checksum": f"{self.digest:016x}"}


@contextmanager
def _reading(items: Iterable[dict[str, Any]]) -> Iterator[Iterator[dict[str, Any]]]:
    """Iterate a dump and close it on the way out, even when the copy stops half-way: a store's
    dump may hold a read transaction until it is closed."""
    iterator = iter(items)
    try:
        yield iterator
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def records(side: Endpoint) -> Iterator[dict[str, Any]]:
    """Every record of a side: the store's, then the graph's; never the progress record."""
    with _reading(side.store.dump()) as dumped:
        for record in dumped:
            if not (record["kind"] == "meta" and record["data"].get("key") == PROGRESS_KEY):
                yield record
    if side.graph is not None:
        with _reading(side.graph.dump()) as dumped:
            yield from dumped


def summarize(side: Endpoint) -> dict[str, Tally]:
    """Count and checksum per kind of every record of ``side``."""
    tallies: dict[str, Tally] = {}
    with _reading(records(side)) as every:
        for record in every:
            tallies.setdefault(record["kind"], Tally()).add(record)
    return tallies


def compare(source: dict[str, Tally], destination: dict[str, Tally]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in dict.fromkeys([*source, *destination]):
        a, b = source.get(kind, Tally()), destination.get(kind, Tally())
        out[kind] = {"source": a.as_dict(), "destination": b.as_dict(), "ok": a == b}
    return out


# -- the copy ------------------------------------------------------------------------------


@dataclass
class _Run:
    source: Endpoint
    destination: Endpoint
    batch_size: int
    progress: Progress | None
    total: int
    done: int = 0
    copied: dict[str, int] = field(default_factory=dict)

    def advance(self, batch: Sequence[dict[str, Any]] = (), skipped: int = 0) -> None:
        for record in batch:
            self.copied[record["kind"]] = self.copied.get(record["kind"], 0) + 1
        self.done += len(batch) + skipped
        if self.progress is not None:
            self.progress(self.done, self.total)


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _state(destination: Endpoint) -> dict[str, Any] | None:
    raw = destination.store.meta(PROGRESS_KEY)
    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except json.JSONDecodeError:
        state = None
    if not isinstance(state, dict):
        raise InvalidInputError(
            f"the destination's {PROGRESS_KEY!r} record is damaged: migrate into a new store"
        )
    return state


def _check_destination(source: Endpoint, destination: Endpoint, has_graph: bool) -> dict[str, Any]:
    """The progress of an unfinished migration from ``source`` (or a new one), or a refusal."""
    if (
        source.path is not None
        and destination.path is not None
        and source.path.resolve() == destination.path.resolve()
    ):
        raise InvalidInputError("the source and the destination are the same database")
    if has_graph and destination.graph is None:
        raise InvalidInputError(
            f"{source.label} holds a graph but {destination.label} has no graph store: "
            "enable it in the destination's config (enable_graph: true)"
        )
    state = _state(destination)
    if state is not None:
        if state.get("source") != source.label:
            origin = state.get("source")
            raise InvalidInputError(
                f"{destination.label} holds an unfinished migration from {origin}: finish it (memlane "
                f"migrate --from {origin} --to {destination.label}) or use another destination"
            )
        return state
    with _reading(records(destination)) as every:
        first = next((r for r in every if r["kind"] != "meta"), None)
    if first is not None:
        raise InvalidInputError(
            f"{destination.label} already holds data ({first['kind']} records) and is not an unfinished "
            "migration from this source: migrate into a new database, or empty this one first "
            "(memlane --db PATH reset --yes)"
        )
    return {"source": source.label, "started_at": now_iso(), "copied": 0}


def _copy_store(run: _Run, state: dict[str, Any]) -> None:
    skip = int(state.get("copied", 0))
    run.advance(skipped=skip)
    with _reading(run.source.store.dump()) as dumped:
        for batch in _batches(itertools.islice(dumped, skip, None), run.batch_size):
            state = {**state, "copied": int(state.get("copied", 0)) + len(batch)}
            marker = {"kind": "meta", "data": {"key": PROGRESS_KEY, "value": json.dumps(state)}}
            run.destination.store.load([*batch, marker])  # the batch and its progress: one transaction
            run.advance(batch)


def _copy_graph(run: _Run) -> None:
    source, destination = run.source.graph, run.destination.graph
    if source is None or destination is None:
        return
    present = {kind: 0 for kind in _GRAPH_KINDS}
    with _reading(destination.dump()) as stored:
        for record in stored:
            present[record["kind"]] += 1
    run.advance(skipped=sum(present.values()))
    seen = {kind: 0 for kind in _GRAPH_KINDS}

    with _reading(source.dump()) as dumped:
        missing = (r for r in dumped if _count(seen, r) > present[r["kind"]])
        for batch in _batches(missing, run.batch_size):
            destination.load(batch)
            run.advance(batch)


def _count(seen: dict[str, int], record: dict[str, Any]) -> int:
    seen[record["kind"]] += 1
    return seen[record["kind"]]


def migrate(
    source: str, destination: str, *, batch_size: int = 1000, progress: Progress | None = None
) -> dict[str, Any]:
    """Copy everything from ``source`` to ``destination`` (SQLite paths, ``postgresql://`` URLs
    or config files), resuming an unfinished migration between the same two; verify and report
    ``{"source", "destination", "resumed", "copied": {kind: n}, "verification": {kind: {source,
    destination, ok}}, "ok"}``. A destination holding other data is refused, unchanged."""
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be at least 1, got {batch_size}")
    src = open_endpoint(source, create=False)
    try:
        dst = open_endpoint(destination, create=True)
        try:
            return _migrate(src, dst, batch_size, progress)
        finally:
            dst.close()
    finally:
        src.close()


def _migrate(src: Endpoint, dst: Endpoint, batch_size: int, progress: Progress | None) -> dict[str, Any]:
    before = summarize(src)
    has_graph = any(before.get(kind, Tally()).count for kind in _GRAPH_KINDS)
    state = _check_destination(src, dst, has_graph)
    resumed = bool(state.get("copied"))
    run = _Run(src, dst, batch_size, progress, total=sum(t.count for t in before.values()))
    _copy_store(run, state)
    _copy_graph(run)
    verification = compare(summarize(src), summarize(dst))  # the source now: a write meanwhile shows
    ok = all(item["ok"] for item in verification.values())
    if ok:
        dst.store.set_meta(PROGRESS_KEY, None)
    return {
        "source": src.label,
        "destination": dst.label,
        "resumed": resumed,
        "copied": run.copied,
        "verification": verification,
        "ok": ok,
    }
