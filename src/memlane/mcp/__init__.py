"""memlane's MCP server: the memory tools for agents (the official ``mcp`` SDK, 2.x).

Two transports, the same tools (``memlane.mcp.tools``):

- stdio, for one user fixed by configuration (``memlane mcp --user-id ID``);
- streamable HTTP (``memlane mcp --http``): the user from the URL path ``/mcp/<user_id>``, the
  tenant from the API key (``memlane.mcp.http``).

The face calls the public API (``Memory``) only.
"""

from __future__ import annotations

from memlane import Memory
from memlane.mcp.tools import INSTRUCTIONS, Caller, Resolve, build_server

__all__ = ["INSTRUCTIONS", "Caller", "Resolve", "build_server", "serve_stdio"]


def serve_stdio(memory: Memory, user_id: str) -> None:
    """Answer MCP requests on stdin/stdout for ``user_id`` until stdin closes."""
    caller = Caller(memory, user_id)
    build_server(lambda _ctx: caller).run("stdio")
