from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from memlane.errors import LLMError, MemlaneError
from memlane.llm import LLM, ChatReply, FakeCall, FakeLLM, OutputParseError, TransientLLMError
from memlane.llm.fake import FakeLLMConfig
from memlane.llm.structured import RetryPolicy, approx_tokens
from memlane.registry import Registry

from .bad_outputs import Facts

ASK = [{"role": "system", "content": "Extract facts."}, {"role": "user", "content": "I moved to Bangalore"}]
GOOD = {"facts": ["Lives in Bangalore"]}


def test_a_valid_reply_is_one_call_with_usage() -> None:
    llm: LLM = FakeLLM([GOOD])
    result = llm.complete(ASK, Facts, max_tokens=50)
    assert result.value == Facts(**GOOD)
    assert result.usage.calls == 1
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0


def test_calls_log_messages_model_and_max_tokens() -> None:
    fake = FakeLLM([GOOD])
    fake.complete(ASK, Facts, max_tokens=77)
    (call,) = fake.calls
    assert call.messages == ASK
    assert call.response_model == "Facts"
    assert call.max_tokens == 77
    assert not call.repair
    assert "Bangalore" in call.text


def test_scripted_forms_all_answer() -> None:
    fake = FakeLLM(
        [
            '```json\n{"facts": ["a"]}\n```',
            Facts(facts=["b"]),
            ["c"],
            lambda call: {"facts": [call.response_model]},
        ]
    )
    assert [fake.complete(ASK, Facts).value.facts for _ in range(4)] == [["a"], ["b"], ["c"], ["Facts"]]
    assert fake.remaining == 0


def test_bad_output_then_good_output_uses_one_repair_request() -> None:
    fake = FakeLLM(['Sure! {"fact": "Lives in Bangalore"}', GOOD])
    result = fake.complete(ASK, Facts)
    assert result.value.facts == ["Lives in Bangalore"]
    assert result.usage.calls == 2
    first, repair = fake.calls
    assert repair.repair and not first.repair
    assert repair.messages[: len(ASK)] == ASK
    assert repair.messages[-2] == {"role": "assistant", "content": 'Sure! {"fact": "Lives in Bangalore"}'}
    assert repair.messages[-1]["role"] == "user"
    assert "facts: Field required" in repair.messages[-1]["content"]
    assert "only the corrected JSON" in repair.messages[-1]["content"]


def test_usage_adds_up_over_attempts() -> None:
    fake = FakeLLM(["no json here", GOOD])
    result = fake.complete(ASK, Facts)
    assert result.usage.calls == 2
    assert result.usage.prompt_tokens == sum(approx_tokens(c.text) for c in fake.calls)
    assert result.usage.completion_tokens == approx_tokens("no json here") + approx_tokens(json.dumps(GOOD))
    assert result.usage == fake.usage


def test_two_bad_outputs_raise_llm_error_with_excerpt_and_usage() -> None:
    fake = FakeLLM(["I cannot help with that.", '{"facts": "still wrong"}'])
    with pytest.raises(LLMError) as info:
        fake.complete(ASK, Facts)
    error = info.value
    assert isinstance(error, OutputParseError)
    message = str(error)
    assert "unusable twice" in message and "Facts" in message
    assert "still wrong" in message
    assert "valid list" in message
    assert error.usage is not None
    assert (error.usage.calls, error.usage.completion_tokens) == (2, 6 + 6)
    assert len(fake.calls) == 2


def test_truncated_reply_asks_for_shorter_json() -> None:
    fake = FakeLLM([ChatReply('{"facts": ["a", "a", "a', truncated=True), GOOD])
    assert fake.complete(ASK, Facts).value.facts == GOOD["facts"]
    assert "cut off" in fake.calls[1].messages[-1]["content"]


def test_a_complete_but_invalid_reply_that_hit_max_tokens_counts_as_truncated() -> None:
    fake = FakeLLM([ChatReply('{"facts": []', truncated=True), ChatReply("{}", truncated=True)])
    with pytest.raises(OutputParseError) as info:
        fake.complete(ASK, Facts)
    assert info.value.reason == "truncated"


def test_empty_reply_is_shown_as_such_in_the_repair() -> None:
    fake = FakeLLM(["", GOOD])
    fake.complete(ASK, Facts)
    assert fake.calls[1].messages[-2] == {"role": "assistant", "content": "(empty reply)"}
    assert "no output" in fake.calls[1].messages[-1]["content"]


def test_a_very_long_bad_reply_is_shortened_in_the_repair() -> None:
    fake = FakeLLM(['{"facts": [' + '"tea", ' * 2000, GOOD])
    fake.complete(ASK, Facts)
    assert len(fake.calls[1].messages[-2]["content"]) < 2100


def test_transient_errors_are_retried_apart_from_the_repair() -> None:
    fake = FakeLLM([TransientLLMError("429"), TransientLLMError("503"), "oops", GOOD], max_retries=2)
    result = fake.complete(ASK, Facts)
    assert result.value.facts == GOOD["facts"]
    assert len(fake.calls) == 4
    assert result.usage.calls == 2  # only answers count as calls


def test_transient_errors_past_max_retries_raise() -> None:
    fake = FakeLLM([TransientLLMError("HTTP 503")] * 3, max_retries=2)
    with pytest.raises(LLMError, match="failed after 3 attempts; last error: HTTP 503"):
        fake.complete(ASK, Facts)


def test_backoff_doubles_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, backoff=0.5, max_backoff=3.0)
    assert [policy.delay(i) for i in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(0, retry_after=2.5) == 2.5
    assert policy.delay(0, retry_after=1000) == 12.0


def test_scripted_llm_errors_pass_through_and_others_are_wrapped() -> None:
    fake = FakeLLM([LLMError("boom"), RuntimeError("kaput"), ValueError])
    with pytest.raises(LLMError, match=r"^boom$"):
        fake.complete(ASK, Facts)
    with pytest.raises(LLMError, match="RuntimeError: kaput") as info:
        fake.complete(ASK, Facts)
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(LLMError, match="ValueError"):
        fake.complete(ASK, Facts)


def test_an_empty_script_says_it_ran_out() -> None:
    fake = FakeLLM([GOOD])
    fake.complete(ASK, Facts)
    with pytest.raises(LLMError, match=r"ran out of responses at call 2 .*Facts"):
        fake.complete(ASK, Facts)
    fake.add(GOOD)
    assert fake.complete(ASK, Facts).value.facts == GOOD["facts"]


def test_the_fake_is_a_registered_provider() -> None:
    registry = Registry(discover=False)
    assert "fake" in registry.names("llm")
    llm = registry.create("llm", "fake", {"responses": ['{"facts": ["x"]}', {"facts": ["y"]}]})
    assert isinstance(llm, FakeLLM)
    assert [llm.complete(ASK, Facts).value.facts for _ in range(2)] == [["x"], ["y"]]
    with pytest.raises(ValidationError):
        FakeLLMConfig.model_validate({"responses": [], "model": "x"})


class Pair(BaseModel):
    left: int
    right: int


def test_the_callable_sees_the_repair_request() -> None:
    def answer(call: FakeCall) -> str:
        return '{"left": 1, "right": 2}' if call.repair else '{"left": 1}'

    fake = FakeLLM([answer, answer])
    assert fake.complete(ASK, Pair).value == Pair(left=1, right=2)


def test_errors_share_the_library_root() -> None:
    assert issubclass(OutputParseError, MemlaneError)
    assert issubclass(TransientLLMError, LLMError)
