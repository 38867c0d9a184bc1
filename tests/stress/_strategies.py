"""Hypothesis strategies for hostile input to the public API: any type, unicode, huge, deep, SQL."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "HUGE",
    "INJECTIONS",
    "any_id",
    "optional_id",
    "plain_filters",
    "any_text",
    "clean_texts",
    "deep_filter",
    "deep_value",
    "expirations",
    "filters",
    "messages",
    "nonblank_text",
    "metadata",
    "thresholds",
    "timestamps",
    "top_ks",
]

HUGE = 200_000
"""Characters in a huge string (about 200 kB)."""

SPECIAL_CHARS = (
    "\x00", "\x1f", "\x7f", "\u202e", "\u200f", "\u200b", "\ufeff", "\uffff", "\U0010ffff",
    "\u0645", "\u05d0", "🧠", "\u200d", "é", "ﬁ", "'", '"', "\\", "%", "_", "*", "$", ".", "\n",
)  # fmt: skip

INJECTIONS = (
    "x'); DROP TABLE memories; --",
    '$."a',
    "' OR 1=1 --",
    '") OR 1=1 --',
    'a"]',
    "'; DELETE FROM history; --",
    "memories_fts",
    "$[0]",
    "\x00'; --",
    "%' OR '%'='",
)

SPECIAL_TEXTS = (
    "", " ", "\t\n", "\x00", "a\x00b", "🧠💾👩‍👩‍👧", "שלום עולם", "مرحبا بالعالم", "\u202eevil\u202c",
    "*", "NULL", "null", "None", "0", "true", *INJECTIONS,
)  # fmt: skip

VALID_IDS = ("alice", "bob", "agent-1", "run-1", "x" * 256)

COLUMN_KEYS = (
    "user_id", "agent_id", "run_id", "actor_id", "role", "hash", "created_at", "updated_at",
    "expiration_date",
)  # fmt: skip
LOGICAL_KEYS = ("AND", "OR", "NOT", "$and", "$or", "$not", "and", "Or")
OPERATORS = (
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "exists",
    "$eq", "$in", "$NE", "EQ", "regex", "like", "$gt", "", "$",
)  # fmt: skip


class Huge(str):
    """A huge string that prints as its length, so failure reports stay readable."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Huge({len(self)} chars, {str(self[:12])!r}...)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Deep(dict[str, Any]):
    """The outer level of a deeply nested value; prints as its depth (Hypothesis' printer recurses)."""

    def __init__(self, inner: Any, depth: int) -> None:
        super().__init__(k=inner)
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep(depth={self.depth})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class DeepList(list[Any]):
    """Like ``Deep``, for lists."""

    def __init__(self, inner: Any, depth: int) -> None:
        super().__init__([inner])
        self.depth = depth

    def __repr__(self) -> str:
        return f"DeepList(depth={self.depth})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def mostly(
    good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], weight: int = 3
) -> st.SearchStrategy[Any]:
    """``good`` ``weight`` times as often as ``bad``, so most calls get past validation.

    (Not ``one_of(good, good, good, bad)``: ``one_of`` flattens nested ``one_of`` branches, so a
    ``bad`` with many branches would win most draws.)
    """
    return st.integers(0, weight).flatmap(lambda pick: bad if pick == weight else good)


