"""The house's layers, checked from the imports: libs know no service and no app, services never import
each other, and every package declares exactly the distributions its code imports."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("scheduler", "scorecard", "sync", "gateway")
SERVICE_MODULES = {f"interloop_{s}" for s in SERVICES}
APP_MODULES = {"interloop_cli"}
PACKAGES = sorted(
    p.parent for p in ROOT.glob("*/*/pyproject.toml") if p.parts[-3] in ("apps", "libs", "services")
)

# Needed at run time but never imported by name: the reason is the allowance.
RUNTIME_ONLY = {
    "psycopg": "yoyo-migrations' PostgreSQL driver",
    "tzdata": "zoneinfo's IANA database where the system has none",
}


def _imports(src: Path) -> dict[str, set[str]]:
    """Imported module -> the files importing it (relative imports left out). `from a import b` counts as
    a.b too: in a namespace package (opentelemetry, google) b may come from another distribution."""
    found: dict[str, set[str]] = {}
    for file in src.rglob("*.py"):
        tree = ast.parse(file.read_text(), filename=str(file))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                found.setdefault(name, set()).add(str(file.relative_to(ROOT)))
    return found


@functools.cache
def _DISTS() -> dict[str, list[str]]:  # noqa: N802 - built once: it reads every installed RECORD
    return packages_distributions()


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_package_imports_a_layer_above_it(package: Path) -> None:
    layer = package.parent.name  # apps, libs or services
    own = "interloop_" + package.name.replace("-", "_")
    forbidden = {"libs": SERVICE_MODULES | APP_MODULES, "services": (SERVICE_MODULES - {own}) | APP_MODULES}
    bad = {
        f"{file} imports {mod}"
        for mod, files in _imports(package / "src").items()
        if _top(mod) in forbidden.get(layer, set())
        for file in files
    }
    assert not bad, sorted(bad)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(package: Path) -> set[str]:
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    deps = [*project.get("dependencies", []), *sum(project.get("optional-dependencies", {}).values(), [])]
    return {_normal(re.split(r"[\[<>=!~; ]", d, maxsplit=1)[0]) for d in deps}


@cache
def _module_owners() -> dict[str, str]:
    """Dotted module (package or module) -> the installed distribution whose files hold it."""
    owners: dict[str, str] = {}
    for dist in distributions():
        for file in dist.files or ():
            parts = file.parts
            if not parts or not parts[-1].endswith(".py") or ".." in parts:
                continue
            mod = [*parts[:-1], parts[-1][:-3]] if parts[-1] != "__init__.py" else list(parts[:-1])
            for i in range(1, len(mod) + 1):
                owners.setdefault(".".join(mod[:i]), dist.metadata["Name"])
            owners[".".join(mod)] = dist.metadata["Name"]
    return owners


def _distributions(module: str) -> set[str]:
    top = _top(module)
    if top == "interloop":
        return {"interloop-protos"}
    if top.startswith("interloop_"):
        return {_normal(top)}
    if top in sys.stdlib_module_names or top == "__future__":
        return set()
    dists = _DISTS().get(top, [top])
    if len(set(dists)) == 1:
        return {_normal(dists[0])}
    # A namespace several distributions share: the longest part of the dotted name some distribution holds.
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        owner = _module_owners().get(".".join(parts[:i]))
        if owner:
            return {_normal(owner)}
    raise AssertionError(f"no installed distribution provides {module}")


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_package_declares_exactly_what_it_imports(package: Path) -> None:
    own = _normal(tomllib.loads((package / "pyproject.toml").read_text())["project"]["name"])
    declared = _declared(package)
    imported: dict[str, set[str]] = {}
    for module, files in _imports(package / "src").items():
        for dist in _distributions(module):
            if dist != own:
                imported.setdefault(dist, set()).update(files)
    missing = {d: sorted(f)[0] for d, f in imported.items() if d not in declared}
    unused = declared - set(imported) - set(RUNTIME_ONLY)
    assert not missing, f"imported but not declared in {package.name}/pyproject.toml: {missing}"
    assert not unused, f"declared but never imported by {package.name}: {sorted(unused)}"
