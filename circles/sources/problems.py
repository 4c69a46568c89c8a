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
        """Record an error (reported by :meth:`report`).

        Parameters
        ----------
        what : str
            What is wrong, as the message shows it (e.g. ``"data row 3 has no lon"``).
        parameter : str, optional
            The Python parameter the problem concerns, if any (kept on the raised error).
        fix : str, optional
            How to fix it, shown after ``what``.
        """
        self.errors.append(Problem(what, parameter, fix))

    def warn(self, what: str) -> None:
        """Record a warning: logged by :meth:`report`, never raised.

        Parameters
        ----------
        what : str
            The warning text, without the input prefix (added by :meth:`report`).
        """
        self.warnings.append(what)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def error(self, cls: type[CirclesError] = InputError) -> CirclesError:
        """The one error listing every problem (``where: problem; fix; problem; fix``).

        Parameters
        ----------
        cls : type of CirclesError, default InputError
            The error class to build (e.g. :class:`~circles.errors.InputFileError`).

        Returns
        -------
        CirclesError
            An instance of ``cls``, not raised; its ``parameter`` is the first one recorded.
        """
        if len(self.errors) == 1:
            p = self.errors[0]
            return cls(p.what, where=self.where, parameter=p.parameter, fix=p.fix)
        parameter = next((p.parameter for p in self.errors if p.parameter), None)
        return cls("; ".join(p.text() for p in self.errors), where=self.where, parameter=parameter)

    def report(self, cls: type[CirclesError] = InputError) -> list[str]:
        """Log the warnings; raise one error if there are errors.

        Parameters
        ----------
        cls : type of CirclesError, default InputError
            The error class raised when errors were recorded (see :meth:`error`).

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
    """A number as a planner writes it: ``24``, ``24.935``, ``1e+20``; never ``np.float64(...)``.

    Parameters
    ----------
    value : object
        A number (Python, NumPy or pandas scalar); anything not convertible to float is shown with
        ``str``.

    Returns
    -------
    str
        Whole numbers below 1e15 without a decimal point, other floats as ``repr``.
    """
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def numbers_text(values: Iterable[object]) -> str:
    """``(24.9, 60.1, 25, 60.2)``.

    Parameters
    ----------
    values : iterable of object
        The numbers to show, each formatted by :func:`number_text`.

    Returns
    -------
    str
        The numbers comma-separated in parentheses.
    """
    return "(" + ", ".join(number_text(v) for v in values) + ")"


def rows_text(numbers: Sequence[int] | Iterable[int], unit: str) -> str:
    """``"data row 3"``, ``"data rows 3, 7 and 9"``, ``"data rows 3, 7, 9 and 12 more"``.

    Parameters
    ----------
    numbers : sequence or iterable of int
        The row (or line) numbers, as the user counts them; at least one.
    unit : str
        The singular noun before the numbers (``"data row"``, ``"line"``); ``s`` is added for several.

    Returns
    -------
    str
        At most :data:`SHOWN_ROWS` numbers, then ``and N more``.
    """
    numbers = [int(n) for n in numbers]
    if len(numbers) == 1:
        return f"{unit} {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    rest = len(numbers) - SHOWN_ROWS
    if rest > 0:
        return f"{unit}s {shown} and {rest} more"
    return f"{unit}s {', '.join(str(n) for n in numbers[:-1])} and {numbers[-1]}"


def columns_text(columns: Sequence[object]) -> str:
    """``'name', 'lon', 'lat'`` (at most :data:`SHOWN_COLUMNS`, then ``and N more``).

    Parameters
    ----------
    columns : sequence of object
        The column names (converted with ``str`` and quoted).

    Returns
    -------
    str
        The quoted names comma-separated, or ``"(none)"`` when there are none.
    """
    if not columns:
        return "(none)"
    shown = ", ".join(repr(str(c)) for c in columns[:SHOWN_COLUMNS])
    rest = len(columns) - SHOWN_COLUMNS
    return shown + (f" and {rest} more" if rest > 0 else "")


def detail(exc: BaseException, path: Path | None = None, *, limit: int = 200) -> str:
    """A library's error text on one line, without the full path, at most ``limit`` characters.

    Parameters
    ----------
    exc : BaseException
        The error raised by the library (its ``str``, or its type name when that is empty).
    path : Path, optional
        The file being read; its full path in the text is replaced by its file name.
    limit : int, default 200
        The most characters returned, in characters; longer text is cut and ends with ``…``.

    Returns
    -------
    str
        The text with all whitespace runs collapsed to single spaces.
    """
    text = str(exc)
    if path is not None:
        text = text.replace(str(path), path.name)
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
