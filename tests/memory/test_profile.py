"""Profile slots with the scripted FakeLLM: set, superseded, cleared, unknown keys, the prompt,
one call per add(), off by default, scopes, and delete / purge / export / import reaching them."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from memlane import ConfigError, InvalidInputError, Memory
from memlane.llm import FakeLLM
from memlane.prompts import memory_update
from memlane.store.sqlite import SQLiteStore
from tests.memory.test_erase import every_text, raw_bytes


def config(path: Path, *, profile: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        "profile": {"enabled": True} if profile is None else profile,
        **extra,
    }


def make(tmp_path: Path, *replies: Any, **extra: Any) -> tuple[Memory, FakeLLM]:
    llm = FakeLLM(replies)
    return Memory(config(tmp_path / "m.db", **extra), llm=llm), llm


def answer(*facts: str, **slots: str | None) -> dict[str, Any]:
    """A single-call answer: each fact an ADD, then the profile slots."""
    return {
        "memory": [{"event": "ADD", "id": None, "text": f} for f in facts],
        "profile": [{"key": k, "value": v} for k, v in slots.items()],
    }


def values(memory: Memory, **scope: Any) -> dict[str, str]:
    profile: dict[str, str] = memory.get_profile(**scope)["profile"]
    return profile


def test_a_slot_is_set_from_the_same_call_and_linked_to_its_memory(tmp_path: Path) -> None:
    m, llm = make(tmp_path, answer("Lives in Delhi", "Likes cricket", home_city="Delhi"))
    out = m.add("I live in Delhi and I like cricket", user_id="alice", timestamp="2024-01-05")
    delhi = next(r["id"] for r in out["results"] if r["memory"] == "Lives in Delhi")
    assert out["profile"] == [
        {"key": "home_city", "value": "Delhi", "previous_value": None, "event": "ADD", "memory_id": delhi}
    ]
    got = m.get_profile(user_id="alice")
    assert got["profile"] == {"home_city": "Delhi"}
    [slot] = got["slots"]
    assert slot["memory_id"] == delhi and str(slot["valid_from"]).startswith("2024-01-05")
    assert slot["recorded_at"] and slot["expired_at"] is None
    assert len(llm.calls) == 1 and m.llm_usage.calls == 1


def test_a_new_value_supersedes_and_the_old_one_is_kept(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        answer("Lives in Delhi", home_city="Delhi"),
        {
            "memory": [{"event": "DELETE", "id": "0", "text": "Moved to Bangalore"}],
            "profile": [{"key": "home_city", "value": "Bangalore"}],
        },
    )
    m.add("I live in Delhi", user_id="alice", timestamp="2024-01-01")
    out = m.add("I moved to Bangalore", user_id="alice", timestamp="2024-06-01")
    assert [(p["key"], p["value"], p["previous_value"], p["event"]) for p in out["profile"]] == [
        ("home_city", "Bangalore", "Delhi", "UPDATE")
    ]
    assert values(m, user_id="alice") == {"home_city": "Bangalore"}
    old, new = m.profile_history("home_city", user_id="alice")
    assert (old["value"], new["value"]) == ("Delhi", "Bangalore")
    assert str(old["valid_to"]).startswith("2024-06-01") and old["expired_at"] == new["recorded_at"]
    assert new["expired_at"] is None and str(new["valid_from"]).startswith("2024-06-01")
    before = m.get_profile(user_id="alice", as_of=old["recorded_at"])
    assert before["profile"] == {"home_city": "Delhi"}  # what we believed then


@pytest.mark.parametrize("cleared", [None, "", "null", " NULL "])
def test_null_or_empty_clears_a_slot(tmp_path: Path, cleared: str | None) -> None:
    m, _ = make(
        tmp_path,
        answer("Works at Acme", employer="Acme"),
        {
            "memory": [{"event": "ADD", "id": None, "text": "Left Acme"}],
            "profile": [{"key": "employer", "value": cleared}],
        },
    )
    m.add("I work at Acme", user_id="alice")
    out = m.add("I quit my job at Acme", user_id="alice")
    assert out["profile"] == [
        {"key": "employer", "value": None, "previous_value": "Acme", "event": "DELETE", "memory_id": None}
    ]
    assert values(m, user_id="alice") == {}
    [old] = m.profile_history("employer", user_id="alice")
    assert old["value"] == "Acme" and old["expired_at"] is not None


def test_the_same_value_again_is_no_change(tmp_path: Path) -> None:
    m, _ = make(tmp_path, answer("Is vegetarian", diet="vegetarian"), answer(diet="Vegetarian"))
    m.add("I'm vegetarian", user_id="alice")
    assert m.add("still veggie", user_id="alice")["profile"] == []
    assert len(m.profile_history("diet", user_id="alice")) == 1


def test_unknown_keys_are_dropped_with_a_warning_and_keys_are_normalised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reply = {
        "memory": [{"event": "ADD", "id": None, "text": "Wears size 42 shoes"}],
        "profile": [
            {"key": "shoe_size", "value": "42"},
            {"key": "Home City", "value": "Delhi"},
            {"key": "home-city", "value": "Pune"},  # the last value of a key wins
        ],
    }
    m, _ = make(tmp_path, reply)
    with caplog.at_level(logging.WARNING, logger="memlane"):
        out = m.add("I wear 42 and live in Pune", user_id="alice")
    assert [r["memory"] for r in out["results"]] == ["Wears size 42 shoes"]  # the facts still land
    assert values(m, user_id="alice") == {"home_city": "Pune"}
    assert any(
        "shoe_size" in r.getMessage() and "not an allowed slot" in r.getMessage() for r in caplog.records
    )


def test_configured_slots_replace_the_defaults(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path, answer(team="Red", home_city="Delhi"), profile={"enabled": True, "slots": ["team", "role"]}
    )
    m.add("I'm on team Red, I live in Delhi", user_id="alice")
    assert values(m, user_id="alice") == {"team": "Red"}
    assert "Allowed keys: team, role." in llm.calls[0].text


def test_the_prompt_shows_the_allowed_keys_and_the_current_profile(tmp_path: Path) -> None:
    m, llm = make(tmp_path, answer("Lives in Delhi", home_city="Delhi", diet="vegan"), answer())
    m.add("I live in Delhi, vegan", user_id="alice")
    m.add("nice weather", user_id="alice")
    first, second = llm.calls[0].text, llm.calls[1].text
    assert "Allowed keys: name, preferred_name, age," in first and "favourite_food." in first
    assert "Current profile:\n(none)" in first
    assert "Current profile:\nhome_city: Delhi\ndiet: vegan" in second  # in the configured order
    assert [c.response_model for c in llm.calls] == ["MemoryUpdateWithProfile"] * 2


def test_still_one_llm_call_per_add_with_graph_and_profile(tmp_path: Path) -> None:
    reply = {
        **answer("Lives in Delhi", home_city="Delhi"),
        "entities": [{"name": "user", "type": "person"}, {"name": "Delhi", "type": "city"}],
        "relations": [{"source": "user", "relationship": "lives_in", "destination": "Delhi"}],
    }
    m, llm = make(tmp_path, reply, enable_graph=True)
    out = m.add("I live in Delhi", user_id="alice")
    assert len(llm.calls) == 1 and llm.calls[0].response_model == "MemoryUpdateWithGraphAndProfile"
    assert out["relations"]["added_entities"] and out["profile"][0]["value"] == "Delhi"


def test_classic_pipeline_reads_the_profile_in_its_extraction_call(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"facts": ["Lives in Delhi"], "profile": [{"key": "home_city", "value": "Delhi"}]},
        {"memory": [{"event": "ADD", "id": None, "text": "Lives in Delhi"}]},
        {"facts": [], "profile": [{"key": "diet", "value": "vegan"}]},
        pipeline="classic",
    )
    m.add("I live in Delhi", user_id="alice")
    m.add("vegan since today", user_id="alice")
    assert [c.response_model for c in llm.calls] == ["FactsWithProfile", "MemoryUpdate", "FactsWithProfile"]
    assert "Current profile:\nhome_city: Delhi" in llm.calls[2].text
    assert values(m, user_id="alice") == {"home_city": "Delhi", "diet": "vegan"}


def test_off_by_default_leaves_the_call_and_the_result_unchanged(tmp_path: Path) -> None:
    llm = FakeLLM([{"memory": [{"event": "ADD", "id": None, "text": "Likes tea"}]}])
    m = Memory(config(tmp_path / "m.db", profile={}), llm=llm)
    assert m.config.profile.enabled is False
    out = m.add("I like tea", user_id="alice", timestamp="2024-02-10")
    assert set(out) == {"results"}
    [call] = llm.calls
    assert call.response_model == "MemoryUpdate"
    expected = memory_update.build_messages(
        memory_update.MemoryUpdateInput(conversation="user: I like tea", observation_date="2024-02-10")
    )
    assert call.messages == expected  # the default prompt, byte for byte
    assert "profile" not in call.text.lower()
    assert m.get_profile(user_id="alice") == {"profile": {}, "slots": []}


def test_verbatim_adds_with_the_profile_on_report_no_changes(tmp_path: Path) -> None:
    m, llm = make(tmp_path)
    assert m.add("I live in Delhi", user_id="alice", infer=False)["profile"] == []
    assert llm.calls == []


def test_the_profile_belongs_to_the_owner_and_scopes_are_isolated(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        answer("Lives in Delhi", home_city="Delhi"),
        answer("Lives in Paris", home_city="Paris"),
        answer("Is vegan", diet="vegan"),
        answer("Runs on GPUs", occupation="assistant"),
    )
    m.add("I live in Delhi", user_id="alice")
    m.add("I live in Paris", user_id="bob")
    m.add("I'm vegan", user_id="alice", agent_id="helper", run_id="r1")  # alice's profile too
    m.add("I run on GPUs", agent_id="helper")  # the agent's own profile
    assert values(m, user_id="alice") == {"home_city": "Delhi", "diet": "vegan"}
    assert values(m, user_id="alice", agent_id="helper") == values(m, filters={"user_id": "alice"})
    assert values(m, user_id="bob") == {"home_city": "Paris"}
    assert values(m, agent_id="helper") == {"occupation": "assistant"}
    assert values(m, user_id="carol") == {}
    assert "Paris" not in llm.calls[2].text and "home_city: Delhi" in llm.calls[2].text
    assert m.profile_history("home_city", user_id="bob")[0]["value"] == "Paris"


def test_delete_and_delete_all_reach_the_profile(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        answer("Lives in Delhi", "Is vegan", home_city="Delhi", diet="vegan"),
        answer("Lives in Paris", home_city="Paris"),
        {
            "memory": [{"event": "ADD", "id": None, "text": "Likes jazz"}],
            "profile": [{"key": "hobbies", "value": "jazz"}],
        },
    )
    first = m.add("I live in Delhi, vegan", user_id="alice")["results"]
    m.add("I live in Paris", user_id="bob")
    m.add("I like jazz", user_id="alice", run_id="r1")
    m.delete(next(r["id"] for r in first if r["memory"] == "Is vegan"))  # its slot goes with it
    assert values(m, user_id="alice") == {"home_city": "Delhi", "hobbies": "jazz"}
    m.delete_all(user_id="alice", run_id="r1")  # only that run's memories and their slots
    assert values(m, user_id="alice") == {"home_city": "Delhi"}
    m.delete_all(user_id="alice")
    assert values(m, user_id="alice") == {}
    assert [v["value"] for v in m.profile_history("home_city", user_id="alice")] == ["Delhi"]  # kept
    assert values(m, user_id="bob") == {"home_city": "Paris"}


def test_delete_all_with_other_filters_clears_only_the_slots_of_what_it_deleted(tmp_path: Path) -> None:
    m, _ = make(tmp_path, answer("Lives in Delhi", home_city="Delhi"), answer("Is vegan", diet="vegan"))
    m.add("I live in Delhi", user_id="alice", metadata={"topic": "home"})
    m.add("I'm vegan", user_id="alice", metadata={"topic": "food"})
    m.delete_all(filters={"user_id": "alice", "topic": "food"})
    assert values(m, user_id="alice") == {"home_city": "Delhi"}


def test_a_contradicted_memory_takes_its_unreplaced_slot_along(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        answer("Works at Acme", employer="Acme"),
        {"memory": [{"event": "DELETE", "id": "0", "text": "Is between jobs"}], "profile": []},
    )
    m.add("I work at Acme", user_id="alice")
    out = m.add("Acme let me go", user_id="alice")
    assert [(p["key"], p["event"]) for p in out["profile"]] == [("employer", "DELETE")]
    assert values(m, user_id="alice") == {}


def test_purge_erases_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    m, _ = make(
        tmp_path,
        answer("Lives in Quokkatown", home_city="Quokkatown"),
        answer("Moved to Wombatville", home_city="Wombatville"),
        answer("Lives in Lisbon", home_city="Lisbon"),
    )
    m.add("I live in Quokkatown", user_id="bob")
    m.add("moved to Wombatville", user_id="bob")
    m.add("I live in Lisbon", user_id="carol")
    m.purge(user_id="bob")
    text = every_text(m.store) if isinstance(m.store, SQLiteStore) else ""
    assert "quokkatown" not in text and "wombatville" not in text
    assert m.profile_history("home_city", user_id="bob") == []
    assert values(m, user_id="carol") == {"home_city": "Lisbon"}
    m.close()
    assert b"quokkatown" not in raw_bytes(path).lower()


def test_purging_a_memory_erases_the_slots_written_from_it(tmp_path: Path) -> None:
    m, _ = make(tmp_path, answer("Lives in Quokkatown", home_city="Quokkatown"))
    mid = m.add("I live in Quokkatown", user_id="bob")["results"][0]["id"]
    m.purge(mid)
    assert m.profile_history("home_city", user_id="bob") == []


def test_export_import_and_reset_reach_the_profile(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path, answer("Lives in Delhi", home_city="Delhi"), answer("Lives in Pune", home_city="Pune")
    )
    m.add("I live in Delhi", user_id="alice")
    m.add("moved to Pune", user_id="alice")
    buffer = io.StringIO()
    assert m.export(buffer)["profile"] == 2
    other = Memory(config(tmp_path / "other.db"))
    assert other.import_data(io.StringIO(buffer.getvalue()))["profile"] == 2
    assert other.get_profile(user_id="alice") == m.get_profile(user_id="alice")
    assert other.profile_history("home_city", user_id="alice") == m.profile_history(
        "home_city", user_id="alice"
    )
    m.reset()
    assert m.get_profile(user_id="alice") == {"profile": {}, "slots": []}
    assert m.profile_history("home_city", user_id="alice") == []


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("get_profile", {}),
        ("get_profile", {"user_id": "a b"}),
        ("get_profile", {"user_id": "alice", "filters": {"topic": "x"}}),
        ("get_profile", {"filters": {"user_id": "*"}}),
        ("get_profile", {"user_id": "alice", "as_of": "yesterday"}),
        ("profile_history", {"key": "Home City", "user_id": "alice"}),
        ("profile_history", {"key": 7, "user_id": "alice"}),
        ("profile_history", {"key": "x" * 41, "user_id": "alice"}),
        ("profile_history", {"key": "home_city"}),
    ],
)
def test_bad_profile_calls_raise_input_errors(tmp_path: Path, call: str, kwargs: dict[str, Any]) -> None:
    m, _ = make(tmp_path)
    with pytest.raises(InvalidInputError):
        getattr(m, call)(**kwargs)


def test_a_bad_key_error_suggests_the_snake_case_form(tmp_path: Path) -> None:
    m, _ = make(tmp_path)
    with pytest.raises(InvalidInputError, match="did you mean 'home_city'"):
        m.profile_history("Home City", user_id="alice")


@pytest.mark.parametrize(
    "profile",
    [
        {"slots": ["Home City"]},
        {"slots": ["diet", "diet"]},
        {"slots": ["x" * 41]},
        {"slots": [f"k{i}" for i in range(101)]},
        {"enabled": True, "slots": []},
        {"enabled": True, "other": 1},
    ],
)
def test_bad_profile_config_fails_at_load(tmp_path: Path, profile: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Memory.from_config(config(tmp_path / "m.db", profile=profile))


# -- the profile as a search signal ------------------------------------------------------


def test_search_lifts_the_memory_behind_the_slot_a_query_asks_about(tmp_path: Path) -> None:
    m, _ = make(tmp_path, answer("Moved to Bangalore in 2024", "Likes cricket", home_city="Bangalore"))
    m.add("I moved to Bangalore in 2024 and I like cricket", user_id="alice")
    for text in ("Visited Delhi for a wedding", "Has a sister in Pune", "Reads crime novels"):
        m.add(text, user_id="alice", infer=False)
    results = m.search("where does alice live now?", user_id="alice", explain=True)["results"]
    top = results[0]
    assert top["memory"] == "Moved to Bangalore in 2024"
    assert top["score_details"]["profile_score"] == 1.0
    assert all(r["score_details"]["profile_score"] == 0.0 for r in results[1:])
    # a question about something else does not touch the profile
    other = m.search("what does alice read?", user_id="alice", explain=True)["results"]
    assert all(r["score_details"]["profile_score"] == 0.0 for r in other)
    # filters still apply: the slot's memory is not brought back past them
    kept = m.search("where does alice live?", user_id="alice", filters={"nope": True})["results"]
    assert kept == []


def test_profile_weight_zero_or_profile_off_leaves_search_alone(tmp_path: Path) -> None:
    m, _ = make(tmp_path, answer("Moved to Bangalore", home_city="Bangalore"), search={"profile_weight": 0})
    m.add("I moved to Bangalore", user_id="alice")
    results = m.search("where does alice live?", user_id="alice", explain=True)["results"]
    assert all(r["score_details"]["profile_score"] == 0.0 for r in results)
