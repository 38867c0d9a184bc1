"""The records layer: shared types live at the bottom, and the contracts declare what back ends do."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from memlane.embed.base import Embedder
from memlane.embed.hash import HashEmbedder
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig
from memlane.embed.openai import OpenAIEmbedder, OpenAIEmbedderConfig
from memlane.errors import LLMError
from memlane.graph.base import GraphStore
from memlane.llm import FakeLLM
from memlane.llm.base import LLM
from memlane.llm.parse import OutputParseError
from memlane.models import ChatMessage, Usage, Vectors
from memlane.store.base import MemoryStore
from tests.module_imports import SRC, imported


def _modules(folder: str) -> list[str]:
    root = SRC / folder
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_shared_types_are_records() -> None:
    message: ChatMessage = {"role": "user", "content": "hi"}
    rows: Vectors = np.zeros((1, 2), dtype=np.float32)
    spent = Usage(calls=1, prompt_tokens=2)
    spent.add(Usage(calls=1, completion_tokens=3))
    assert rows.dtype == np.float32
    assert (message["role"], spent) == ("user", Usage(2, 2, 3))


@pytest.mark.parametrize("module", ["memlane.models", "memlane.errors"])
def test_records_import_only_each_other(module: str) -> None:
    assert imported(module) <= {"memlane.models", "memlane.errors"}


@pytest.mark.parametrize("module", _modules("prompts"))
def test_prompts_do_not_depend_on_llm_providers(module: str) -> None:
    assert not {m for m in imported(module) if m.startswith("memlane.llm")}


@pytest.mark.parametrize("module", _modules("store"))
def test_stores_do_not_depend_on_embedders_for_types(module: str) -> None:
    # a store receives vectors; it needs the embedder contract only to check one against itself
    assert not {m for m in imported(module) if m.startswith("memlane.embed")} - {"memlane.embed.base"}
    if module != "memlane.store.base":
        assert "memlane.embed.base" not in imported(module)


def test_llm_error_carries_its_usage() -> None:
    assert LLMError("boom").usage is None
    failed = OutputParseError("no_json", "expected a JSON object", "nope")
    failed.usage = Usage(calls=2)
    caught: LLMError = failed
    assert caught.usage == Usage(calls=2)


@pytest.mark.parametrize(
    ("contract", "members"),
    [
        (Embedder, {"close"}),
        (LLM, {"close"}),
        (GraphStore, {"close"}),
        (MemoryStore, {"close", "backup"}),
    ],
)
def test_contracts_declare_close_and_backup(contract: type, members: set[str]) -> None:
    declared = {name for name, _ in inspect.getmembers(contract, inspect.isfunction)}
    assert members <= declared


def test_every_builtin_embedder_and_llm_closes() -> None:
    embedders: list[Embedder] = [
        HashEmbedder(8),
        LocalEmbedder(LocalEmbedderConfig()),
        OpenAIEmbedder(OpenAIEmbedderConfig.model_validate({"embedding_dims": 8})),
    ]
    for embedder in embedders:
        assert isinstance(embedder, Embedder)
        embedder.close()
    llm: LLM = FakeLLM()
    llm.close()
