"""The memory tools an agent calls over MCP, on one user's memories.

Whose memories a call touches never comes from the model: ``build_server`` takes a
``resolve`` function that gives the ``Memory`` and the user id of the current request (fixed
for stdio; from the URL path and the API key's tenant over HTTP). A tool reads, changes or
deletes only memories of that user: an id of someone else's memory answers "not found".

Failures come back as tool errors the agent can read (``isError`` with the message, secrets
masked); an unexpected crash answers a generic message and never takes the server down.

``search_memories`` and ``get_memories`` take memlane's ``memory_type``, ``run_id`` with
``long_term``, and ``as_of`` (all optional, as ``Memory.search`` / ``get_all``); a ``run_id``
narrows to one of the user's runs, never to another user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from memlane import DeleteResult, MemlaneError, Memory, MemoryItem, NotFoundError, UpdateResult, __version__
from memlane.redact import redact_text

__all__ = ["INSTRUCTIONS", "Caller", "Resolve", "build_server"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    """Whose memories the current request works on."""

    memory: Memory
    user_id: str


Resolve = Callable[[Context], Caller]
"""Gives the ``Caller`` of a request from its MCP context."""

INSTRUCTIONS = (
    "Long-term memory about the user you are talking with (memlane). Search it before you answer "
    "anything that may depend on what the user told you before; store what the user shares that "
    "will still matter in later conversations. The user is fixed by the connection: never pass "
    "a user id."
)

_ADD = (
    "Store a lasting fact about the user in long-term memory. Call it when the user shares "
    "something that will still matter in a later conversation: a fact about themselves (name, "
    "job, where they live, family), a preference or dislike, a plan, goal or decision, or when "
    "they ask you to remember something. Pass the user's words or a short, self-contained "
    "sentence (e.g. 'Prefers window seats on flights'). Do not store small talk, your own "
    "answers, or facts that matter only for this turn. Returns the memories added or changed "
    "(events ADD, UPDATE, DELETE, NONE)."
)
_SEARCH = (
    "Search the user's long-term memories by meaning. Call it before answering anything that "
    "may depend on the user's past: their preferences, plans, people, places, earlier requests, "
    "or anything phrased as 'my ...', 'as I said', 'again'. Write the query as a question or "
    "the topic (e.g. 'dietary restrictions'). Returns the best matches, best first, each with "
    "its id, text and score in [0, 1]."
)
_GET_ALL = (
    "List the user's memories, newest first (up to top_k). Use it to review everything you "
    "know about the user; to answer a question, search_memories is better."
)
_GET = "Get one of the user's memories by its id (as returned by search_memories or get_memories)."
_UPDATE = (
    "Replace the text of one of the user's memories, when the user corrects it or it became "
    "outdated. The old text stays in the memory's history."
)
_DELETE = "Delete one of the user's memories by id, when the user asks you to forget it."
_DELETE_ALL = (
    "Delete ALL of the user's memories. Only when the user explicitly asks you to forget "
    "everything about them; ask for confirmation first."
)
_ENTITIES = (
    "List who the user's memories belong to: the user, and the agents and runs (sessions) "
    "that stored memories for them, each with how many memories it holds."
)


MemoryType = Annotated[
    str | list[str] | None,
    Field(description="only memories of this type or these types: semantic, episodic, procedural"),
]
RunId = Annotated[str | None, Field(description="only the memories of this run (session) of the user's")]
LongTerm = Annotated[
    bool,
    Field(description="with run_id: the run's memories plus the user's long-term memories (no run)"),
]
AsOf = Annotated[
    str | float | None,
    Field(description="what was stored at this time (ISO-8601 or Unix seconds): texts as they were then"),
]


def _reads(
    caller: Caller, run_id: str | None, memory_type: Any, long_term: bool, as_of: Any
) -> dict[str, Any]:
    """The keyword arguments of a read: the caller's user (and run), and the options given."""
    filters = {**_mine(caller), **({} if run_id is None else {"run_id": run_id})}
    options = {"memory_type": memory_type, "as_of": as_of}
    return {"filters": filters, "long_term": long_term, **{k: v for k, v in options.items() if v is not None}}