_clean_chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from(SPECIAL_CHARS))
clean_texts = _clean_texts = st.text(alphabet=_clean_chars, max_size=40)
"""Short text of any code point except lone surrogates (emoji, RTL marks, NUL included)."""
_with_surrogate = st.builds(
    lambda head, surrogate, tail: head + surrogate + tail,
    st.text(alphabet=_clean_chars, max_size=5),
    st.characters(categories=["Cs"]),  # (not in one alphabet with utf-8 characters: merged, they lose it)
    st.text(alphabet=_clean_chars, max_size=5),
)
texts = mostly(_clean_texts, _with_surrogate, weight=5)
"""Short text of any code points: emoji, RTL marks, NUL, and (one time in six) lone surrogates."""
huge_texts = st.text(alphabet=_clean_chars, min_size=1, max_size=8).map(
    lambda s: Huge((s * (HUGE // len(s) + 1))[:HUGE])
)
any_text = st.one_of(texts, texts, texts, st.sampled_from(SPECIAL_TEXTS), huge_texts)
"""``texts``, fixed nasty texts (SQL, RTL, NUL, emoji), or a ~200 kB string."""

_valid_ids = st.sampled_from(VALID_IDS)
_junk_ids = st.one_of(
    st.none(),
    texts,
    st.sampled_from(SPECIAL_TEXTS),
    st.integers(),
    st.floats(),
    st.lists(texts, max_size=2),
    st.just("x" * 257),
)
any_id = mostly(_valid_ids, _junk_ids, weight=6)
"""Mostly (6 in 7) a valid id; else None, any text (whitespace, NUL, SQL...), a number, a list, 257 chars."""
optional_id = mostly(st.one_of(st.none(), st.none(), _valid_ids), _junk_ids, weight=6)


def _nest(depth: int, kind: str) -> Any:
    value: Any = "bottom"
    for _ in range(depth - 1):
        value = {"k": value} if kind == "dict" else [value]
    return Deep(value, depth) if kind == "dict" else DeepList(value, depth)


deep_value = st.builds(_nest, st.integers(1, 3_000), st.sampled_from(["dict", "list"]))
"""A dict or list nested up to 3,000 levels deep."""

_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), any_text
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
_identity = st.dictionaries(
    st.sampled_from(("user_id", "agent_id", "run_id", "actor_id")), any_id, max_size=4
)
_plausible_metadata = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(texts, st.sampled_from(INJECTIONS)), _json, max_size=5),
    st.builds(lambda a, b: {**a, **b}, _identity, st.dictionaries(texts, _json, max_size=3)),
)
_odd_values = st.one_of(
    st.sampled_from(
        [b"bytes", bytearray(b"x"), frozenset({1}), Decimal("1.5"), complex(1, 2), float("nan"), float("inf")]
    ),
    st.builds(object),
    st.datetimes(),
    st.dates(),
)
_any_keys = st.one_of(texts, st.integers(), st.none(), st.tuples(st.integers()))
_junk_metadata = st.one_of(
    st.dictionaries(_any_keys, st.one_of(_json, _odd_values, deep_value), min_size=1, max_size=4),
    st.dictionaries(
        texts, st.recursive(_json_scalars, lambda i: st.dictionaries(_any_keys, i, max_size=3)), max_size=3
    ),
    _json,
    st.lists(st.integers(), max_size=3),
)
metadata = mostly(_plausible_metadata, _junk_metadata, weight=4)
"""Metadata: JSON dicts with unicode, huge values and identity keys; or non-JSON values, non-str
keys, 3,000-deep nesting, or not a dict at all."""

_roles = mostly(
    st.sampled_from(["user", "user", "assistant", "tool", "system"]),
    st.one_of(st.sampled_from(["", " "]), texts, st.integers(), st.none()),
    weight=8,
)
_parts = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("text"), "text": mostly(any_text, st.one_of(st.integers(), st.none()))}
    ),
    st.fixed_dictionaries(
        {"type": st.just("image_url"), "image_url": st.one_of(texts, st.fixed_dictionaries({"url": texts}))}
    ),
    st.dictionaries(texts, _json, max_size=3),
)
nonblank_text = mostly(any_text.filter(str.strip), any_text, weight=4)
"""``any_text``, but blank only one time in five."""
_contents = mostly(
    nonblank_text,
    st.one_of(st.lists(_parts, max_size=3), _parts, _json),
    weight=6,
)
_message = st.fixed_dictionaries(
    {"role": _roles, "content": _contents},
    optional={"name": mostly(texts, st.one_of(st.none(), st.integers()), weight=8)},
)
messages = mostly(
    st.one_of(_contents, _message, st.lists(_message, min_size=1, max_size=4)),
    st.one_of(
        st.dictionaries(texts, _json, max_size=3), _json, st.lists(_json, max_size=3), st.binary(max_size=8)
    ),
    weight=5,
)
"""``add()``'s messages: text, message dicts or lists of them (with nasty content); or junk."""

_offsets = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)),
)
_time_texts = st.sampled_from(
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "2024-02-30",
        "2024-01-01Z",
        "now",
        "1e99",
        " 2024-05-01T10:00:00+02:00 ",
        "2024-05-01T10:00:00.123456789",
    ]
)
timestamps = mostly(
    st.one_of(
        st.none(), st.datetimes(), st.datetimes(timezones=_offsets), st.dates(), st.integers(0, 4 * 10**9)
    ),
    st.one_of(st.integers(), st.floats(), st.booleans(), texts, _time_texts),
)
expirations = mostly(
    st.one_of(st.none(), st.dates(), st.datetimes(), st.dates().map(str)),
    st.one_of(texts, _time_texts, st.datetimes(timezones=_offsets), st.integers(), st.floats()),
    weight=5,
)

