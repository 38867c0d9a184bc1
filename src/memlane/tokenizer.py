"""The words of a text, as keyword search and the profile cues read them: tokens and stop words."""

from __future__ import annotations

import re

__all__ = ["STOP_WORDS", "keywords", "tokenize"]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don didn doesn isn wasn weren won wouldn shouldn couldn ve ll re d m o y""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophe suffixes ("alice's") are dropped."""
    return [w.split("'")[0].split("’")[0] for w in _WORD.findall(text.lower())]


def keywords(text: str) -> list[str]:
    """The distinct non-stop-word tokens of ``text``, in order of first appearance."""
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token not in STOP_WORDS and token not in seen:
            seen[token] = None
    return list(seen)
