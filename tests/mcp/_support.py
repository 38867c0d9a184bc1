"""Helpers of the MCP tests: reading a tool's answer, a ``memlane mcp --http`` process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from mcp.types import CallToolResult, TextContent

from tests.server.process import SRC, free_port


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


class McpHttpServer:
    """A real ``memlane mcp --http`` process on 127.0.0.1 (a free port), stopped by ``with``."""

    def __init__(self, folder: Path, keys: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable, "-m", "memlane.cli", "--embedder", "hash", "mcp", "--http",
            "--port", str(self.port), "--db", str(folder / "memlane.db"), "--keys", str(keys),
        ]  # fmt: skip
        env = {**os.environ, "MEMLANE_DIR": str(folder), "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1"}
        self.log = folder / "mcp.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"memlane mcp exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                httpx.get(self.url + "/mcp/ready-probe", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"memlane mcp did not answer in {timeout} s")

    def __enter__(self) -> McpHttpServer:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
