"""The package's folders are its data flow: inputs -> model -> analysis -> viewer. Read from the
source's imports (every one, also inside functions and ``TYPE_CHECKING`` blocks): no folder
imports a later one or the runs at the top, and no module imports itself round a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llm_embedding_ner"
FOLDERS = ["inputs", "model", "analysis", "viewer"]  # in the order data flows through them
SHARED = {"errors", "progress", "memory"}  # helpers every stage may use; they import nothing of the package
# Chain the first three folders; the viewer shows what they return.
RUNS = {"pipeline", "reading", "comparison"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package's modules that ``path`` imports."""
    name = module_name(path)
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:  # "from . import pipeline" names a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m.split(".")[0] == "llm_embedding_ner" and m != "llm_embedding_ner"}


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_every_folder_is_a_package_the_wheel_includes() -> None:
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py")))
    assert folders == sorted(FOLDERS)
    assert all((PACKAGE / f / "__init__.py").exists() for f in folders)
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    from setuptools import find_packages

    found = set(find_packages(where=str(PACKAGE.parent), include=include))
    assert found == {"llm_embedding_ner", *(f"llm_embedding_ner.{f}" for f in FOLDERS)}


def test_every_import_names_a_module_that_exists() -> None:
    missing = [f"{m} -> {t}" for m, targets in graph().items() for t in targets if not _exists(t)]
    assert missing == []


def test_folders_import_only_earlier_folders_and_the_shared_helpers() -> None:
    wrong = []
    for module, targets in graph().items():
        folder = folder_of(module)
        if folder is None:
            continue
        for target in targets:
            other = folder_of(target)
            if other is None:
                allowed = target.rpartition(".")[2] in SHARED
            else:
                allowed = FOLDERS.index(other) <= FOLDERS.index(folder)
            if not allowed:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_shared_helpers_import_nothing_and_the_runs_never_the_viewer() -> None:
    edges = graph()
    for name in SHARED:
        assert edges[f"llm_embedding_ner.{name}"] == set()
    for name in RUNS:
        assert not any(folder_of(t) == "viewer" for t in edges[f"llm_embedding_ner.{name}"])


def test_no_module_imports_itself_round_a_circle() -> None:
    edges = graph()
    edges.pop("llm_embedding_ner")  # the public API's lazy exports name everything
    done: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(edges.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    assert circles == []
