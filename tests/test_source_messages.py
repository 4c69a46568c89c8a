"""Messages of circles.sources name Python parameters that exist, never command-line flags."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import circles.sources

SOURCES = Path(circles.sources.__file__).parent
MENTION = re.compile(r"`([A-Za-z_][A-Za-z0-9_.]*)`")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# Data-class fields a caller passes (SourceSpec / PointFileOptions), besides function parameters.
FIELDS = {"facilities", "homes", "network"}


def _message_texts(path: Path) -> list[str]:
    """Every string constant outside docstrings (f-string pieces included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _parameter_keywords(path: Path) -> list[str]:
    """Every ``parameter="..."`` given to an error."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "parameter" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    ]


def _parameters() -> set[str]:
    names: set[str] = set(FIELDS)
    for path in SOURCES.glob("*.py"):
        module = importlib.import_module(f"circles.sources.{path.stem}")
        for _, obj in inspect.getmembers(module, inspect.isfunction):
            names |= set(inspect.signature(obj).parameters)
    return names


def test_messages_name_existing_parameters_and_no_flags():
    parameters = _parameters()
    mentioned, flags = {}, {}
    for path in sorted(SOURCES.glob("*.py")):
        for text in _message_texts(path):
            for name in MENTION.findall(text):
                mentioned.setdefault(name, path.name)
            for flag in FLAG.findall(text):
                flags.setdefault(flag, path.name)
        for name in _parameter_keywords(path):
            mentioned.setdefault(name, path.name)
    assert not flags, f"command-line flags in library messages: {flags}"
    unknown = {name: where for name, where in mentioned.items() if name not in parameters}
    assert not unknown, f"messages name parameters no reader has: {unknown}"
    # The readers' own parameters are what the messages name.
    expected = ("lon_column", "lat_column", "crs", "layer", "encoding", "name_field", "raster_path")
    for name in expected:
        assert name in mentioned, name
