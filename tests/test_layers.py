"""The layers read top-down (README, Architecture): cli and server use the Library; the Library
uses the jobs (ingest, search, moderation, evaluate, export); jobs use the analyser; the
analyser uses adapters and media; everything may use the store, config and spans. Checked over
everything a module imports, directly or not (imports only a type checker reads are exempt)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mmretrieval

ROOT = Path(mmretrieval.__file__).parent
SURFACES = {"cli", "server"}
LIBRARY = {"library"} | SURFACES
JOBS = {
    "ingest", "search", "query", "moderation", "evaluate", "export", "shotlist", "workers"
} | LIBRARY
ANALYSER = {"analyze"} | JOBS


@pytest.mark.parametrize(
    ("module", "above"),
    [
        ("mmretrieval.library", SURFACES),
        *[(f"mmretrieval.{job}", LIBRARY) for job in sorted(JOBS - LIBRARY)],
        ("mmretrieval.moderation.calibrate", LIBRARY),
        ("mmretrieval.evaluate.run", LIBRARY),
        ("mmretrieval.analyze", JOBS),
        *[
            (f"mmretrieval.{low}", ANALYSER)
            for low in ("adapters.base", "media.decode", "store.backends", "config", "spans")
        ],
    ],
)
def test_a_layer_imports_nothing_above_it(module, above):
    reached = {name.split(".")[1] for name in _reachable(module)}
    assert not reached & above, f"{module} reaches {sorted(reached & above)}"


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen or not _source(module).exists():
            continue
        seen.add(module)
        todo += _imports(_source(module))
    return seen - {start}


def _imports(path: Path) -> list[str]:
    """The package's modules a file imports when it runs."""
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "mmretrieval":  # from mmretrieval import channels
                found += [f"mmretrieval.{alias.name}" for alias in node.names]
            elif node.module.startswith("mmretrieval."):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("mmretrieval.")]
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node except the bodies of ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _source(module: str) -> Path:
    """A module's file: name.py, or name/__init__.py for a package."""
    path = ROOT.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
