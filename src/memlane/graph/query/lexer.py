"""The tokens of one Cypher text, for the validator (``memlane.graph.query.cypher``).

Strict on purpose: a text that could be read two ways is refused, never guessed at. Outside
string literals only printable ASCII and ASCII whitespace are allowed (a Cyrillic "Es" for
the C of CREATE, a zero-width space or a full-width letter is refused, so look-alikes cannot pass the
keyword checks); comments (``//``, ``/* */``), quoted identifiers (backticks) and ``\\u``
escapes are refused; strings end where Cypher ends them (``\\'`` and ``\\\\`` are escapes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from memlane.errors import InvalidInputError

__all__ = ["MAX_QUERY_CHARS", "Token", "TokenKind", "tokenize"]

MAX_QUERY_CHARS = 2000

TokenKind = Literal["ident", "string", "number", "param", "op"]

_WHITESPACE = " \t\r\n"
_OPERATORS = ("..", "<=", ">=", "<>", "=~", *"()[]{},.:|*+-/%^=<>;")
_ESCAPES = frozenset("\\'\"nrtbf")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    """As written (strings with their quotes)."""
    start: int
    end: int

    @property
    def upper(self) -> str:
        """An identifier's text in capitals (keywords are case-insensitive)."""
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.upper in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; ``InvalidInputError`` saying what is not allowed and where."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"the query is {len(text)} characters long; at most {MAX_QUERY_CHARS}")
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        char = text[at]
        if char in _WHITESPACE:
            at += 1
        elif char in "'\"":
            end = _string_end(text, at)
            tokens.append(Token("string", text[at:end], at, end))
            at = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            end = _scan(text, at, lambda c: c.isascii() and (c.isalnum() or c == "_"))
            tokens.append(Token("ident", text[at:end], at, end))
            at = end
        elif char.isascii() and char.isdigit():
            end = _number_end(text, at)
            tokens.append(Token("number", text[at:end], at, end))
            at = end
        elif char == "$":
            end = _scan(text, at + 1, lambda c: c.isascii() and (c.isalnum() or c == "_"))
            tokens.append(Token("param", text[at:end], at, end))
            at = end
        else:
            at = _operator(text, at, tokens)
    return tokens


def _operator(text: str, at: int, tokens: list[Token]) -> int:
    if text.startswith(("//", "/*"), at):
        raise InvalidInputError(f"comments are not allowed (at character {at})")
    if text[at] == "`":
        raise InvalidInputError(
            f"quoted identifiers (backticks) are not allowed (at character {at}); use plain names"
        )
    for op in _OPERATORS:
        if text.startswith(op, at):
            tokens.append(Token("op", op, at, at + len(op)))
            return at + len(op)
    char = text[at]
    shown = f"the character {char!r}" if char.isprintable() else "an invisible character"
    raise InvalidInputError(
        f"{shown} (U+{ord(char):04X}) at {at} is not allowed outside a string literal: "
        "write keywords, names and operators in plain ASCII"
    )


def _scan(text: str, at: int, accept: Callable[[str], bool]) -> int:
    while at < len(text) and accept(text[at]):
        at += 1
    return at


def _number_end(text: str, at: int) -> int:
    at = _scan(text, at, _DIGITS.__contains__)
    if text.startswith(".", at) and at + 1 < len(text) and text[at + 1] in _DIGITS:
        at = _scan(text, at + 1, _DIGITS.__contains__)
    if at < len(text) and text[at] in "eE":
        rest = at + 1 + (at + 1 < len(text) and text[at + 1] in "+-")
        if rest < len(text) and text[rest] in _DIGITS:
            at = _scan(text, rest, _DIGITS.__contains__)
    if at < len(text) and (text[at].isalpha() or text[at] == "_"):
        raise InvalidInputError(f"malformed number at character {at}")
    return at


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    at = start + 1
    while at < len(text):
        char = text[at]
        if char == "\\":
            nxt = text[at + 1 : at + 2]
            if nxt not in _ESCAPES or not nxt:
                raise InvalidInputError(
                    f"escape \\{nxt} in the string at character {start} is not allowed "
                    "(only \\\\, \\', \\\", \\n, \\r, \\t, \\b, \\f; no unicode escapes)"
                )
            at += 2
            continue
        if char == quote:
            return at + 1
        if not char.isprintable() and char not in " \t":
            raise InvalidInputError(f"a control character in the string at character {start} is not allowed")
        at += 1
    raise InvalidInputError(f"the string that starts at character {start} is never closed")
