"""The opt-in cache of LoCoMo's ingested store: keyed by data, conversations and config less
search; a run started from it skips the ingest and scores the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memlane import Memory
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.locomo_cache import CACHE_ENV, ingest_cache
from tests.conftest import hash_config
from tests.eval.test_locomo import sample


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(sample()), encoding="utf-8")
    return path


def key_path(data: Path, config: dict[str, Any], root: Path, conversations: int | None = None) -> Path:
    with Memory(config) as memory:
        return ingest_cache(data, load_locomo(data)[:conversations], memory.config, root).path


def test_the_key_ignores_search_settings_and_the_store_path(tmp_path: Path, data_file: Path) -> None:
    root = tmp_path / "cache"
    plain = key_path(data_file, hash_config(tmp_path / "a.db"), root)
    tuned = {**hash_config(tmp_path / "b.db"), "search": {"dense_weight": 0.9, "recency_weight": 0.2}}
    assert key_path(data_file, tuned, root) == plain
    assert plain.parent == root and plain.name.startswith("locomo-") and plain.suffix == ".db"


def test_the_key_changes_with_the_data_conversations_and_embedder(tmp_path: Path, data_file: Path) -> None:
    root = tmp_path / "cache"
    plain = key_path(data_file, hash_config(tmp_path / "a.db"), root)
    assert key_path(data_file, hash_config(tmp_path / "a.db", dims=32), root) != plain
    assert key_path(data_file, hash_config(tmp_path / "a.db"), root, conversations=0) != plain
    other = tmp_path / "other.json"
    changed = sample()
    changed[0]["conversation"]["session_1"][0]["text"] = "I adopted a whippet called Pixel"
    other.write_text(json.dumps(changed), encoding="utf-8")
    assert key_path(other, hash_config(tmp_path / "a.db"), root) != plain


def test_the_folder_comes_from_the_environment(
    tmp_path: Path, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
    with Memory(hash_config(tmp_path / "a.db")) as memory:
        cache = ingest_cache(data_file, load_locomo(data_file), memory.config)
    assert cache.path.parent == tmp_path / "env-cache" and not cache.exists()


def test_a_run_from_the_cache_skips_the_ingest_and_scores_the_same(tmp_path: Path, data_file: Path) -> None:
    conversations = load_locomo(data_file)
    first_db = tmp_path / "first.db"
    with Memory(hash_config(first_db)) as memory:
        cache = ingest_cache(data_file, conversations, memory.config, tmp_path / "cache")
        assert not cache.restore(tmp_path / "nowhere.db") and not (tmp_path / "nowhere.db").exists()
        first = evaluate_locomo(
            memory, conversations, progress=lambda *a: None, context_budgets=[40],
            after_ingest=lambda: cache.save(first_db),
        )  # fmt: skip
    assert cache.exists() and first.ingest_seconds > 0
    assert not list(cache.path.parent.glob("*.partial"))
    second_db = tmp_path / "second.db"
    Memory(hash_config(second_db)).close()  # a fresh, empty store, as the CLI makes
    assert cache.restore(second_db)
    seen: list[str] = []
    with Memory(hash_config(second_db)) as memory:
        second = evaluate_locomo(
            memory, conversations, progress=lambda stage, *_: seen.append(stage), context_budgets=[40],
            ingested=True,
        )  # fmt: skip
        stored = memory.get_all(user_id=conversations[0].sample_id)["results"]
        assert len(stored) == len(conversations[0].turns)
    assert "ingest" not in seen and second.ingest_seconds == 0.0
    assert second.settings["reused_ingest"] is True and first.settings["reused_ingest"] is False
    assert second.recall == first.recall and second.context[40]["recall"] == first.context[40]["recall"]
