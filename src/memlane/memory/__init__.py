"""The façade (``Memory``, ``AsyncMemory``) and the pipelines behind it."""

from memlane.memory.async_facade import AsyncMemory
from memlane.memory.facade import Memory
from memlane.memory.migration import migrate

__all__ = ["AsyncMemory", "Memory", "migrate"]
