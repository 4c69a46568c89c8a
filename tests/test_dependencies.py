"""Declared dependencies match what the package imports, and the command starts without the heavy stack."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Imports allowed to come from an optional extra: module -> extra.
OPTIONAL = {"rasterio": "raster", "pyarrow": "parquet"}
#: Declared dependencies used through another library, never imported by name.
USED_THROUGH = {
    "openpyxl": "pandas.read_excel(engine='openpyxl')",
    "defusedxml": "openpyxl parses workbooks with it",
    "pyarrow": "GeoDataFrame.to_parquet / geopandas.read_parquet (extracts and the cache)",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = {k: {_name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    return {_name(r) for r in project["dependencies"]}, extras


def imported_modules() -> set[str]:
    names = set()
    for path in (ROOT / "circles").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"circles", "__future__"}


def test_every_import_is_a_declared_dependency():
    core, extras = declared()
    dists = packages_distributions()
    problems = []
    for module in sorted(imported_modules()):
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        extra = OPTIONAL.get(module)
        allowed = core | (extras.get(extra, set()) if extra else set())
        if not names & allowed:
            problems.append(f"{module} (from {sorted(names)}) is imported but not declared")
    assert not problems, problems


def test_every_core_dependency_is_imported():
    core, _ = declared()
    dists = packages_distributions()
    provided = {d.lower().replace("_", "-") for m in imported_modules() for d in dists.get(m, [m])}
    assert core - set(USED_THROUGH) <= provided, sorted(core - provided)


def test_import_and_version_stay_light():
    """``import circles`` and ``circles --version`` load neither geopandas, scipy nor matplotlib."""
    heavy = "('geopandas', 'scipy', 'matplotlib', 'osmnx')"
    code = f"import sys, circles; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    cli = "import sys; from circles.cli import build_parser; print('geopandas' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
