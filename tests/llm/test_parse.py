from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memlane.errors import LLMError
from memlane.llm.parse import MAX_DEPTH, OutputParseError, TruncatedOutputError, excerpt, parse_output

from .bad_outputs import CASES, Case, Facts


def test_the_corpus_is_large_and_mostly_malformed() -> None:
    assert len(CASES) >= 50
    assert len({case.name for case in CASES}) == len(CASES)
    assert sum(case.raw.strip() != json.dumps(case.expect) for case in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_case_parses_exactly_or_raises_a_typed_error(case: Case) -> None:
    if isinstance(case.expect, dict):
        assert parse_output(case.raw, case.model).model_dump() == case.expect
        return
    with pytest.raises(OutputParseError) as info:
        parse_output(case.raw, case.model)
    assert info.value.reason == case.expect
    assert isinstance(info.value, LLMError)
    assert info.value.raw == case.raw
    assert (case.expect == "truncated") == isinstance(info.value, TruncatedOutputError)


def test_json_nested_past_the_limit_is_refused_before_decoding() -> None:
    nested = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(OutputParseError, match=f"deeper than {MAX_DEPTH} levels") as info:
        parse_output(nested, Facts)
    assert info.value.reason == "invalid_json"
    # brackets inside strings (escaped quotes too) do not count as nesting
    text = json.dumps({"facts": ['say \\"' + "[" * 70 + '" and {{{']})
    assert parse_output(text, Facts).model_dump()["facts"] == ['say \\"' + "[" * 70 + '" and {{{']


def test_validation_errors_carry_the_field_and_message() -> None:
    with pytest.raises(OutputParseError) as info:
        parse_output('{"facts": "Lives in Bangalore"}', Facts)
    assert "facts" in info.value.detail
    assert "valid list" in info.value.detail
    assert "Lives in Bangalore" in str(info.value)


def test_truncation_names_where_the_json_starts() -> None:
    with pytest.raises(TruncatedOutputError, match="cut off by max_tokens") as info:
        parse_output('Sure: {"facts": ["a", "b"', Facts)
    assert '{"facts"' in info.value.detail


def test_excerpt_keeps_head_and_tail_of_long_output() -> None:
    text = "start " + "x" * 5000 + " end"
    shown = excerpt(text, 60)
    assert "start" in shown and "end" in shown and "5010 chars" in shown
    assert len(shown) < 120


fact_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
facts_lists = st.lists(fact_text, max_size=5)
prose = st.text(st.characters(exclude_characters="{}[]\"'`<>", exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(OutputParseError):
        parse_output(text, Facts)


@settings(max_examples=200, deadline=None)
@given(facts_lists, prose, prose, st.booleans())
def test_json_in_prose_is_found(facts: list[str], before: str, after: str, fenced: bool) -> None:
    body = json.dumps({"facts": facts}, ensure_ascii=bool(len(facts) % 2))
    if fenced:
        body = f"```json\n{body}\n```"
    assert parse_output(f"{before} {body} {after}", Facts).facts == facts


@settings(max_examples=200, deadline=None)
@given(facts_lists.filter(bool), st.data())
def test_a_cut_off_object_never_parses(facts: list[str], data: st.DataObject) -> None:
    text = json.dumps({"facts": facts})
    cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
    with pytest.raises(OutputParseError):
        parse_output(text[:cut], Facts)
