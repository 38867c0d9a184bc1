"""add()'s messages and metadata, normalised (pure functions)."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from memlane.errors import InvalidInputError
from memlane.memory.arguments import MAX_MESSAGE_CHARS
from memlane.memory.write.messages import clean_metadata, normalize_messages

# -- metadata ----------------------------------------------------------------------------


def test_metadata_is_copied() -> None:
    original = {"topic": "food", "n": 1, "nested": {"a": [1, 2]}}
    cleaned = clean_metadata(original)
    assert cleaned == original and cleaned is not original
    assert clean_metadata(None) == {}


def test_identity_keys_are_stripped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="memlane"):
        cleaned = clean_metadata(
            {"user_id": "evil", "agent_id": "x", "run_id": "y", "actor_id": "z", "topic": "ok"}
        )
    assert cleaned == {"topic": "ok"}
    warned = " ".join(r.getMessage() for r in caplog.records)
    for key in ("user_id", "agent_id", "run_id", "actor_id"):
        assert key in warned


@pytest.mark.parametrize(
    "metadata",
    ["x", 5, ["a"], {1: "x"}, {"": 1}, {"k": object()}, {"k": {1, 2}}, {"k": math.nan}, {"k": math.inf},
     {"k": b"bytes"}, {"k": datetime.now(UTC)}, {"k": "a\x00b"}, {"k\x00": 1}, {"k": {"n": ["\x00"]}}],
)  # fmt: skip
def test_bad_metadata(metadata: Any) -> None:
    with pytest.raises(InvalidInputError, match="metadata"):
        clean_metadata(metadata)


# -- messages ----------------------------------------------------------------------------


def test_a_string_is_one_user_message() -> None:
    [message] = normalize_messages("I like tea")
    assert (message.role, message.content, message.name) == ("user", "I like tea", None)


def test_a_dict_is_one_message_and_role_defaults_to_user() -> None:
    [message] = normalize_messages({"content": "hi"})
    assert message.role == "user"


def test_a_list_keeps_order_roles_and_names() -> None:
    messages = normalize_messages(
        [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "I moved", "name": " alice "},
            {"role": "assistant", "content": "Where to?"},
            {"role": "user", "content": "   "},
            {"role": "tool", "content": "tool output"},
        ]
    )
    assert [(m.role, m.content, m.name) for m in messages] == [
        ("user", "I moved", "alice"),
        ("assistant", "Where to?", None),
        ("tool", "tool output", None),
    ]
    assert len({m.id for m in messages}) == 3


def test_list_content_keeps_text_parts_and_collects_images() -> None:
    [message] = normalize_messages(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look at this"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                {"type": "text", "text": "my cat"},
                {"type": "input_audio", "input_audio": {}},
            ],
        }
    )
    assert message.content == "look at this\nmy cat"
    assert message.images == ("https://example.com/cat.png",)


def test_a_single_part_dict_as_content() -> None:
    [message] = normalize_messages({"role": "user", "content": {"type": "text", "text": "hi"}})
    assert message.content == "hi"


@pytest.mark.parametrize(
    "messages",
    [
        None,
        5,
        b"bytes",
        ("a", "b"),
        [],
        [1, 2],
        ["just a string in a list"],
        {"role": "user"},
        {"role": "user", "content": 5},
        {"role": "user", "content": None},
        {"role": "user", "content": [1]},
        {"role": "user", "content": [{"type": "text", "text": 5}]},
        {"role": "user", "content": [{"type": "text"}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]},
        {"role": 5, "content": "x"},
        {"role": "", "content": "x"},
        {"role": "user", "content": "x", "name": ""},
        {"role": "user", "content": "x", "name": 5},
        {"role": "user", "content": "x", "name": "*"},
        {"role": "user", "content": "x", "name": "al\u202eice"},
        {"role": "user", "content": "x" * (MAX_MESSAGE_CHARS + 1)},
        [{"role": "user", "content": "x" * MAX_MESSAGE_CHARS}] * 11,
        "",
        "   ",
        {"role": "system", "content": "only a system prompt"},
        [{"role": "user", "content": ""}, {"role": "assistant", "content": [{"type": "text", "text": " "}]}],
    ],
)
def test_bad_messages(messages: Any) -> None:
    with pytest.raises(InvalidInputError):
        normalize_messages(messages)


def test_size_limits_say_the_limit_the_size_and_what_to_do() -> None:
    with pytest.raises(InvalidInputError) as info:
        normalize_messages("x" * 100_001)
    assert str(info.value) == (
        "message 0 holds 100,001 characters, more than the limit of 100,000: "
        "split the text into several messages or add() calls"
    )
    with pytest.raises(InvalidInputError, match=r"1,000,001 characters in all.*limit of 1,000,000 per add"):
        normalize_messages([{"role": "user", "content": "x" * 100_000}] * 10 + [{"content": "!"}])
    assert len(normalize_messages([{"role": "user", "content": "x" * 100_000}] * 10)) == 10
