"""The README's examples, run (or parsed) as written.

- the output ``make demo`` is said to print is what ``circles demo`` prints;
- the Python snippet runs on the embedded extract and writes what it says;
- every ``circles`` command in the README parses with the real parser (its options exist
  and its values are accepted), so a renamed or removed flag fails here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    """The fenced code blocks of the README in ``language`` ('' for unlabelled ones)."""
    pattern = re.compile(r"^```" + re.escape(language) + r"\n(.*?)^```", re.S | re.M)
    return pattern.findall(README.read_text(encoding="utf-8"))


def _commands() -> list[str]:
    """Every ``circles ...`` command line of the README's bash blocks (continuations joined)."""
    found = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("circles ") and "..." not in line:
                found.append(line)
    return found


def test_the_readme_has_commands_to_check():
    commands = _commands()
    assert len(commands) >= 8, commands
    assert {c.split()[1] for c in commands} >= {"run", "batch"}


@pytest.mark.parametrize("command", _commands())
def test_every_readme_command_parses(command):
    from circles.cli import build_parser
    from circles.cli.flags import join_negative_values

    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(join_negative_values(argv))
    except SystemExit as exc:  # --help exits 0; anything else is a broken example
        assert exc.code == 0, command


def test_make_demo_prints_what_the_readme_says(tmp_path):
    """The README's block after "`make demo` prints" is the real output, line for line."""
    text = README.read_text(encoding="utf-8")
    after = text.split("`make demo` prints", 1)[1]
    expected = re.search(r"```\n(.*?)```", after, re.S).group(1).splitlines()
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "circles", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.splitlines()
    assert len(printed) == len(expected), proc.stdout
    for want, got in zip(expected, printed, strict=True):
        if want.startswith("wrote "):  # the folder and the seconds differ
            assert got.startswith("wrote ") and "map.html" in got, got
        else:
            assert got == want


def test_the_python_snippet_runs_on_the_demo_extract(tmp_path, monkeypatch):
    from circles.demo import demo_pbf

    (snippet,) = _blocks("python")
    assert '"area.osm.pbf"' in snippet and '"out/area"' in snippet
    code = snippet.replace('"area.osm.pbf"', repr(str(demo_pbf())))
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)  # the README's own example
    out = tmp_path / "out" / "area"
    for name in ("map.html", "circles.gpkg", "summary.json", "proposed_sites.csv"):
        assert (out / name).is_file(), name
    for name in ("geoparquet/homes.parquet",):
        assert (out / name).is_file(), name
    result = scope["result"]
    n_sites = len(result.proposed_sites)
    assert result.settings.speed_kmh == 3.6 and 1 <= n_sites <= 5
    if n_sites < 5:  # fewer than asked: the warnings say why
        assert any("site" in w for w in result.summary.warnings), result.summary.warnings
    assert result.summary.siting is not None and scope["loaded"].summary.loads is not None
    assert scope["closed"].summary.what_if is not None  # the clinic named in the snippet exists
    written = (out / "proposed_sites.csv").read_text(encoding="utf-8").splitlines()
    assert len(written) == 1 + n_sites  # header and the sites
