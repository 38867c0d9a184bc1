"""Helpers of the MCP tests: reading a tool's answer."""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent


def answer(result: CallToolResult) -> Any:
    """The JSON a successful tool call answered."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return json.loads(first.text)


def error_text(result: CallToolResult) -> str:
    """The message of a tool call that failed as a tool error (never a protocol error)."""
    assert result.is_error, result.content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text
