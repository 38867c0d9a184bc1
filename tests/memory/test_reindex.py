"""``Memory.reindex``: a new embedding model, staged while searches go on, switched atomically."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane import (
    DimensionMismatchError,
    EmbedderMismatchError,
    InvalidInputError,
    Memory,
    UnknownProviderError,
)
from memlane.embed.hash import HashEmbedder
from memlane.store.sqlite import SQLiteStore
from tests.memory._copies import fill, graph_memory

NEW = {"provider": "hash", "config": {"embedding_dims": 32}}


def stored_dimensions(path: Path) -> set[int]:
    store = SQLiteStore(path)
    try:
        rows = store.execute("SELECT length(embedding) / 4 FROM memories WHERE embedding IS NOT NULL")
        rows += store.execute("SELECT length(embedding) / 4 FROM graph_entities WHERE embedding IS NOT NULL")
        return {int(r[0]) for r in rows}
    finally:
        store.close()


def test_a_dimension_change_re_embeds_memories_and_graph_and_switches(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with graph_memory(path) as m:
        ids = fill(m)
        before = m.search("Bangalore", user_id="alice")["results"][0]["id"]
        report = m.reindex(NEW, batch_size=4)
        assert report["reindexed"] == 11 and report["entities"] == 4  # 12 added, one deleted
        assert (report["embedder"], report["dimension"]) == ("hash:32", 32)
        assert report["previous"] == {"embedder": "hash:64", "dimension": 64}
        assert m.embedder.dimension == 32 and m.config.embedder.config["embedding_dims"] == 32
        assert (m.store.meta("embedder"), m.store.meta("dimension")) == ("hash:32", "32")
        assert m.search("Bangalore", user_id="alice")["results"][0]["id"] == before == ids["alice"]
        assert m.search("where does alice live", user_id="alice")["relations"]
        m.add("alice adopted a cat", user_id="alice")
        assert m.store.vectors([ids["alice"]])[ids["alice"]].shape == (32,)
    assert stored_dimensions(path) == {32}
    with graph_memory(path, dims=32) as again:
        assert again.search("cat", user_id="alice")["results"][0]["memory"] == "alice adopted a cat"
    with graph_memory(path, dims=64) as old, pytest.raises(DimensionMismatchError):
        old.search("cat", user_id="alice")


def test_searches_running_during_a_reindex_never_fail_or_come_back_empty(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "m.db") as m:
        m.add([{"role": "user", "content": f"alice note {i} about topic {i % 7}"} for i in range(150)],
              user_id="alice", infer=False)  # fmt: skip
        stop = threading.Event()
        problems: list[str] = []
        counts: list[int] = []

        def search_loop() -> None:
            while not stop.is_set():
                try:
                    hits = m.search("note about topic 3", user_id="alice", top_k=5)["results"]
                except Exception as exc:  # noqa: BLE001 - any error is the failure under test
                    problems.append(repr(exc))
                    return
                counts.append(len(hits))
                if not hits:
                    problems.append("empty result")

        def wait_for_searches(more: int) -> None:
            goal = len(counts) + more
            for _ in range(2000):
                if len(counts) >= goal or problems:
                    return
                time.sleep(0.005)

        threads = [threading.Thread(target=search_loop) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:  # searches run between every two batches, during the switch, and after it
            report = m.reindex(NEW, batch_size=10, progress=lambda d, t: wait_for_searches(2))
            wait_for_searches(6)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        assert report["reindexed"] == 150
        assert problems == []
        assert len(counts) >= 2 * 15 + 6 and min(counts) == 5
        assert m.search("note about topic 3", user_id="alice")["results"]


class Interrupt(Exception):
    pass


def test_an_interrupted_reindex_keeps_searching_the_old_vectors_and_resumes(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "m.db") as m:
        ids = fill(m, memories=30)

        def stop_after_two_batches(done: int, total: int) -> None:
            if done >= 10:
                raise Interrupt

        with pytest.raises(Interrupt):
            m.reindex(NEW, batch_size=5, progress=stop_after_two_batches)
        assert m.embedder.dimension == 64 and m.store.meta("dimension") == "64"
        assert m.search("Bangalore", user_id="alice")["results"][0]["id"] == ids["alice"]
        m.update(ids["alice"], text="alice moved to Chennai")  # staged text is stale now
        added = m.add("carol plays chess", user_id="carol")["results"][0]["id"]
        with m.store.transaction() as tx:
            assert tx.count_unstaged("hash:32") == 29 - 10 + 1 + 1  # 29 live, 10 staged, 2 changed
        seen: list[tuple[int, int]] = []
        report = m.reindex(NEW, batch_size=5, progress=lambda d, t: seen.append((d, t)))
        assert report["reindexed"] == 30 and seen[-1] == (21, 21)
        expected = HashEmbedder(32).embed(["alice moved to Chennai"])[0]
        assert np.allclose(m.store.vectors([ids["alice"]])[ids["alice"]], expected, atol=1e-6)
        assert m.search("chess", user_id="carol")["results"][0]["id"] == added


def test_memories_written_during_staging_are_caught_up_at_the_switch(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "m.db") as m:
        ids = fill(m)
        calls: list[int] = []

        def write_meanwhile(done: int, total: int) -> None:
            calls.append(done)
            if len(calls) == 1:  # alice's memory is staged already: its new text is not
                m.update(ids["alice"], text="alice bought a bicycle")

        report = m.reindex(NEW, batch_size=3, progress=write_meanwhile)
        assert report["caught_up"] == 1
        assert m.search("bicycle", user_id="alice")["results"][0]["id"] == ids["alice"]
        expected = HashEmbedder(32).embed(["alice bought a bicycle"])[0]
        assert np.allclose(m.store.vectors([ids["alice"]])[ids["alice"]], expected, atol=1e-6)


def test_another_process_on_the_old_embedder_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with graph_memory(path) as m, graph_memory(path) as other:
        fill(m)
        assert other.search("Bangalore", user_id="alice")["results"]
        m.reindex(NEW)
        with pytest.raises(EmbedderMismatchError, match="re-indexed with the embedder 'hash:32'"):
            other.search("Bangalore", user_id="alice")
        with pytest.raises(EmbedderMismatchError):
            other.add("written with the old model", user_id="alice")
    assert stored_dimensions(path) == {32}


def test_purge_and_reset_erase_staged_vectors(tmp_path: Path) -> None:
    with graph_memory(tmp_path / "m.db") as m:
        ids = fill(m)

        def interrupt(done: int, total: int) -> None:
            raise Interrupt

        with pytest.raises(Interrupt):
            m.reindex(NEW, batch_size=100, progress=interrupt)
        staged = "SELECT count(*) FROM staged_vectors"
        store: Any = m.store
        assert store.execute(staged) == [(11,)]
        m.purge(ids["alice"])
        assert store.execute(staged) == [(10,)]
        m.reset()
        assert store.execute(staged) == [(0,)]


def test_bad_reindex_arguments_change_nothing(tmp_path: Path) -> None:
    with Memory(
        {"embedder": {"provider": "hash"}, "vector_store": {"config": {"path": str(tmp_path / "m.db")}}}
    ) as m:
        m.add("alice likes tea", user_id="alice")
        with pytest.raises(InvalidInputError, match="batch_size"):
            m.reindex(NEW, batch_size=0)
        with pytest.raises(UnknownProviderError, match="no-such-embedder"):
            m.reindex({"provider": "no-such-embedder"})
        assert m.store.meta("dimension") is not None and m.search("tea", user_id="alice")["results"]
        assert m.get_all(filters={"user_id": "alice"})["results"][0]["memory"] == "alice likes tea"


def test_the_answer_to_a_dimension_mismatch_is_a_reindex_with_the_new_embedder(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with graph_memory(path) as m:
        fill(m)
    with graph_memory(path, dims=32) as new:
        with pytest.raises(DimensionMismatchError, match="memlane reindex"):
            new.search("Bangalore", user_id="alice")
        assert new.reindex(NEW)["reindexed"] == 11  # the old model is not needed
        assert new.search("Bangalore", user_id="alice")["results"][0]["memory"] == "alice moved to Bangalore"
