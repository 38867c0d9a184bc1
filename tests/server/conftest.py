"""One real ``memlane serve`` process for the server tests (session), with a key per tenant."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# mem0's client reads these when it is imported: no telemetry, its config folder in /tmp
os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("MEM0_DIR", tempfile.mkdtemp(prefix="memlane-mem0-"))

from tests.server.process import MemlaneServer

TENANTS = {"admin": True, "alpha": False, "beta": False, "client": False, "fuzz": True}
"""Tenants with a key in the shared server (True: an admin key)."""


@pytest.fixture(scope="session")
def server() -> Iterator[MemlaneServer]:
    folder = Path(tempfile.mkdtemp(prefix="memlane-serve-"))
    try:
        with MemlaneServer.start(folder, keys=TENANTS) as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)
