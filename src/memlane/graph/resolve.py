"""Pure functions: names normalised, relationships sanitised, the model's output prepared,
query terms found, and vectors matched. No I/O.

- ``normalize_name`` is the key names are compared by: NFKC, case-folded word tokens joined
  by one space, so case, whitespace, underscores and punctuation are ignored
  (``"  Acme_Corp. "`` -> ``"acme corp"``, ``"Jean-Luc"`` -> ``"jean luc"``).
- ``sanitize_relationship`` makes a snake_case identifier (``"Works At"`` -> ``"works_at"``).
- Self-references (I, me, my, myself, mine, user, the user) are the scope's user: the entity
  named by ``scope.user_id`` (``"user"`` when the scope has no user).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from memlane.graph.models import (
    MAX_NAME_CHARS,
    MAX_RELATIONSHIP_CHARS,
    MAX_TYPE_CHARS,
    ExtractedEntity,
    ExtractedRelation,
)
from memlane.models import Scope, Vectors
from memlane.tokenizer import STOP_WORDS

__all__ = [
    "SELF_REFERENCES",
    "PreparedEntity",
    "PreparedGraph",
    "PreparedRelation",
    "QueryTerms",
    "best_match",
    "display_name",
    "entity_texts",
    "lexical_factor",
    "name_tokens",
    "normalize_name",
    "parse_since",
    "prepare",
    "query_terms",
    "sanitize_relationship",
    "scope_key",
    "user_name",
]

SELF_REFERENCES = frozenset({"i", "me", "my", "myself", "mine", "user", "the user"})
MAX_NGRAM = 4
MAX_STEMS = 8

_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_NON_WORD = re.compile(r"[^\w]+")
_EDGE_PUNCT = " \t\n.,;:!?\"'`()[]{}<>«»“”‘’"
_SINCE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SUFFIXES = ("ing", "ed", "es", "s")


def display_name(text: str) -> str:
    """A name as shown: NFKC, underscores as spaces, whitespace collapsed, edges trimmed."""
    clean = unicodedata.normalize("NFKC", text).replace("_", " ")
    return _SPACE.sub(" ", clean).strip(_EDGE_PUNCT)[:MAX_NAME_CHARS].strip()


def name_tokens(text: str) -> list[str]:
    """Case-folded word tokens (letters and digits; underscores and punctuation split words)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize_name(text: str) -> str:
    """The key names are compared by: case, whitespace, underscores and punctuation ignored."""
    return " ".join(name_tokens(text[: MAX_NAME_CHARS * 2]))


def sanitize_relationship(text: str) -> str:
    """A snake_case identifier of letters, digits and underscores ("" if nothing is left)."""
    clean = _NON_WORD.sub("_", unicodedata.normalize("NFKC", text).casefold().replace("-", "_"))
    clean = re.sub(r"_+", "_", clean).strip("_")[:MAX_RELATIONSHIP_CHARS].strip("_")
    if clean and clean[0].isdigit():
        clean = f"r_{clean}"
    return clean


def user_name(scope: Scope) -> str:
    """The name of the entity that stands for the scope's user."""
    return scope.user_id or "user"


def scope_key(scope: Scope) -> str:
    """One string for the exact scope (user, agent, run; unset ones empty)."""
    return "\x1f".join(v or "" for v in (scope.user_id, scope.agent_id, scope.run_id))


def parse_since(value: str | None) -> str | None:
    """A stated start date when it is ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; else None."""
    if value is None:
        return None
    value = value.strip()
    return value if _SINCE.match(value) else None


@dataclass(frozen=True, slots=True)
class PreparedEntity:
    name: str
    norm: str
    type: str


@dataclass(frozen=True, slots=True)
class PreparedRelation:
    source: str
    """The source's normalised name."""
    relationship: str
    destination: str
    replaces: bool = False
    ended: bool = False
    since: str | None = None


@dataclass(slots=True)
class PreparedGraph:
    """The model's output made safe: canonical names, one entry per entity and per fact."""

    entities: dict[str, PreparedEntity] = field(default_factory=dict)
    relations: list[PreparedRelation] = field(default_factory=list)


