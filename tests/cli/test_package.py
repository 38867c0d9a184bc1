"""The ``memlane.cli`` package: no import cycle, ``python -m`` works, no reach past the public API.

A reach past the public API (an internal module, ``Memory.store``, ``Memory.llm``...) must carry
a ``# public-api: <the method it needs>`` comment on its line or the line above, until the
façade offers that method.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import memlane.cli
from memlane.cli import cli

PACKAGE = Path(memlane.cli.__file__).parent
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
PUBLIC_MODULES = {"memlane", "memlane.eval", "memlane.redact"}
"""What a face may import besides its own package (and click, the standard library)."""
FACE_PACKAGES = ("memlane.server", "memlane.mcp", "memlane.client")
"""Other faces the CLI starts (``memlane serve``, ``memlane keys``): they use the public API only too."""
INTERNAL_ATTRIBUTES = {"store", "llm", "embedder", "graph", "reranker"}
"""``Memory`` attributes that are back ends, not API."""
MARKER = "# public-api:"


def _memlane_imports(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "memlane":
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "memlane"]
    return found


def test_modules_import_the_group_from_app_never_from_the_package() -> None:
    for path in MODULES:
        for line, module in _memlane_imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert module != "memlane.cli", f"{path.name}:{line} imports memlane.cli (use memlane.cli._app)"


def test_the_package_modules_import_each_other_without_a_cycle() -> None:
    graph = {
        f"memlane.cli.{p.stem}": {
            m
            for _, m in _memlane_imports(ast.parse(p.read_text(encoding="utf-8")))
            if m.startswith("memlane.cli.")
        }
        for p in MODULES
    }
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for imported in graph.get(module, set()):
                visit(imported, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_python_m_memlane_cli_has_every_command() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "memlane.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    listed = {line.split()[0] for line in shown.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(cli.commands)


def _marked(lines: list[str], line: int) -> bool:
    """The marker is on ``line`` (1-based) or on the line above."""
    return any(MARKER in lines[i - 1] for i in (line, line - 1) if i >= 1)


def test_every_reach_past_the_public_api_is_marked() -> None:
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        reaches = [
            (line, module)
            for line, module in _memlane_imports(tree)
            if module not in PUBLIC_MODULES
            and module not in FACE_PACKAGES
            and not module.startswith(("memlane.cli.", *(f"{face}." for face in FACE_PACKAGES)))
        ]
        reaches += [  # memory.llm, self.memory().store... (not the CLI's own ``self.embedder`` option)
            (node.lineno, f".{node.attr}")
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in INTERNAL_ATTRIBUTES
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ]
        for line, what in reaches:
            assert _marked(source.splitlines(), line), (
                f"{path.name}:{line} uses {what}, past the public API: add `{MARKER} <the method it needs>`"
            )
