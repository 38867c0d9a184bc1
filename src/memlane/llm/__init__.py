"""LLM providers behind one contract (``LLM``)."""

from memlane.llm.base import LLM, ChatMessage, LLMResult, Usage

__all__ = ["LLM", "ChatMessage", "LLMResult", "Usage"]
