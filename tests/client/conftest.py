"""A real ``memlane serve`` process for the client tests (module scope), with a key per tenant."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client._scenario import CONFIG
from tests.server.process import MemlaneServer

TENANTS = {"parity": True, "parity-async": True, "plain": False, "other": False}
"""Tenants with a key in the served process (True: an admin key, which ``reset`` needs)."""


@pytest.fixture(scope="module")
def served() -> Iterator[MemlaneServer]:
    folder = Path(tempfile.mkdtemp(prefix="memlane-client-"))
    try:
        with MemlaneServer.start(folder, keys=TENANTS, config=CONFIG) as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)
