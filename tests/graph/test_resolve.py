"""The pure name rules: normalisation, sanitising, preparing the model's output, query terms."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.graph.models import ExtractedEntity, ExtractedRelation
from memlane.graph.resolve import (
    best_match,
    display_name,
    entity_texts,
    lexical_factor,
    normalize_name,
    parse_since,
    prepare,
    query_terms,
    sanitize_relationship,
    scope_key,
)
from memlane.models import Scope

ALICE = Scope(user_id="alice")


@pytest.mark.parametrize(
    ("raw", "norm", "shown"),
    [
        ("  Acme_Corp. ", "acme corp", "Acme Corp"),
        ("New   York", "new york", "New York"),
        ("Jean-Luc", "jean luc", "Jean-Luc"),
        ('"O\'Brien"', "o brien", "O'Brien"),
        ("ＡＣＭＥ", "acme", "ACME"),
        ("Straße", "strasse", "Straße"),
        ("...", "", ""),
    ],
)
def test_names(raw: str, norm: str, shown: str) -> None:
    assert normalize_name(raw) == norm
    assert display_name(raw) == shown


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Works At", "works_at"),
        ("lives-in", "lives_in"),
        ("  IS_MARRIED__to ", "is_married_to"),
        ("likes!!!", "likes"),
        ("3rd cousin of", "r_3rd_cousin_of"),
        ("aime_beaucoup", "aime_beaucoup"),
        ("!!", ""),
        ("x" * 100, "x" * 60),
    ],
)
def test_relationships(raw: str, clean: str) -> None:
    assert sanitize_relationship(raw) == clean


def rel(source: str, relationship: str, destination: str, **flags: object) -> ExtractedRelation:
    return ExtractedRelation.model_validate(
        {"source": source, "relationship": relationship, "destination": destination, **flags}
    )


def test_prepare_maps_self_references_dedupes_and_types() -> None:
    prepared = prepare(
        ALICE,
        [ExtractedEntity(name="Acme", type="Organization"), ExtractedEntity(name="Lonely", type="thing")],
        [
            rel("I", "works at", "Acme"),
            rel("me", "works_at", "acme"),  # the same fact again
            rel("Myself", "likes", "my"),  # a self-loop
            rel("USER", "knows", "Bob", replaces=True, since="2024-02-3x"),
            rel("alice", "", "Bob"),
        ],
    )
    assert {n: (e.name, e.type) for n, e in prepared.entities.items()} == {
        "alice": ("alice", "person"), "acme": ("Acme", "organization"), "bob": ("Bob", ""),
    }  # fmt: skip
    assert [(r.source, r.relationship, r.destination, r.replaces, r.since) for r in prepared.relations] == [
        ("alice", "works_at", "acme", False, None),
        ("alice", "knows", "bob", True, None),
    ]
    assert entity_texts(ALICE, [], [rel("I", "likes", "Green_Tea")]) == ["alice", "Green Tea"]


def test_a_scope_without_a_user_names_the_user_user() -> None:
    prepared = prepare(Scope(agent_id="helper"), [], [rel("I", "likes", "tea")])
    assert list(prepared.entities) == ["user", "tea"]


def test_since_and_scope_key() -> None:
    assert [parse_since(v) for v in ("2024", "2024-05", "2024-05-06", " 2024 ", "May", None)] == [
        "2024", "2024-05", "2024-05-06", "2024", None, None,
    ]  # fmt: skip
    assert scope_key(Scope("a", None, "r")) != scope_key(Scope("a", "r", None))


def test_query_terms() -> None:
    terms = query_terms("Where does my sister Priya work in New York?", ALICE)
    assert {"priya", "new york", "my sister priya", "alice"} <= set(terms.names)
    assert terms.stems == ["sister", "priya", "work", "new", "york"]
    assert query_terms("who lives in Delhi", ALICE).stems == ["liv", "delhi"]
    assert "alice" not in query_terms("what does bob like", ALICE).names


def test_lexical_factor() -> None:
    assert lexical_factor("works_at", []) == 0.75
    assert lexical_factor("works_at", ["work"]) == 1.0
    assert lexical_factor("lives_in", ["work", "live"]) == 0.875


def test_best_match() -> None:
    matrix = np.eye(3, dtype=np.float32)
    assert best_match(np.array([0.0, 1.0, 0.0], dtype=np.float32), matrix, 0.9) == (1, 1.0)
    assert best_match(np.array([0.6, 0.8, 0.0], dtype=np.float32), matrix, 0.9) is None
    assert best_match(np.ones(3, dtype=np.float32), np.zeros((0, 3), dtype=np.float32), 0.0) is None
