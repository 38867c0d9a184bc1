"""The façade (``Memory``, ``AsyncMemory``) and the pipelines behind it."""

from memlane.memory.async_memory import AsyncMemory
from memlane.memory.main import Memory

__all__ = ["AsyncMemory", "Memory"]
