"""Validation gathered in one place: every problem of an input, reported at once.

Each reader collects what is wrong with a file in a :class:`Problems` and calls
:meth:`Problems.report` once, as OSMnx's ``_validate`` module does for graphs: all
errors go into one :class:`~circles.errors.InputError` (one line: the file, then each
problem with its fix), warnings are logged and kept for the caller. A planner fixing a
file sees every bad row in one go instead of one per run.

The helpers below format what messages show: row lists (``data rows 3, 7 and 9``),
column lists and plain numbers (``24.9``, never ``np.float64(24.9)``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from circles.errors import CirclesError, InputError

__all__ = ["Problem", "Problems", "columns_text", "detail", "number_text", "numbers_text", "rows_text"]

_LOG = logging.getLogger("circles.sources")
#: Row numbers shown before "and N more".
SHOWN_ROWS = 3
#: Column names shown before "and N more".
SHOWN_COLUMNS = 12


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: what, and optionally the parameter and fix."""

    what: str
    parameter: str | None = None
    fix: str | None = None

    def text(self) -> str:
        """``what; fix``."""
        return f"{self.what}; {self.fix}" if self.fix else self.what


class Problems:
    """The problems of one input, collected and then reported together.

    Parameters
    ----------
    where : str or Path
        The input (file) the problems belong to; every message starts with it.
    """

    def __init__(self, where: str | Path) -> None:
        self.where = str(where)
        self.errors: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, what: str, *, parameter: str | None = None, fix: str | None = None) -> None:
        """Record an error (reported by :meth:`report`)."""
        self.errors.append(Problem(what, parameter, fix))

    def warn(self, what: str) -> None:
        """Record a warning: logged by :meth:`report`, never raised."""
        self.warnings.append(what)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def error(self, cls: type[CirclesError] = InputError) -> CirclesError:
        """The one error listing every problem (``where: problem; fix; problem; fix``)."""
        if len(self.errors) == 1:
            p = self.errors[0]
            return cls(p.what, where=self.where, parameter=p.parameter, fix=p.fix)
        parameter = next((p.parameter for p in self.errors if p.parameter), None)
        return cls("; ".join(p.text() for p in self.errors), where=self.where, parameter=parameter)

    def report(self, cls: type[CirclesError] = InputError) -> list[str]:
        """Log the warnings; raise one error if there are errors.

        Returns
        -------
        list of str
            The warnings, each prefixed with the input, for the caller to pass on.

        Raises
        ------
        InputError (or ``cls``)
            Listing every error collected.
        """
        if self.errors:
            raise self.error(cls)
        texts = [f"{self.where}: {w}" for w in self.warnings]
        for text in texts:
            _LOG.warning("%s", text)
        return texts


def number_text(value: object) -> str:
    """A number as a planner writes it: ``24``, ``24.935``, ``1e+20``; never ``np.float64(...)``."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def numbers_text(values: Iterable[object]) -> str:
    """``(24.9, 60.1, 25, 60.2)``."""
    return "(" + ", ".join(number_text(v) for v in values) + ")"


def rows_text(numbers: Sequence[int] | Iterable[int], unit: str) -> str:
    """``"data row 3"``, ``"data rows 3, 7 and 9"``, ``"data rows 3, 7, 9 and 12 more"``."""
    numbers = [int(n) for n in numbers]
    if len(numbers) == 1:
        return f"{unit} {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    rest = len(numbers) - SHOWN_ROWS
    if rest > 0:
        return f"{unit}s {shown} and {rest} more"
    return f"{unit}s {', '.join(str(n) for n in numbers[:-1])} and {numbers[-1]}"


def columns_text(columns: Sequence[object]) -> str:
    """``'name', 'lon', 'lat'`` (at most :data:`SHOWN_COLUMNS`, then ``and N more``)."""
    if not columns:
        return "(none)"
    shown = ", ".join(repr(str(c)) for c in columns[:SHOWN_COLUMNS])
    rest = len(columns) - SHOWN_COLUMNS
    return shown + (f" and {rest} more" if rest > 0 else "")


def detail(exc: BaseException, path: Path | None = None, *, limit: int = 200) -> str:
    """A library's error text on one line, without the full path, at most ``limit`` characters."""
    text = str(exc)
    if path is not None:
        text = text.replace(str(path), path.name)
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