_plain_keys = st.sampled_from(
    ("category", "n", "a.b", "a-b", "ключ", "user_id", "agent_id", "role", "created_at")
)
_plain_ops = st.sampled_from(
    ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "$eq")
)


_ID_KEYS = frozenset({"user_id", "agent_id", "run_id", "actor_id"})


def _cond(key: str, op: str, value: Any) -> dict[str, Any]:
    if key in _ID_KEYS and value == "*":
        return {key: {"exists": True}}  # "*" is never an id: the wildcard on an id key is explicit
    if op in ("in", "nin"):
        return {key: {op: [value]}}
    return {key: {op: value}}


def _explicit_wildcards(node: dict[str, Any]) -> dict[str, Any]:
    return {k: {"exists": True} if k in _ID_KEYS and v == "*" else v for k, v in node.items()}


def _plain_filters(strings: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.one_of(
        st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), strings, st.just("*")
    )
    return st.recursive(
        st.one_of(
            st.dictionaries(_plain_keys, values, max_size=3).map(_explicit_wildcards),
            st.builds(_cond, _plain_keys, _plain_ops, values),
        ),
        lambda inner: st.dictionaries(
            st.sampled_from(("AND", "OR", "NOT", "$and")), st.lists(inner, min_size=1, max_size=3)
        ),
        max_leaves=8,
    )


plain_filters = _plain_filters(_clean_texts)
"""Well-formed mem0 filter trees over a few keys with random operators and (valid) values."""

_filter_keys = st.one_of(
    st.sampled_from(COLUMN_KEYS),
    st.sampled_from(("category", "a.b", "a-b", "", "*", "x" * 101, *LOGICAL_KEYS, *INJECTIONS)),
    texts,
    st.integers(),
)
_ops = st.one_of(st.sampled_from(OPERATORS), texts, st.integers())
_filter_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), texts, st.sampled_from(SPECIAL_TEXTS), st.just("*")
)
_filter_values = st.recursive(
    _filter_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ops, inner, max_size=3),
    max_leaves=8,
)


def _deep_filter(depth: int, logical: str) -> dict[str, Any]:
    node: dict[str, Any] = {"category": "a"}
    for _ in range(depth):
        node = {logical: [node, {"category": "b"}] if logical == "OR" else [node]}
    return DeepFilter(node, depth)


class DeepFilter(dict[str, Any]):
    """A filter tree nested ``depth`` levels deep; prints as its depth."""

    def __init__(self, tree: dict[str, Any], depth: int) -> None:
        super().__init__(tree)
        self.depth = depth

    def __repr__(self) -> str:
        return f"DeepFilter({next(iter(self))!r}, depth={self.depth})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


deep_filter = st.builds(_deep_filter, st.integers(1, 3_000), st.sampled_from(["AND", "OR", "NOT"]))
"""``{"AND": [{"AND": [...]}]}`` (or OR / NOT) up to 3,000 levels deep."""


class Wide(list[int]):
    """``list(range(n))`` that prints as its length."""

    def __repr__(self) -> str:
        return f"Wide({len(self)} ints)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


_wide_filter = st.builds(
    lambda n, op: {"category": {op: Wide(range(n))}}, st.integers(1, 40_000), st.sampled_from(["in", "nin"])
)
_junk_filters = st.one_of(
    st.recursive(
        st.dictionaries(_filter_keys, _filter_values, max_size=4),
        lambda inner: st.dictionaries(
            st.sampled_from(LOGICAL_KEYS),
            st.one_of(st.lists(inner, max_size=3), inner, _filter_values),
            max_size=2,
        ),
        max_leaves=10,
    ),
    deep_filter,
    _wide_filter,
    st.lists(st.integers(), max_size=2),
    texts,
)
filters = mostly(st.one_of(st.none(), _plain_filters(texts)), _junk_filters, weight=2)
"""mem0 filter dicts: well-formed trees of random conditions; or random keys / operators /
values, trees 3,000 deep, ``in`` lists of 40,000, non-dicts."""

top_ks = mostly(
    st.one_of(st.none(), st.integers(0, 200), st.sampled_from([0, 10_000])),
    st.one_of(st.integers(), st.sampled_from([10_001, -1, 2**63]), st.floats(), st.booleans(), texts),
)
thresholds = mostly(
    st.one_of(st.none(), st.floats(0, 1)),
    st.one_of(st.floats(), st.integers(), st.booleans(), texts),
)
