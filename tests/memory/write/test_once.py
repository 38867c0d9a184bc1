"""Issue 14: ``add(idempotency_key=...)``: a retried add answers what the first one did and
writes nothing; other arguments are a ConflictError; a repeat during the first waits for it;
a failed add frees its key; keys expire; purge erases the kept answers."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from memlane import ConflictError, InvalidInputError, LLMError, Memory
from memlane.filters import All
from memlane.llm import FakeLLM
from memlane.llm.fake import FakeCall
from memlane.memory.write.once import request_hash
from memlane.memory.write.pending import params_of
from memlane.models import Message, Scope, now_iso
from tests.memory.test_erase import every_text
from tests.memory.write.test_pending import adds


def config(path: Path, **idempotency: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        "idempotency": idempotency,
    }


def make(tmp_path: Path, *replies: Any, **idempotency: Any) -> tuple[Memory, FakeLLM]:
    llm = FakeLLM(replies)
    return Memory(config(tmp_path / "m.db", **idempotency), llm=llm), llm


def test_a_repeat_answers_the_first_and_writes_nothing(tmp_path: Path) -> None:
    m, _ = make(tmp_path)
    first = m.add("I like tea", user_id="u", infer=False, idempotency_key="req-1")
    again = m.add("I like tea", user_id="u", infer=False, idempotency_key="req-1")
    assert again == first and len(first["results"]) == 1
    assert m.store.count(All()) == 1 and len(m.history(first["results"][0]["id"])) == 1
    other = m.add("I like tea", user_id="u", infer=False, idempotency_key="req-2")
    assert other["results"][0]["id"] != first["results"][0]["id"] and m.store.count(All()) == 2
    m.add("I like tea", user_id="u", infer=False)  # no key: mem0's behaviour, a new memory each time
    assert m.store.count(All()) == 3


def test_a_repeat_of_an_inferred_add_calls_no_llm(tmp_path: Path) -> None:
    m, llm = make(tmp_path, adds("Likes tea", "Lives in Pune"))
    first = m.add("I like tea and live in Pune", user_id="u", idempotency_key="k")
    calls = len(llm.calls)
    assert m.add("I like tea and live in Pune", user_id="u", idempotency_key="k") == first
    assert len(llm.calls) == calls and m.store.count(All()) == 2 and m.store.pending() == []


def test_the_same_key_with_other_arguments_is_a_conflict(tmp_path: Path) -> None:
    m, _ = make(tmp_path)
    m.add("I like tea", user_id="u", infer=False, idempotency_key="k")
    for changed in (
        {"messages": "I like coffee", "user_id": "u"},
        {"messages": "I like tea", "user_id": "v"},
        {"messages": "I like tea", "user_id": "u", "metadata": {"a": 1}},
    ):
        with pytest.raises(ConflictError, match="'k' was used by an add with other arguments"):
            m.add(infer=False, idempotency_key="k", **changed)
    assert m.store.count(All()) == 1
    assert issubclass(ConflictError, InvalidInputError)


@pytest.mark.parametrize("key", ["", "  ", "a b", "x" * 300, 3.5])
def test_a_bad_key_is_refused_before_anything_is_written(tmp_path: Path, key: Any) -> None:
    m, _ = make(tmp_path)
    with pytest.raises(InvalidInputError, match="idempotency_key"):
        m.add("I like tea", user_id="u", infer=False, idempotency_key=key)
    assert m.store.count(All()) == 0


def test_a_failed_add_frees_its_key(tmp_path: Path) -> None:
    m, llm = make(tmp_path, LLMError("down"))
    with pytest.raises(LLMError):
        m.add("I like tea", user_id="u", idempotency_key="k")
    llm.add(adds("Likes tea"))
    out = m.add("I like tea", user_id="u", idempotency_key="k")
    assert [r["memory"] for r in out["results"]] == ["Likes tea"]
    assert m.add("I like tea", user_id="u", idempotency_key="k") == out


def test_a_repeat_during_the_first_waits_and_answers_the_same(tmp_path: Path) -> None:
    started = threading.Event()

    def slow(call: FakeCall) -> Any:
        started.set()
        time.sleep(0.5)
        return adds("Likes tea")

    m, _ = make(tmp_path, slow)
    other = Memory(config(tmp_path / "m.db"), llm=FakeLLM())  # another process's view: no replies
    answers: list[Any] = []
    first = threading.Thread(
        target=lambda: answers.append(m.add("I like tea", user_id="u", idempotency_key="k"))
    )
    first.start()
    assert started.wait(5)
    repeat = other.add("I like tea", user_id="u", idempotency_key="k")
    first.join()
    assert answers == [repeat] and m.store.count(All()) == 1 and other.llm_usage.calls == 0
    other.close()


def test_a_repeat_that_waits_too_long_is_told_to_retry(tmp_path: Path) -> None:
    m, _ = make(tmp_path, wait=0.1)
    digest = request_hash(Scope("u"), [Message("user", "I like tea")], _params(), False)
    assert m.store.claim_request("k", digest, Scope("u"), "other", now_iso(), stale_before="0",
                                 expired_before="0").token == "other"  # fmt: skip
    with pytest.raises(ConflictError, match=r"still running after 0\.1 s"):
        m.add("I like tea", user_id="u", infer=False, idempotency_key="k")
    assert m.store.count(All()) == 0


def test_a_dead_adds_key_is_taken_over_and_it_cannot_commit(tmp_path: Path) -> None:
    m, _ = make(tmp_path, stale_after=0.05)
    digest = request_hash(Scope("u"), [Message("user", "I like tea")], _params(), False)
    m.store.claim_request("k", digest, Scope("u"), "dead", now_iso(), stale_before="0", expired_before="0")
    time.sleep(0.1)
    out = m.add("I like tea", user_id="u", infer=False, idempotency_key="k")
    assert m.store.count(All()) == 1
    with m.store.transaction() as tx:
        assert not tx.finish_request("k", "dead", {"results": []})
    assert m.add("I like tea", user_id="u", infer=False, idempotency_key="k") == out


def test_keys_expire_after_the_configured_time(tmp_path: Path) -> None:
    m, _ = make(tmp_path, ttl="0.05s")
    assert m.config.idempotency.ttl == 0.05
    m.add("I like tea", user_id="u", infer=False, idempotency_key="k")
    time.sleep(0.1)
    m.add("I like tea", user_id="u", infer=False, idempotency_key="k")
    assert m.store.count(All()) == 2


def test_purge_erases_the_kept_answers(tmp_path: Path) -> None:
    m, _ = make(tmp_path)
    m.add("quokkasecret tea", user_id="bob", infer=False, idempotency_key="k")
    m.purge(user_id="bob")
    assert "quokkasecret" not in every_text(m.store)  # type: ignore[arg-type]
    m.add("quokkasecret tea", user_id="bob", infer=False, idempotency_key="k")
    assert m.store.count(All()) == 1


def _params() -> dict[str, Any]:
    return params_of({}, None, None, None, None)  # add()'s with no options


def test_an_inferred_add_whose_key_was_taken_over_rolls_back_and_leaves_nothing_pending(
    tmp_path: Path,
) -> None:
    digest = request_hash(Scope("u"), [Message("user", "I like tea")], _params(), True)

    def stolen(call: FakeCall) -> Any:  # while the model runs, another add takes the key over
        taken = m.store.claim_request(
            "k", digest, Scope("u"), "thief", now_iso(), stale_before="9999", expired_before="0"
        )
        assert taken.token == "thief"
        return adds("Likes tea")

    m, _ = make(tmp_path, stolen)
    with pytest.raises(ConflictError, match="another add took the key over"):
        m.add("I like tea", user_id="u", idempotency_key="k")
    assert m.store.count(All()) == 0 and m.store.pending() == []
