"""LLM providers behind one contract (``LLM``): messages and a response model in, a validated model out.

``StructuredLLM`` implements the contract once (parsing, one repair request, retries with
backoff); providers implement ``raw_chat``. ``FakeLLM`` is a scripted provider for tests.
"""

from memlane.llm.base import LLM, LLMResult, VisionSettings
from memlane.llm.fake import FakeCall, FakeLLM
from memlane.llm.parse import OutputParseError, TruncatedOutputError, parse_output
from memlane.llm.structured import ChatReply, ChatRequest, RetryPolicy, StructuredLLM, TransientLLMError
from memlane.models import ChatMessage, Usage

__all__ = [
    "LLM",
    "ChatMessage",
    "ChatReply",
    "ChatRequest",
    "FakeCall",
    "FakeLLM",
    "LLMResult",
    "OutputParseError",
    "RetryPolicy",
    "StructuredLLM",
    "TransientLLMError",
    "TruncatedOutputError",
    "Usage",
    "VisionSettings",
    "parse_output",
]
