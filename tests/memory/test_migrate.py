"""``memlane.migrate``: every record kind copied, resumed after an interruption, verified."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import memlane
from memlane import InvalidInputError, StoreError
from memlane.memory.migration import PROGRESS_KEY
from memlane.models import Scope
from memlane.store.sqlite import SQLiteStore
from tests.memory._copies import export_lines, fill, graph_memory

CHILD = Path(__file__).with_name("migrate_child.py")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    with graph_memory(path) as m:
        fill(m)
    return path


def exported(path: Path, tmp_path: Path) -> list[str]:
    with graph_memory(path) as m:
        return export_lines(m, tmp_path / f"{path.stem}.jsonl")


def test_a_round_trip_gives_the_same_export_byte_for_byte(source: Path, tmp_path: Path) -> None:
    middle, back = tmp_path / "middle.db", tmp_path / "back.db"
    report = memlane.migrate(str(source), str(middle), batch_size=7)
    assert report["ok"] and not report["resumed"]
    assert report["copied"]["memory"] == 12 and report["copied"]["relation"] == 3
    assert set(report["verification"]) >= {"meta", "memory", "version", "history", "message", "source",
                                           "profile", "pending", "entity", "relation"}  # fmt: skip
    assert memlane.migrate(str(middle), str(back))["ok"]
    original = exported(source, tmp_path)
    assert exported(middle, tmp_path) == original
    assert exported(back, tmp_path) == original
    with graph_memory(back) as m:
        assert m.search("Bangalore", user_id="alice")["results"][0]["memory"] == "alice moved to Bangalore"
        assert m.store.meta(PROGRESS_KEY) is None
        assert (
            m.graph is not None
            and len(m.graph.list_relations(Scope(user_id="alice"), include_invalidated=True)) == 3
        )


class Interrupt(Exception):
    pass


def interrupt_after(records: int) -> Any:
    def progress(done: int, total: int) -> None:
        if done >= records:
            raise Interrupt

    return progress


@pytest.mark.parametrize("records", [7, 72], ids=["in-the-store", "in-the-graph"])  # 69 store records
def test_an_interrupted_migration_resumes_and_verifies(source: Path, tmp_path: Path, records: int) -> None:
    target = tmp_path / "target.db"
    with pytest.raises(Interrupt):
        memlane.migrate(str(source), str(target), batch_size=3, progress=interrupt_after(records))
    with closing(SQLiteStore(target)) as store:
        assert json.loads(store.meta(PROGRESS_KEY) or "{}")["copied"] > 0
    seen: list[int] = []
    report = memlane.migrate(str(source), str(target), batch_size=3, progress=lambda d, t: seen.append(d))
    assert report["ok"] and report["resumed"]
    assert seen[1] >= records and seen[-1] == sum(
        v["source"]["count"] for v in report["verification"].values()
    )
    assert sum(report["copied"].values()) < seen[-1]  # what landed before was not copied again
    assert exported(target, tmp_path) == exported(source, tmp_path)


def test_a_killed_migration_resumes_and_verifies(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(source), str(target)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "READY\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    report = memlane.migrate(str(source), str(target))
    assert report["ok"] and report["resumed"]
    assert exported(target, tmp_path) == exported(source, tmp_path)


def test_a_destination_with_other_data_is_refused_unchanged(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    with graph_memory(target) as m:
        m.add("something else", user_id="dave")
    before = exported(target, tmp_path)
    with pytest.raises(InvalidInputError, match=r"already holds data.*reset"):
        memlane.migrate(str(source), str(target))
    assert exported(target, tmp_path) == before


def test_an_unfinished_migration_from_another_source_is_refused(source: Path, tmp_path: Path) -> None:
    target, other = tmp_path / "target.db", tmp_path / "other.db"
    with graph_memory(other) as m:
        fill(m, memories=3)
    with pytest.raises(Interrupt):
        memlane.migrate(str(source), str(target), batch_size=2, progress=interrupt_after(4))
    with pytest.raises(InvalidInputError, match=r"unfinished migration from .*source\.db"):
        memlane.migrate(str(other), str(target))


def test_bad_endpoints_are_refused(source: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        memlane.migrate(str(tmp_path / "missing.db"), str(tmp_path / "x.db"))
    with pytest.raises(InvalidInputError, match="same database"):
        memlane.migrate(str(source), str(source))
    with pytest.raises(InvalidInputError, match="batch_size"):
        memlane.migrate(str(source), str(tmp_path / "x.db"), batch_size=0)
    assert not (tmp_path / "x.db").exists()


def test_config_files_name_both_sides(source: Path, tmp_path: Path) -> None:
    config = tmp_path / "to.json"
    target = tmp_path / "configured.db"
    config.write_text(json.dumps({"vector_store": {"provider": "sqlite", "config": {"path": str(target)}},
                                  "enable_graph": True}))  # fmt: skip
    assert memlane.migrate(str(source), str(config))["ok"]
    assert exported(target, tmp_path) == exported(source, tmp_path)
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"vector_store": {"config": {"path": str(tmp_path / "nothing.db")}}}))
    with pytest.raises(StoreError):
        memlane.migrate(str(missing), str(tmp_path / "y.db"))
    assert not (tmp_path / "nothing.db").exists()
    no_graph = tmp_path / "flat.json"
    no_graph.write_text(
        json.dumps({"vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "f.db")}}})
    )
    with pytest.raises(InvalidInputError, match="no graph store"):
        memlane.migrate(str(source), str(no_graph))


def test_a_source_changed_during_the_copy_fails_the_verification(source: Path, tmp_path: Path) -> None:
    def write_meanwhile(done: int, total: int) -> None:
        if done == 5:
            with graph_memory(source) as m:
                m.add("written during the migration", user_id="alice")

    report = memlane.migrate(str(source), str(tmp_path / "t.db"), batch_size=5, progress=write_meanwhile)
    assert not report["ok"]
    assert not report["verification"]["memory"]["ok"]


def test_a_yaml_config_names_a_side(source: Path, tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    config = tmp_path / "to.yaml"
    target = tmp_path / "from-yaml.db"
    config.write_text(
        f"vector_store:\n  provider: sqlite\n  config:\n    path: {target}\nenable_graph: true\n"
    )
    assert memlane.migrate(str(source), str(config))["ok"]
    assert exported(target, tmp_path) == exported(source, tmp_path)
