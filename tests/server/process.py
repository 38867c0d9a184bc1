"""Start and stop a real ``memlane serve`` process on 127.0.0.1 (a free port).

A plain helper (no pytest), shared by the server tests and ``benchmarks/bench_server.py``::

    with MemlaneServer.start(folder, keys={"alpha": False}) as server:
        httpx.get(server.url + "/health")
        server.keys["alpha"]   # the secret of a key of tenant alpha

The process gets its own ``MEMLANE_DIR`` (``folder``), the hash embedder (no model, no LLM, so
``add`` stores messages as they are) and the keys asked for, and is always stopped (SIGTERM,
then SIGKILL after ``stop_timeout``) by ``stop()`` / the ``with`` block.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from memlane.server.keys import KeyStore

__all__ = ["HASH_CONFIG", "MemlaneServer", "free_port"]

HASH_CONFIG: dict[str, Any] = {"embedder": {"provider": "hash", "config": {"embedding_dims": 64}}}
SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MemlaneServer:
    def __init__(
        self, process: subprocess.Popen[bytes], url: str, folder: Path, keys: dict[str, str]
    ) -> None:
        self.process = process
        self.url = url
        self.folder = folder
        self.keys = keys
        self.log_path = folder / "server.log"

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        keys: Mapping[str, bool] | None = None,
        config: Mapping[str, Any] | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
    ) -> MemlaneServer:
        """Serve ``folder/memlane.db``; ``keys`` maps a tenant to whether its key is admin."""
        folder.mkdir(parents=True, exist_ok=True)
        store = KeyStore(folder / "keys.db")
        secrets = {tenant: store.create(tenant, admin=admin)[1] for tenant, admin in (keys or {}).items()}
        config_path = folder / "config.json"
        config_path.write_text(json.dumps(dict(config or HASH_CONFIG)))
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "memlane.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            str(folder / "memlane.db"),
        ]
        args += ["--config", str(config_path), "--keys", str(folder / "keys.db"), *extra_args]
        environment = {**os.environ, "MEMLANE_DIR": str(folder), "PYTHONPATH": str(SRC), **(env or {})}
        environment.pop("MEMLANE_SERVER_SETTINGS", None)
        with open(folder / "server.log", "wb") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=environment)
        server = cls(process, f"http://127.0.0.1:{port}", folder, secrets)
        try:
            server._wait_ready(ready_timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"memlane serve exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"memlane serve did not answer in {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def headers(self, tenant: str, scheme: str = "Bearer") -> dict[str, str]:
        return {"Authorization": f"{scheme} {self.keys[tenant]}"}

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL if it is still running after ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> MemlaneServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
