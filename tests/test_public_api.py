"""The public surface: a sorted ``__all__``, the error tree, no import-time side effects."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
import typing
from importlib.metadata import version

import pytest

import memlane
from memlane import errors


def test_all_is_the_sorted_list_of_public_names() -> None:
    public = [
        name
        for name, value in vars(memlane).items()
        if (not name.startswith("_") or name == "__version__") and not isinstance(value, types.ModuleType)
    ]
    assert memlane.__all__ == sorted(public)


def test_result_and_argument_types_are_exported() -> None:
    from memlane import types as shapes

    assert sorted(shapes.__all__) == [
        "AddResult",
        "AddResultItem",
        "ChatResult",
        "ChatUsage",
        "ContextCitation",
        "ContextResult",
        "DeleteResult",
        "GetAllResult",
        "GraphEntityItem",
        "GraphQueryResult",
        "GraphViewResult",
        "HistoryItem",
        "Id",
        "MemoryDetails",
        "MemoryItem",
        "MemoryVersionItem",
        "MessageDict",
        "Messages",
        "ProfileChangeItem",
        "ProfileResult",
        "ProfileSlotItem",
        "PromoteResult",
        "PruneResult",
        "PurgeResult",
        "ReprocessResult",
        "ReprocessedAdd",
        "ScopeItem",
        "SearchItem",
        "SearchResult",
        "SourceMessageItem",
        "TimeLike",
        "UpdateResult",
    ]
    assert set(shapes.__all__) <= set(memlane.__all__)


def test_memory_methods_are_annotated_with_the_result_types() -> None:
    hints = {
        name: typing.get_type_hints(getattr(memlane.Memory, name)) for name in ("add", "search", "get_all")
    }
    assert hints["add"]["return"] is memlane.AddResult
    assert hints["search"]["return"] is memlane.SearchResult
    assert hints["get_all"]["return"] is memlane.GetAllResult
    assert hints["add"]["messages"] == memlane.Messages
    assert hints["add"]["timestamp"] == memlane.TimeLike | None


def test_every_exported_name_exists() -> None:
    for name in memlane.__all__:
        assert hasattr(memlane, name), name


def test_no_exported_name_shadows_a_module() -> None:
    # ``memlane.registry`` is the registry module; the registry instance is ``memlane.providers``
    for name in memlane.__all__:
        assert importlib.util.find_spec(f"memlane.{name}") is None, name
    assert isinstance(memlane.providers, memlane.registry.Registry)


def test_version_matches_the_installed_distribution() -> None:
    assert memlane.__version__ == version("memlane")


def test_errors_module_exports_every_error_class() -> None:
    classes = sorted(
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == errors.__name__
    )
    assert errors.__all__ == classes
    assert set(classes) <= set(memlane.__all__)


@pytest.mark.parametrize(
    ("child", "parents"),
    [
        (memlane.ConfigError, (memlane.MemlaneError, ValueError)),
        (memlane.UnknownProviderError, (memlane.ConfigError,)),
        (memlane.MissingDependencyError, (memlane.ConfigError, ImportError)),
        (memlane.InvalidInputError, (memlane.MemlaneError, ValueError)),
        (memlane.InvalidFilterError, (memlane.InvalidInputError,)),
        (memlane.ConflictError, (memlane.InvalidInputError, ValueError)),
        (memlane.NotFoundError, (memlane.MemlaneError, ValueError)),
        (memlane.ProviderError, (memlane.MemlaneError,)),
        (memlane.LLMError, (memlane.ProviderError,)),
        (memlane.EmbedderError, (memlane.ProviderError,)),
        (memlane.RerankError, (memlane.ProviderError,)),
        (memlane.StoreError, (memlane.ProviderError,)),
        (memlane.DimensionMismatchError, (memlane.StoreError,)),
        (memlane.EmbedderMismatchError, (memlane.DimensionMismatchError,)),
    ],
)
def test_error_tree(child: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    for parent in parents:
        assert issubclass(child, parent), (child, parent)


def test_provider_errors_are_not_value_errors() -> None:
    # a failing back end is not the caller's bad input
    assert not issubclass(memlane.ProviderError, ValueError)


def test_error_messages_name_what_went_wrong() -> None:
    unknown = memlane.UnknownProviderError("embedder", "nope", ["hash", "local"])
    assert "nope" in str(unknown) and "hash, local" in str(unknown)
    missing = memlane.MissingDependencyError("sentence-transformers", "local")
    assert "pip install 'memlane[local]'" in str(missing)
    mismatch = memlane.DimensionMismatchError(384, 1536)
    assert "384" in str(mismatch) and "1536" in str(mismatch)
    assert (mismatch.stored, mismatch.embedder) == (384, 1536)
    assert "abc" in str(memlane.NotFoundError("abc"))


def test_import_has_no_heavy_side_effects() -> None:
    code = (
        "import sys, memlane\n"
        "from memlane import Memory, AsyncMemory\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
