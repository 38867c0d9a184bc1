"""LoCoMo evaluation: parsing, scoring and reports on a small synthetic conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memlane import InvalidInputError, Memory
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.locomo import ingest, parse_evidence, parse_session_date
from memlane.eval.report import html_report, table, write_reports
from tests.conftest import hash_config


def sample() -> list[dict[str, Any]]:
    turns_1 = [
        {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a greyhound called Pixel"},
        {"speaker": "Bob", "dia_id": "D1:2", "text": "Lovely! Where did you find her?"},
        {"speaker": "Ann", "dia_id": "D1:3", "text": "At the shelter in Leeds", "blip_caption": "a dog"},
    ]
    turns_2 = [
        {"speaker": "Bob", "dia_id": "D2:1", "text": "I started learning the cello"},
        {"speaker": "Ann", "dia_id": "D2:2", "text": "My sister plays the violin"},
    ]
    qa = [
        {
            "question": "What did Ann call the greyhound she adopted?",
            "answer": "Pixel",
            "evidence": ["D1:1"],
            "category": 4,
        },
        {
            "question": "Where did Ann adopt her dog?",
            "answer": "Leeds",
            "evidence": ["D1:1; D1:3"],
            "category": 1,
        },
        {"question": "What instrument does Bob learn?", "evidence": ["D:2:1"], "category": 2},
        {"question": "Adversarial", "evidence": ["D2:2"], "category": 5},
        {"question": "No gold", "evidence": ["D9:9"], "category": 3},
    ]
    conversation = {
        "speaker_a": "Ann",
        "speaker_b": "Bob",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": turns_1,
        "session_2_date_time": "10:00 am on 9 June, 2023",
        "session_2": turns_2,
    }
    return [{"sample_id": "conv-x", "conversation": conversation, "qa": qa}]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(sample()), encoding="utf-8")
    return path


def test_parse_evidence_tolerates_malformed_ids() -> None:
    assert parse_evidence(["D8:6; D9:17", "D:11:26", "D1:3", "D1:3", "junk"]) == [
        "D8:6",
        "D9:17",
        "D11:26",
        "D1:3",
    ]


def test_parse_session_date() -> None:
    assert parse_session_date("1:56 pm on 8 May, 2023") == "2023-05-08T13:56:00+00:00"
    with pytest.raises(InvalidInputError):
        parse_session_date("yesterday")


def test_load_keeps_categories_one_to_four_and_known_evidence(data_file: Path) -> None:
    (conv,) = load_locomo(data_file)
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D1:3", "D2:1", "D2:2"]
    assert conv.turns[2].text == "Ann: At the shelter in Leeds [shares a photo of a dog]"
    assert [q.category for q in conv.questions] == [4, 1, 2, 3]
    assert [q.gold for q in conv.questions] == [("D1:1",), ("D1:1", "D1:3"), ("D2:1",), ()]


def test_evaluate_scores_recall_and_reports(tmp_path: Path, data_file: Path) -> None:
    memory = Memory(hash_config(tmp_path / "eval.db"))
    seen: list[tuple[str, int, int]] = []
    result = evaluate_locomo(memory, load_locomo(data_file), progress=lambda *a: seen.append(a))
    assert result.turns == 5
    assert result.questions["overall"] == 3  # the question without gold evidence is not scored
    assert result.recall["overall"][20] == pytest.approx(1.0)  # five turns: all are in the top 20
    assert 0.0 < result.recall["overall"][1] <= 1.0
    assert result.hit["single-hop"][1] == 1.0  # "greyhound" and "adopted" match the adoption turn
    assert len(result.latency_ms) == 3 and result.context_tokens[1] > 0
    assert ("ingest", 5, 5) in seen and ("search", 3, 3) in seen
    stored = memory.get_all(user_id="conv-x")["results"]
    assert {(m["metadata"] or {})["dia_id"] for m in stored} == {"D1:1", "D1:2", "D1:3", "D2:1", "D2:2"}
    text = table(result)
    assert "single-hop" in text and "R@10" in text and "p95" in text
    page = html_report(result)
    assert page.count("<svg") == 2 and "polyline" in page
    paths = write_reports(result, tmp_path / "report")
    assert json.loads(paths["json"].read_text())["questions"]["overall"] == 3


@pytest.mark.integration
def test_eval_end_to_end_with_the_local_model(tmp_path: Path, data_file: Path) -> None:
    memory = Memory({"vector_store": {"config": {"path": str(tmp_path / "e.db")}}})
    result = evaluate_locomo(memory, load_locomo(data_file), progress=lambda *a: None)
    assert result.recall["overall"][5] == pytest.approx(1.0)
    assert result.recall["single-hop"][1] == 1.0


def test_progress_in_a_log_is_a_line_per_tenth(capsys: pytest.CaptureFixture[str]) -> None:
    from memlane.eval.locomo import _StderrProgress

    progress = _StderrProgress()
    for done in range(0, 101, 5):
        progress("search", done, 100)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 11 and "\r" not in "".join(lines)
    assert lines[-1].endswith("100/100")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "holds no conversations"),
        ([{"sample_id": "c", "qa": []}], "sample 0 (c): missing 'conversation'"),
        ([{"sample_id": "c", "conversation": {"session_1": []}, "qa": []}], "missing 'session_1_date_time'"),
        (
            [
                {
                    "sample_id": "c",
                    "conversation": {"session_1_date_time": "soon", "session_1": [{}]},
                    "qa": [],
                }
            ],
            "unrecognised LoCoMo session date",
        ),
        (
            [
                {
                    "sample_id": "c",
                    "conversation": {
                        "session_1_date_time": "1:56 pm on 8 May, 2023",
                        "session_1": [{"text": "x"}],
                    },
                    "qa": [],
                }
            ],
            "session_1[0]: missing 'speaker'",
        ),
        (
            [{"sample_id": 7, "conversation": {}, "qa": []}],
            "'sample_id' should be a JSON string, got a JSON number",
        ),
    ],
)
def test_load_names_what_is_wrong(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_locomo(path)
    assert message in str(caught.value) and "bad.json" in str(caught.value)


def test_load_of_a_missing_or_binary_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the LoCoMo file"):
        load_locomo(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\x00")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        load_locomo(tmp_path / "bin.json")


def test_evaluate_needs_conversations(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no LoCoMo conversations"):
        evaluate_locomo(Memory(hash_config(tmp_path / "e.db")), [], progress=lambda *a: None)


def test_result_records_provenance_and_masks_the_config(tmp_path: Path, data_file: Path) -> None:
    config = hash_config(tmp_path / "e.db")
    config["llm"] = {"provider": "fake", "config": {"responses": [{"api_key": "sk-SECRET-123"}]}}
    memory = Memory(config)
    result = evaluate_locomo(memory, load_locomo(data_file), progress=lambda *a: None, data_file=data_file)
    text = json.dumps(result.to_dict()) + html_report(result)
    assert "sk-SECRET-123" not in text
    assert result.data["sha256"] and result.data["path"] == str(data_file.resolve())
    assert result.memlane_version and result.started_at


def test_each_turn_is_stored_as_said_by_its_speaker(tmp_path: Path, data_file: Path) -> None:
    conversations = load_locomo(data_file)
    assert [t.speaker for t in conversations[0].turns] == ["Ann", "Bob", "Ann", "Bob", "Ann"]
    with Memory(hash_config(tmp_path / "e.db")) as memory:
        ingest(memory, conversations)
        stored = memory.get_all(user_id="conv-x")["results"]
    said = {(item.get("metadata") or {}).get("dia_id"): item.get("actor_id") for item in stored}
    assert said == {"D1:1": "Ann", "D1:2": "Bob", "D1:3": "Ann", "D2:1": "Bob", "D2:2": "Ann"}
