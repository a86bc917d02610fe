"""The package declares what it imports: a fresh `pip install` must not lean on whatever some
other dependency happens to pull in (cv2, tqdm and transformers once did)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

import mmretrieval
from mmretrieval.models import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(mmretrieval.__file__).parent
# Extras a user installs to run something; dev and bench only serve tests and benchmarks.
RUNTIME_EXTRAS = ("gpu", "serve", "milvus")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def declared() -> set[str]:
    """Distribution names of the core dependencies and the runtime extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    requirements = project["dependencies"] + [r for e in RUNTIME_EXTRAS for r in extras[e]]
    return {_requirement_name(r) for r in requirements}


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> files importing it, for every import statement in the package,
    at module level or inside functions."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "mmretrieval":
                    found.setdefault(top, set()).add(str(path.relative_to(PACKAGE.parent)))
    return found


def test_every_third_party_import_is_a_declared_requirement():
    requirements = declared()
    distributions = packages_distributions()
    imports = third_party_imports()
    assert "numpy" in imports, f"the walk found no imports under {PACKAGE}"
    problems = []
    for module, files in sorted(imports.items()):
        providers = {_normalise(d) for d in distributions.get(module, [])}
        if not providers:
            problems.append(f"{module} (imported by {sorted(files)}) is not installed here")
        elif not providers & requirements:
            problems.append(
                f"{module} (imported by {sorted(files)}) comes from {sorted(providers)}, "
                "none of which pyproject.toml declares"
            )
    assert not problems, "add to pyproject.toml dependencies or an extra:\n" + "\n".join(problems)


def test_bundled_model_packages_are_declared():
    """Bundled weights are imported by name at run time, so the AST walk cannot see them."""
    missing = {m.package for m in BUNDLED.values()} - declared()
    assert not missing, f"declare the packages that ship bundled models: {sorted(missing)}"
