"""``chat``: the packed context and the question in ONE structured LLM call; the answer comes
back with the ids it cites, kept only when the context has them."""

from __future__ import annotations

import logging
import re

from memlane.errors import LLMError
from memlane.llm.base import LLM
from memlane.memory.backends import Backends
from memlane.memory.context.build import ContextRequest, build_context
from memlane.prompts import chat as prompt
from memlane.types import ChatResult, ContextCitation, ContextResult

__all__ = ["ANSWER_TOKENS", "answer", "cited"]

log = logging.getLogger("memlane")

ANSWER_TOKENS = 512
"""The most tokens the answer may take (the JSON around it included)."""
_TAG = re.compile(r"\[([prm]\d+)\]")


def answer(backends: Backends, llm: LLM, request: ContextRequest) -> ChatResult:
    """Retrieve, pack, ask ``llm`` once; the answer, the citations that exist, context, usage."""
    context = build_context(backends, request)
    messages = prompt.build_messages(prompt.ChatInput(question=request.search.query, context=context["text"]))
    try:
        result = llm.complete(messages, prompt.ChatAnswer, max_tokens=ANSWER_TOKENS)
    except LLMError as exc:  # a failed call was still paid for
        if exc.usage is not None:
            backends.spend(exc.usage)
        raise
    usage = result.usage
    backends.spend(usage)
    reply = result.value
    return {
        "answer": reply.answer,
        "citations": cited(context, [*reply.citations, *_TAG.findall(reply.answer)]),
        "context": context,
        "usage": {
            "calls": usage.calls,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        },
    }


def cited(context: ContextResult, ids: list[str]) -> list[ContextCitation]:
    """The context's entries for ``ids`` (``"m1"``, ``"[m1]"``, ``"M1"``), each once, in order;
    an id the context does not have is dropped and logged."""
    table = context["citations"]
    out: dict[str, ContextCitation] = {}
    invented: list[str] = []
    for raw in ids:
        key = raw.strip().strip("[]").strip().lower()
        if key in table:
            out.setdefault(key, table[key])
        elif raw not in invented:
            invented.append(raw)
    if invented:
        log.warning("chat: dropped citation ids not in the context: %s", ", ".join(map(repr, invented)))
    return list(out.values())