def _on_thread(resolve: Resolve, ctx: Context, work: Callable[[Caller], T]) -> Awaitable[T]:
    """Run ``work`` for the request's caller in a worker thread (building a tenant's ``Memory``
    and every ``Memory`` call block); a memlane error becomes a tool error the agent reads."""

    async def run() -> T:
        try:
            return await asyncio.to_thread(lambda: work(resolve(ctx)))
        except MemlaneError as exc:
            lines = [line.strip() for line in redact_text(str(exc)).splitlines() if line.strip()]
            raise ToolError(f"{type(exc).__name__}: {'; '.join(lines)}") from None

    return run()


def _mine(caller: Caller) -> dict[str, Any]:
    return {"user_id": caller.user_id}


def _owned(caller: Caller, memory_id: str) -> MemoryItem:
    """The memory ``memory_id`` if it belongs to the caller's user, else ``NotFoundError``."""
    item = caller.memory.get(memory_id)
    if item is None or item.get("user_id") != caller.user_id:
        raise NotFoundError(memory_id)
    return item


def _entities(caller: Caller) -> dict[str, Any]:
    """The user, and the agents and runs within the user's memories, with their counts."""
    memories = caller.memory.get_all(filters={"user_id": caller.user_id}, top_k=100_000)["results"]
    counts: dict[tuple[str, str], int] = {}
    for item in memories:
        for kind in ("agent", "run"):
            value = item.get(f"{kind}_id")
            if isinstance(value, str):
                counts[kind, value] = counts.get((kind, value), 0) + 1
    user = {"id": caller.user_id, "type": "user", "total_memories": len(memories)}
    others = [{"id": i, "type": k, "total_memories": n} for (k, i), n in sorted(counts.items())]
    return {"results": [user, *others]}


def build_server(resolve: Resolve, *, name: str = "memlane") -> MCPServer:
    """An MCP server with the memory tools; ``resolve`` says whose memories a request touches."""
    server = MCPServer(name=name, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    def tool(description: str, *, read_only: bool = False, destructive: bool = False) -> Callable[[F], F]:
        hints = ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive)
        return server.tool(description=description, annotations=hints)

    def run(ctx: Context, work: Callable[[Caller], Any]) -> Awaitable[Any]:
        return _on_thread(resolve, ctx, work)

    @tool(_ADD)
    async def add_memory(ctx: Context, text: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(await run(ctx, lambda c: c.memory.add(text, user_id=c.user_id, metadata=metadata)))

    @tool(_SEARCH, read_only=True)
    async def search_memories(
        ctx: Context, query: str, top_k: int = 10, memory_type: MemoryType = None, run_id: RunId = None,
        long_term: LongTerm = False, as_of: AsOf = None,
    ) -> dict[str, Any]:  # fmt: skip
        def search(c: Caller) -> Any:
            return c.memory.search(query, top_k=top_k, **_reads(c, run_id, memory_type, long_term, as_of))

        return dict(await run(ctx, search))

    @tool(_GET_ALL, read_only=True)
    async def get_memories(
        ctx: Context, top_k: int = 50, memory_type: MemoryType = None, run_id: RunId = None,
        long_term: LongTerm = False, as_of: AsOf = None,
    ) -> dict[str, Any]:  # fmt: skip
        def listed(c: Caller) -> Any:
            return c.memory.get_all(top_k=top_k, **_reads(c, run_id, memory_type, long_term, as_of))

        return dict(await run(ctx, listed))

    @tool(_GET, read_only=True)
    async def get_memory(ctx: Context, memory_id: str) -> dict[str, Any]:
        return dict(await run(ctx, lambda c: _owned(c, memory_id)))

    @tool(_UPDATE)
    async def update_memory(ctx: Context, memory_id: str, text: str) -> dict[str, Any]:
        def update(c: Caller) -> UpdateResult:
            _owned(c, memory_id)
            return c.memory.update(memory_id, text=text)

        return dict(await run(ctx, update))

    @tool(_DELETE, destructive=True)
    async def delete_memory(ctx: Context, memory_id: str) -> dict[str, Any]:
        def delete(c: Caller) -> DeleteResult:
            _owned(c, memory_id)
            return c.memory.delete(memory_id)

        return dict(await run(ctx, delete))

    @tool(_DELETE_ALL, destructive=True)
    async def delete_all_memories(ctx: Context) -> dict[str, Any]:
        return dict(await run(ctx, lambda c: c.memory.delete_all(user_id=c.user_id)))

    @tool(_ENTITIES, read_only=True)
    async def list_entities(ctx: Context) -> dict[str, Any]:
        return dict(await run(ctx, _entities))

    return server
