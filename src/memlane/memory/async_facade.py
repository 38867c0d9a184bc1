"""``AsyncMemory``: the same implementation as ``Memory``, each call run in a worker thread.

There is one implementation. Every method here, the constructor included, is generated from
``Memory``'s with its exact signature, so a fix made in ``Memory`` is a fix here, and the event
loop never blocks on SQLite, the embedder or the LLM.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from memlane.config import MemoryConfig
from memlane.memory.facade import Memory

__all__ = ["AsyncMemory"]

P = ParamSpec("P")
R = TypeVar("R")


def _offload(
    method: Callable[Concatenate[Memory, P], R],
) -> Callable[Concatenate[AsyncMemory, P], Awaitable[R]]:
    async def run(self: AsyncMemory, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run


def _arguments_of(
    init: Callable[Concatenate[Memory, P], None],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__`` the signature of ``init`` (for ``inspect`` and type
    checkers alike)."""

    def give(method: Callable[..., None]) -> Callable[Concatenate[Any, P], None]:
        return functools.wraps(init)(method)

    return give


class AsyncMemory:
    """``Memory`` for asyncio: every method is a coroutine with the same arguments and results."""

    sync: Memory
    """The ``Memory`` every call runs on."""

    @_arguments_of(Memory.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sync = Memory(*args, **kwargs)

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> AsyncMemory:
        """Build from a config dict (memlane's or mem0's shape); ``ConfigError`` if invalid."""
        return cls(MemoryConfig.load(config_dict))

    @property
    def config(self) -> MemoryConfig:
        return self.sync.config

    add = _offload(Memory.add)
    reprocess = _offload(Memory.reprocess)
    search = _offload(Memory.search)
    get = _offload(Memory.get)
    get_all = _offload(Memory.get_all)
    update = _offload(Memory.update)
    delete = _offload(Memory.delete)
    delete_all = _offload(Memory.delete_all)
    history = _offload(Memory.history)
    resolve_id = _offload(Memory.resolve_id)
    describe_llm = _offload(Memory.describe_llm)
    get_profile = _offload(Memory.get_profile)
    profile_history = _offload(Memory.profile_history)
    get_context = _offload(Memory.get_context)
    chat = _offload(Memory.chat)
    graph_query = _offload(Memory.graph_query)
    scopes = _offload(Memory.scopes)
    memory_details = _offload(Memory.memory_details)
    graph_view = _offload(Memory.graph_view)
    promote = _offload(Memory.promote)
    prune = _offload(Memory.prune)
    reset = _offload(Memory.reset)
    purge = _offload(Memory.purge)
    export = _offload(Memory.export)
    import_data = _offload(Memory.import_data)
    reindex = _offload(Memory.reindex)
    backup = _offload(Memory.backup)
    close = _offload(Memory.close)

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
