"""The LoCoMo data: its conversations, turns and questions, read and checked from its JSON file
(``load_locomo``), and the file's provenance for reports (``describe_data``)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlane.errors import InvalidInputError

__all__ = [
    "CATEGORIES",
    "Conversation",
    "Question",
    "Turn",
    "describe_data",
    "load_locomo",
    "parse_evidence",
    "parse_session_date",
]

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
"""The official mapping of LoCoMo's category integers (5, adversarial, is excluded)."""
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")


@dataclass(frozen=True, slots=True)
class Turn:
    dia_id: str
    session: int
    text: str
    observed_at: str
    speaker: str = ""
    """Who said it: the message's ``name`` at ingest (the memory's ``actor_id``)."""


@dataclass(frozen=True, slots=True)
class Question:
    conversation: str
    text: str
    category: int
    gold: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]

    @property
    def last_observed(self) -> str:
        """When the conversation ended: the reference date of its questions."""
        return max(t.observed_at for t in self.turns)


def parse_evidence(values: Sequence[Any]) -> list[str]:
    """Evidence ids as ``D<session>:<turn>``; tolerates ``"D8:6; D9:17"`` and ``"D:11:26"``."""
    out: list[str] = []
    for value in values:
        for token in re.split(r"[;,\s]+", str(value)):
            match = _EVIDENCE.fullmatch(token)
            if match:
                ref = f"D{int(match.group(1))}:{int(match.group(2))}"
                if ref not in out:
                    out.append(ref)
    return out


def parse_session_date(text: str) -> str:
    """``"1:56 pm on 8 May, 2023"`` as UTC ISO-8601."""
    try:
        moment = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    except ValueError:
        raise InvalidInputError(f"unrecognised LoCoMo session date {text!r}") from None
    return moment.replace(tzinfo=UTC).isoformat()


def load_locomo(path: str | Path) -> list[Conversation]:
    """The conversations of a LoCoMo JSON file, with questions of categories 1-4.

    A file that cannot be read, is not JSON, holds no conversation or does not have LoCoMo's
    shape is an ``InvalidInputError`` that names the file and what is wrong.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise InvalidInputError(f"cannot read the LoCoMo file {str(path)!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{str(path)!r} is not a LoCoMo JSON file (not UTF-8 text)") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{str(path)!r} is not a LoCoMo JSON file (not JSON: {exc})") from exc
    if not isinstance(data, list):
        raise InvalidInputError(
            f"{str(path)!r}: expected a JSON list of LoCoMo samples, got a JSON {_json_type(data)}"
        )
    if not data:
        raise InvalidInputError(f"{str(path)!r} holds no conversations (an empty list)")
    out: list[Conversation] = []
    for index, sample in enumerate(data):
        where = f"{str(path)!r}, sample {index}"
        if isinstance(sample, dict) and isinstance(sample.get("sample_id"), str):
            where += f" ({sample['sample_id']})"
        try:
            out.append(_conversation(sample, where))
        except InvalidInputError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InvalidInputError(f"{where} is not a LoCoMo sample: {exc!r}") from exc
    return out


def _need(value: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: expected a JSON object, got a JSON {_json_type(value)}")
    if key not in value:
        raise InvalidInputError(f"{where}: missing {key!r} (not a LoCoMo file?)")
    found = value[key]
    if not isinstance(found, kind) or isinstance(found, bool):
        raise InvalidInputError(
            f"{where}: {key!r} should be a JSON {_json_type(kind())}, got a JSON {_json_type(found)}"
        )
    return found


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _conversation(sample: Any, where: str) -> Conversation:
    sample_id = _need(sample, "sample_id", str, where)
    conv = _need(sample, "conversation", dict, where)
    qas = _need(sample, "qa", list, where)
    sessions = sorted(int(m.group(1)) for k in conv if (m := re.fullmatch(r"session_(\d+)", k)))
    if not sessions:
        raise InvalidInputError(f"{where}: the conversation has no session_<n> lists")
    turns: list[Turn] = []
    for n in sessions:
        date = _need(conv, f"session_{n}_date_time", str, where)
        try:
            observed = parse_session_date(date)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
        for i, t in enumerate(_need(conv, f"session_{n}", list, where)):
            at = f"{where}, session_{n}[{i}]"
            speaker = _need(t, "speaker", str, at)
            text = f"{speaker}: {_need(t, 'text', str, at)}"
            if t.get("blip_caption"):
                text += f" [shares a photo of {t['blip_caption']}]"
            turns.append(Turn(_need(t, "dia_id", str, at), n, text, observed, speaker.strip()))
    if not turns:
        raise InvalidInputError(f"{where}: the conversation has no turns")
    known = {t.dia_id for t in turns}
    questions: list[Question] = []
    for i, qa in enumerate(qas):
        if not isinstance(qa, dict) or qa.get("category") not in CATEGORIES:
            continue
        evidence = qa.get("evidence") or []
        gold = parse_evidence(evidence if isinstance(evidence, list) else [evidence])
        question = _need(qa, "question", str, f"{where}, qa[{i}]")
        questions.append(Question(sample_id, question, qa["category"], tuple(e for e in gold if e in known)))
    return Conversation(sample_id, tuple(turns), tuple(questions))


def describe_data(path: str | Path) -> dict[str, str]:
    """The data file of a run, for its report: path (absolute) and SHA-256 of its bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(Path(path).resolve()), "sha256": digest.hexdigest()}
