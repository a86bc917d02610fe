"""What a `pip install` gets: every import declared (not leaning on whatever another dependency
happens to pull in, as cv2, tqdm and transformers once did), every subpackage and the built-in
profiles in the wheel."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

import mmretrieval
from mmretrieval.config import bundled_profiles, configs_dir
from mmretrieval.models import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(mmretrieval.__file__).parent
# Extras a user installs to run something; dev and bench only serve tests and benchmarks.
RUNTIME_EXTRAS = ("gpu", "serve", "milvus", "ray")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared() -> set[str]:
    """Distribution names of the core dependencies and the runtime extras."""
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    requirements = project["dependencies"] + [r for e in RUNTIME_EXTRAS for r in extras[e]]
    return {_requirement_name(r) for r in requirements}


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute module names a file imports, at module level or inside functions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> files of the package importing it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in imported_modules(path):
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


def test_runtime_modules_never_import_the_testing_helpers():
    """mmretrieval.testing (synthetic footage, espeak-ng) is for tests, samples and benchmarks."""
    importers = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "testing" not in path.relative_to(PACKAGE).parts
        and any(m.startswith("mmretrieval.testing") for m in imported_modules(path))
    ]
    assert not importers, f"runtime modules import mmretrieval.testing: {importers}"


def test_bundled_model_packages_are_declared():
    """Bundled weights are imported by name at run time, so the AST walk cannot see them."""
    missing = {p for m in BUNDLED.values() for p in m.packages} - declared()
    assert not missing, f"declare the packages that ship bundled models: {sorted(missing)}"


def test_every_package_folder_is_listed_for_the_wheel():
    """Packages are listed, not discovered (configs/ is mapped in from the top level), so a new
    folder under mmretrieval/ must be added to the list or the wheel silently lacks it."""
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(folder.relative_to(PACKAGE.parent).parts)
        for folder in [PACKAGE, *PACKAGE.rglob("*")]
        if folder.is_dir() and any(f.is_file() for f in folder.iterdir())
        and folder.name != "__pycache__"
    }
    assert listed == folders | {"mmretrieval.configs"}, (
        "set [tool.setuptools] packages in pyproject.toml to the folders under mmretrieval/ "
        f"plus mmretrieval.configs: missing {sorted(folders - listed)}, "
        f"stale {sorted(listed - folders - {'mmretrieval.configs'})}"
    )


def test_a_checkout_reads_the_one_top_level_configs_folder():
    mapped = ROOT / pyproject()["tool"]["setuptools"]["package-dir"]["mmretrieval.configs"]
    assert configs_dir() == mapped == ROOT / "configs"
    assert {"offline", "default"} <= set(bundled_profiles())
    assert (mapped / "moderation.yaml").is_file()
    assert not (PACKAGE / "configs").exists(), "a second copy of configs/ inside the package"


def test_the_wheel_holds_the_configs_data_and_every_module(tmp_path):
    """A regular (non-editable) build: configs/ lands at mmretrieval/configs/."""
    source = tmp_path / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("mmretrieval", "configs"):
        shutil.copytree(ROOT / folder, source / folder, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "wheel"), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("mmretrieval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    expected |= {f"mmretrieval/configs/{p.name}" for p in configs_dir().glob("*.yaml")}
    assert "mmretrieval/configs/moderation.yaml" in expected
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
