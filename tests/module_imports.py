"""Which memlane modules a source file imports, read from its syntax tree (nothing is run)."""

from __future__ import annotations

import ast
from pathlib import Path

import memlane

SRC = Path(memlane.__file__).parent


def module_path(module: str) -> Path | None:
    """The source file of a memlane module (``memlane.llm.base``), None if it is no module."""
    top, *parts = module.split(".")
    if top != "memlane":
        return None
    folder = SRC.joinpath(*parts)
    if (folder / "__init__.py").is_file():
        return folder / "__init__.py"
    return folder.with_suffix(".py") if folder.with_suffix(".py").is_file() else None


def imported(module: str, *, functions: bool = True) -> set[str]:
    """The memlane modules ``module`` imports at run time (``TYPE_CHECKING`` blocks left out);
    with ``functions=False``, only those imported outside function bodies."""
    path = module_path(module)
    assert path is not None, module
    finder = _Finder(functions)
    finder.visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in finder.names if module_path(name) is not None}


def reachable(module: str) -> set[str]:
    """Every memlane module that importing ``module`` (and calling its functions) may import."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(imported(current))
    return seen - {module}


class _Finder(ast.NodeVisitor):
    def __init__(self, functions: bool) -> None:
        self.functions = functions
        self.names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if self.functions:
            self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        if self.functions:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self.names.add(node.module)
            self.names.update(f"{node.module}.{alias.name}" for alias in node.names)
