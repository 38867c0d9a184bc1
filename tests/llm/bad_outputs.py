"""A corpus of model outputs, mostly malformed, and what ``parse_output`` must make of each.

``expect`` is either the parsed value (``model_dump()``) or the ``reason`` of the typed error.
Nothing here may raise anything but ``OutputParseError``, and nothing may parse to a value
other than the one written down (in particular, never to a silently empty one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from memlane.llm.parse import ParseFailure

FactText = Annotated[str, StringConstraints(max_length=120)]


class Facts(BaseModel):
    facts: list[FactText] = Field(max_length=5)


class Decision(BaseModel):
    id: str
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    text: str = Field(max_length=200)


class Verdict(BaseModel):
    keep: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    raw: str
    expect: dict[str, Any] | ParseFailure
    model: type[BaseModel] = Facts


A = {"facts": ["Lives in Bangalore"]}
GOOD = '{"facts": ["Lives in Bangalore"]}'
DECISION = {"id": "0", "event": "UPDATE", "text": "Moved to Bangalore"}
DECISION_JSON = '{"id": "0", "event": "UPDATE", "text": "Moved to Bangalore"}'
LOOP = '{"facts": [' + '"I like tea", ' * 500

CASES: list[Case] = [
    # --- recoverable: the value is there, under noise ---
    Case("plain", GOOD, A),
    Case("fence_json", f"```json\n{GOOD}\n```", A),
    Case("fence_bare", f"```\n{GOOD}\n```", A),
    Case("fence_upper", f"```JSON\n{GOOD}\n```", A),
    Case("fence_unclosed_complete", f"```json\n{GOOD}\n", A),
    Case("fence_with_prose", f"Here you go:\n```json\n{GOOD}\n```\nLet me know!", A),
    Case("two_fences_first_example", f'```json\n{{"example": 1}}\n```\nAnswer:\n```json\n{GOOD}\n```', A),
    Case("prose_before", f"Sure! Here is the JSON: {GOOD}", A),
    Case("prose_around", f"Sure! here is the JSON: {GOOD} hope it helps", A),
    Case("prose_with_footnote_brackets", f"Facts [1]: {GOOD}", A),
    Case("prose_with_stray_brace", f"Use {{ for objects. {GOOD}", A),
    Case("html_tags", f"<json>{GOOD}</json>", A),
    Case("think_block", f"<think>The user moved, so...</think>\n{GOOD}", A),
    Case("think_with_json_inside", f'<think>maybe {{"facts": []}}?</think>{GOOD}', A),
    Case("think_close_only", f"the template opened the block... </think>\n\n{GOOD}", A),
    Case("thinking_tag", f"<thinking>hmm</thinking>{GOOD}", A),
    Case("think_then_fence", f"<think>x</think>\n```json\n{GOOD}\n```", A),
    Case("trailing_comma_array", '{"facts": ["Lives in Bangalore",]}', A),
    Case("trailing_comma_object", '{"facts": ["Lives in Bangalore"],}', A),
    Case("trailing_comma_spaced", '{"facts": ["Lives in Bangalore" , ] , }', A),
    Case("single_quotes", "{'facts': ['Lives in Bangalore']}", A),
    Case(
        "single_quoted_keys_apostrophe_value",
        "{'facts': [\"It's in Bangalore\"]}",
        {"facts": ["It's in Bangalore"]},
    ),
    Case("bare_keys", '{facts: ["Lives in Bangalore"]}', A),
    Case("python_literals", "{'keep': True, 'note': None}", {"keep": True, "note": None}, Verdict),
    Case("unicode", '{"facts": ["Vit à Zürich 🇨🇭", "住在东京"]}', {"facts": ["Vit à Zürich 🇨🇭", "住在东京"]}),
    Case("unicode_escapes", '{"facts": ["caf\\u00e9"]}', {"facts": ["café"]}),
    Case("escaped_quotes", '{"facts": ["She said \\"hi\\""]}', {"facts": ['She said "hi"']}),
    Case("braces_in_strings", 'Result: {"facts": ["a } b ] c {"]} done', {"facts": ["a } b ] c {"]}),
    Case("raw_newline_in_string", '{"facts": ["line one\nline two"]}', {"facts": ["line one\nline two"]}),
    Case("bom", "\ufeff" + GOOD, A),
    Case("whitespace_around", f"\n\n   {GOOD}   \n", A),
    Case("crlf_pretty", '{\r\n  "facts": [\r\n    "Lives in Bangalore"\r\n  ]\r\n}\r\n', A),
    Case("tabs_pretty", '{\n\t"facts": [\n\t\t"Lives in Bangalore"\n\t]\n}', A),
    Case("array_for_single_field", '["Lives in Bangalore"]', A),
    Case("wrapped_in_title", '{"Facts": {"facts": ["Lives in Bangalore"]}}', A),
    Case("wrapped_in_properties", '{"properties": {"facts": ["Lives in Bangalore"]}}', A),
    Case("tool_call_as_text", f'<tool_call>{{"name": "Facts", "arguments": {GOOD}}}</tool_call>', A),
    Case(
        "tool_call_string_args",
        '{"name": "Facts", "arguments": "{\\"facts\\": [\\"x\\"]}"}',
        {"facts": ["x"]},
    ),
    Case("double_encoded", '"{\\"facts\\": [\\"Lives in Bangalore\\"]}"', A),
    Case("duplicate_keys_same_value", '{"facts": ["a"], "facts": ["a"]}', {"facts": ["a"]}),
    Case("explicit_empty", '{"facts": []}', {"facts": []}),
    Case("first_of_two_objects", GOOD + ' {"note": "done"}', A),
    Case("second_of_two_objects", '{"note": "x"} ' + GOOD, A),
    Case("complete_then_truncated", GOOD + ' {"facts": ["b"', A),
    Case("decision_in_prose", f"Decision: {DECISION_JSON}.", DECISION, Decision),
    Case("decision_extra_keys", DECISION_JSON[:-1] + ', "reason": "moved"}', DECISION, Decision),
    Case("decision_in_list", f"[{DECISION_JSON}]", DECISION, Decision),
    # --- typed errors ---
    Case("empty", "", "empty"),
    Case("whitespace_only", "  \n\t ", "empty"),
    Case("think_only", "<think>nothing to extract</think>", "empty"),
    Case("think_unterminated", "<think>let me consider the user's {", "truncated"),
    Case("null", "null", "validation"),
    Case("true", "true", "validation"),
    Case("number", "42", "validation"),
    Case("bare_string", '"just a string"', "validation"),
    Case("prose_only", "I could not find any facts in this conversation.", "no_json"),
    Case("prose_none", "None of these are facts.", "no_json"),
    Case("markdown_bullets", "- likes tea\n- lives in Delhi", "no_json"),
    Case("empty_fence", "```json\n```", "no_json"),
    Case("truncated_mid_string", '{"facts": ["Lives in Bang', "truncated"),
    Case("truncated_after_comma", '{"facts": ["a",', "truncated"),
    Case("truncated_nested", '{"facts": ["a"], "more": {"x": [', "truncated"),
    Case("truncated_in_fence", '```json\n{"facts": ["a"', "truncated"),
    Case("truncated_after_prose", 'Here: {"facts": [', "truncated"),
    Case("truncated_loop", LOOP, "truncated"),
    Case("truncated_inner_objects", '{"facts": [{"text": "a"}, {"text": "b"}, {"te', "truncated"),
    Case("too_many_items", '{"facts": [' + ", ".join(f'"fact {i}"' for i in range(20)) + "]}", "validation"),
    Case("item_too_long", '{"facts": ["' + "x" * 500 + '"]}', "validation"),
    Case("wrong_key", '{"fact": ["Lives in Bangalore"]}', "validation"),
    Case("wrong_key_memories", '{"memories": ["Lives in Bangalore"]}', "validation"),
    Case("wrong_type_string", '{"facts": "Lives in Bangalore"}', "validation"),
    Case("wrong_item_type_objects", '{"facts": [{"text": "Lives in Bangalore"}]}', "validation"),
    Case("wrong_item_type_numbers", '{"facts": [1, 2]}', "validation"),
    Case("facts_null", '{"facts": null}', "validation"),
    Case("decision_list_of_two", f"[{DECISION_JSON}, {DECISION_JSON}]", "validation", Decision),
    Case("decision_bad_event", DECISION_JSON.replace("UPDATE", "MERGE"), "validation", Decision),
    Case("decision_missing_id", '{"event": "ADD", "text": "x"}', "validation", Decision),
    Case("verdict_string_bool", '{"keep": "perhaps"}', "validation", Verdict),
    Case("duplicate_keys_conflicting", '{"facts": ["a"], "facts": ["b"]}', "invalid_json"),
    Case("mismatched_brackets", '{"facts": ["a"}', "invalid_json"),
    Case("comment_inside", '{"facts": ["a"] // the facts\n}', "invalid_json"),
    Case("apostrophe_in_single_quotes", "{'facts': ['it's']}", "invalid_json"),
    Case("deep_nesting", "[" * 5000 + "]" * 5000, "invalid_json"),
    Case("deep_nesting_unterminated", "[" * 5000, "truncated"),
    Case("long_prose_no_json", "The user said many things. " * 4000, "no_json"),
    Case("control_characters", "\x00\x01\x02", "no_json"),
]

CASES += [
    Case("wrong_shape_then_broken_json", '{"fact": "x"} and then {"facts": ["a"}', "validation"),
    Case(
        "schema_echoed_then_answer", '{"type": "object", "properties": {}} {"facts": ["a"]}', {"facts": ["a"]}
    ),
]


class Loose(BaseModel):
    facts: list[str] = Field(default_factory=list, max_length=5)


CASES += [
    Case("all_defaults_foreign_keys", '{"fact": ["a"]}', "validation", Loose),
    Case("all_defaults_empty_object", "{}", "validation", Loose),
    Case("all_defaults_explicit_empty", '{"facts": []}', {"facts": []}, Loose),
    Case("all_defaults_known_key", '{"facts": ["a"]}', {"facts": ["a"]}, Loose),
    Case("all_defaults_wrapped", '{"Loose": {"facts": ["a"]}}', {"facts": ["a"]}, Loose),
]
