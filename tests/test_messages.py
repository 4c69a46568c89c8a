"""Every message names a real option: library code names Python parameters, the CLI maps them to its flags."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from circles.cli.flags import FLAG_OF, PYTHON_ONLY, SCOPED_FLAG_OF, flag_for
from circles.cli.parser import build_parser

PACKAGE = Path(__file__).resolve().parents[1] / "circles"
CLI = PACKAGE / "cli"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
MENTION = re.compile(r"(?<!`)`([A-Za-z_][A-Za-z0-9_.]*)`(?!`)")


def parser_flags() -> dict[str, set[str]]:
    """Flags of each subcommand."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {
        name: {opt for action in p._actions for opt in action.option_strings}
        for name, p in sub.choices.items()
    }


def string_literals(path: Path) -> list[str]:
    """Every string constant in a module that can reach a user (f-string parts included, docstrings not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def library_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents]


def test_library_code_names_no_cli_flag():
    """Messages outside the CLI speak of Python parameters, never of flags."""
    found = {
        f"{path.relative_to(PACKAGE)}: {flag}"
        for path in library_modules()
        for text in string_literals(path)
        for flag in FLAG.findall(text)
        if not text.lstrip().startswith(("pip ", "python "))
    }
    assert not found, sorted(found)


def test_every_parameter_named_in_a_library_message_has_a_flag():
    names = {
        name for path in library_modules() for text in string_literals(path) for name in MENTION.findall(text)
    }
    scoped = {p for _, p in SCOPED_FLAG_OF}
    unmapped = sorted(n for n in names if flag_for(n, None) is None and n not in scoped | PYTHON_ONLY)
    assert not unmapped, unmapped


def test_every_flag_the_cli_names_exists():
    flags = parser_flags()
    every = set().union(*flags.values())
    mapped = {f for text in [*FLAG_OF.values(), *SCOPED_FLAG_OF.values()] for f in FLAG.findall(text)}
    in_cli = {f for path in CLI.rglob("*.py") for text in string_literals(path) for f in FLAG.findall(text)}
    missing = sorted((mapped | in_cli) - every - {"--help", "--version"})
    assert not missing, missing


BAD_RUNS = {
    "no facilities near": ["--facilities", "amenity=nothing_here"],
    "access leg": ["--max-access-leg-m", "0"],
    "speed": ["--speed-kmh", "fast"],
    "bands": ["--bands", "10,5"],
    "threshold": ["--bands", "5,10", "--minutes", "15"],
    "homes crs": ["--homes", "{homes}", "--homes-crs", "mars-2"],
    "facility crs": ["--facilities", "{clinics}", "--facility-crs", "mars-2"],
    "population column": ["--homes", "{homes}", "--population-field", "nope"],
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_RUNS), ids=list(BAD_RUNS))
def test_flags_in_error_messages_exist_for_the_command(tmp_path, helsinki_pbf, case):
    homes = tmp_path / "homes.csv"
    homes.write_text("lon,lat\n24.94,60.17\n", encoding="utf-8")
    clinics = tmp_path / "clinics.csv"
    clinics.write_text("name,lon,lat\nA,24.94,60.17\n", encoding="utf-8")
    args = [a.format(homes=homes, clinics=clinics) for a in BAD_RUNS[case]]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "circles",
            "run",
            "--pbf",
            str(helsinki_pbf),
            *args,
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circles: error: "), proc.stderr
    assert "`" not in lines[0], "a Python parameter leaked into a CLI message"
    named = set(FLAG.findall(lines[0]))
    assert named <= parser_flags()["run"], (named, lines[0])


def test_usage_errors_are_one_line_with_a_help_pointer():
    proc = subprocess.run(
        [sys.executable, "-m", "circles", "run", "--pbf", "x.pbf", "--recommend", "many"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "'many' is not a whole number" in lines[0]
        and "see 'circles run --help'" in lines[0]
    )
