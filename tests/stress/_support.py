"""Helpers shared by the stress tests: configs, raw SQLite reads, row fingerprints."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from memlane import Memory
from memlane.store.sqlite import SQLiteStore

__all__ = ["DIMS", "config_for", "fingerprint", "open_memory", "sqlite_store", "table_counts"]

DIMS = 64
"""Vector size of the hash embedder in these tests (small keeps the files and reloads light)."""

TABLES = ("memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots")


def config_for(path: Path | str, dims: int = DIMS) -> dict[str, Any]:
    """A Memory config: the hash embedder and a SQLite file."""
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
    }


def open_memory(path: Path | str) -> Memory:
    return Memory(config_for(path))


def sqlite_store(memory: Memory) -> SQLiteStore:
    assert isinstance(memory.store, SQLiteStore)
    return memory.store


def table_counts(store: SQLiteStore) -> dict[str, int]:
    """Rows in every table, deleted memories included, plus the live memories."""
    counts = {t: int(store.execute(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}
    counts["live"] = int(store.execute("SELECT count(*) FROM memories WHERE deleted_at IS NULL")[0][0])
    return counts


def fingerprint(rows: list[tuple[Any, ...]]) -> str:
    """A digest of query rows, to compare table contents cheaply."""
    digest = hashlib.blake2b(digest_size=16)
    for row in rows:
        digest.update(repr(row).encode("utf-8", "backslashreplace"))
        digest.update(b"\x1e")
    return digest.hexdigest()


READY_TIMEOUT_S = 60.0
"""How long a crash test's child may take to print READY."""


def run_and_kill(
    child: Path, path: Path, run: int, rng: random.Random, log: Path, delay_s: tuple[float, float]
) -> list[str]:
    """Start ``child`` (a script taking the database path, the run number and the vector size),
    SIGKILL it at a random moment ``delay_s`` after it prints READY; its complete output lines."""
    lines: list[str] = []
    ready = threading.Event()
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(child), str(path), str(run), str(DIMS)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stdout: IO[str] | None = proc.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                if line == "READY\n":
                    ready.set()
                elif line.endswith("\n"):
                    lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not ready.wait(READY_TIMEOUT_S):
                pytest.fail(f"run {run}: the child was not ready in {READY_TIMEOUT_S} s: {log.read_text()}")
            time.sleep(rng.uniform(*delay_s))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            reader.join(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
            stdout.close()
    assert proc.returncode == -signal.SIGKILL, f"run {run}: the child died by itself: {log.read_text()}"
    return lines