def _canonical(name: str, scope: Scope) -> tuple[str, str]:
    if normalize_name(name) in SELF_REFERENCES:
        name = user_name(scope)
    return display_name(name), normalize_name(name)


def prepare(
    scope: Scope, entities: Sequence[ExtractedEntity], relations: Sequence[ExtractedRelation]
) -> PreparedGraph:
    """Canonical entities of every usable relation, and the relations without repeats.

    A relation is dropped when a name or the relationship is empty, or when it links an entity
    to itself. Entities that take part in no relation are dropped (they carry no fact); their
    types still type the relations' endpoints.
    """
    types: dict[str, str] = {}
    for entity in entities:
        _, norm = _canonical(entity.name, scope)
        kind = normalize_name(entity.type)[:MAX_TYPE_CHARS]
        if norm and kind and norm not in types:
            types[norm] = kind
    out = PreparedGraph()
    seen: set[tuple[str, str, str]] = set()
    for relation in relations:
        source, source_norm = _canonical(relation.source, scope)
        destination, destination_norm = _canonical(relation.destination, scope)
        name = sanitize_relationship(relation.relationship)
        key = (source_norm, name, destination_norm)
        if not (source_norm and destination_norm and name) or source_norm == destination_norm:
            continue
        if key in seen:
            continue
        seen.add(key)
        for display, norm in ((source, source_norm), (destination, destination_norm)):
            if norm not in out.entities:
                kind = "person" if norm == normalize_name(user_name(scope)) else ""
                out.entities[norm] = PreparedEntity(display, norm, types.get(norm, kind))
        out.relations.append(
            PreparedRelation(
                source_norm, name, destination_norm, relation.replaces, relation.ended,
                parse_since(relation.since),
            )
        )  # fmt: skip
    return out


def entity_texts(
    scope: Scope, entities: Sequence[ExtractedEntity], relations: Sequence[ExtractedRelation]
) -> list[str]:
    """The names ``apply`` may embed, to batch with other texts and pass back as ``vectors``."""
    return [e.name for e in prepare(scope, entities, relations).entities.values()]


@dataclass(frozen=True, slots=True)
class QueryTerms:
    names: list[str]
    """Normalised n-grams of the query (self-references as the user) to match names and aliases."""
    stems: list[str]
    """Content-word stems matched against relationship names."""


def _stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if len(token) - len(suffix) >= 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def query_terms(query: str, scope: Scope) -> QueryTerms:
    """Names the query may mention (n-grams up to four words) and its content-word stems."""
    tokens = name_tokens(query[:2000])
    names: dict[str, None] = {}
    for size in range(1, MAX_NGRAM + 1):
        for start in range(len(tokens) - size + 1):
            names[" ".join(tokens[start : start + size])] = None
    me = normalize_name(user_name(scope))
    if any(t in SELF_REFERENCES for t in tokens):
        names[me] = None
    stems: dict[str, None] = {}
    for token in tokens:
        if token not in STOP_WORDS and token not in SELF_REFERENCES and token != me and len(token) >= 3:
            stems[_stem(token)] = None
    return QueryTerms(list(names)[:200], list(stems)[:MAX_STEMS])


def lexical_factor(relationship: str, stems: Sequence[str]) -> float:
    """0.75 to 1.0: how many of the query's stems occur in the relationship's name.

    The SQL back end computes the same value with ``instr``; keep the two in step.
    """
    if not stems:
        return 0.75
    hits = sum(1 for s in stems if s in relationship)
    return 0.75 + 0.25 * hits / len(stems)


def best_match(vector: Vectors, matrix: Vectors, threshold: float) -> tuple[int, float] | None:
    """The row of ``matrix`` most similar to ``vector`` (unit rows: cosine), if ``>= threshold``."""
    if not len(matrix):
        return None
    scores = matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
    row = int(np.argmax(scores))
    score = float(scores[row])
    return (row, score) if score >= threshold else None
