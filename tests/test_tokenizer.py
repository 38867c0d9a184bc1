"""Tokens and keywords for the keyword signal."""

from __future__ import annotations

from memlane.tokenizer import STOP_WORDS, keywords, tokenize


def test_tokenize_lower_cases_and_splits_on_punctuation() -> None:
    assert tokenize("Hello, World! It's 2024.") == ["hello", "world", "it", "2024"]


def test_apostrophe_suffixes_are_dropped() -> None:
    assert tokenize("Alice's cat") == ["alice", "cat"]
    assert tokenize("Alice’s dog") == ["alice", "dog"]


def test_underscores_split_words() -> None:
    assert tokenize("snake_case") == ["snake", "case"]


def test_unicode_letters_are_words() -> None:
    assert tokenize("Café in São Paulo, Zürich und Москва") == [
        "café",
        "in",
        "são",
        "paulo",
        "zürich",
        "und",
        "москва",
    ]


def test_empty_and_punctuation_only() -> None:
    assert tokenize("") == []
    assert tokenize(" ?!... --- ") == []
    assert keywords("the and of") == []


def test_keywords_drop_stop_words_and_repeats_keeping_order() -> None:
    assert keywords("Where does the user live? The user lives in Bangalore") == [
        "user",
        "live",
        "lives",
        "bangalore",
    ]


def test_stop_words_are_lower_case() -> None:
    assert all(w == w.lower() for w in STOP_WORDS)
    assert {"the", "where", "does"} <= STOP_WORDS
