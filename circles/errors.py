"""Exception types with messages a planner can act on.

Every error raised for bad input derives from :class:`CirclesError`; the CLI turns
them into one line on stderr and exit code 2. Anything else is a bug (exit code 1).

An error carries structured fields besides its text:

- ``what``: what is wrong, in plain words;
- ``where``: the file, row, feature or study area at fault (optional);
- ``parameter``: the Python name of the parameter that can fix it (optional), e.g.
  ``"max_access_leg_m"``;
- ``fix``: how to fix it (optional);
- ``scope``: which input the parameter belongs to (``"facilities"``, ``"homes"``,
  ``"candidates"``, ``"boundary"``, ``"subareas"``), set by the code that read it.

Messages name parameters in backticks (`` `max_access_leg_m` ``): a library user reads
the Python name, and the CLI replaces it with its own flag (``--max-access-leg-m``)
through :func:`render_for`, so library code never knows the command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: A parameter named in a message: a Python identifier in backticks.
PARAMETER_MENTION = re.compile(r"`([A-Za-z_][A-Za-z0-9_.]*)`")


class CirclesError(Exception):
    """Base class of all errors caused by the user's input or environment.

    Parameters
    ----------
    what : str
        What is wrong. May name parameters in backticks.
    where : str, optional
        The file, row, feature or study area at fault; printed first.
    parameter : str, optional
        Python name of the parameter that fixes it.
    fix : str, optional
        How to fix it; may name parameters in backticks.
    scope : str, optional
        The input the parameter belongs to (e.g. ``"homes"``).
    """

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        parameter: str | None = None,
        fix: str | None = None,
        scope: str | None = None,
    ) -> None:
        self.what = " ".join(str(what).split())
        self.where = None if where is None else str(where)
        self.parameter = parameter
        self.fix = None if fix is None else " ".join(str(fix).split())
        self.scope = scope
        super().__init__(self.message())

    def message(self) -> str:
        """The one-line message: ``where: what; fix``."""
        text = self.what
        if self.where:
            text = f"{self.where}: {text}"
        if self.fix:
            text = f"{text}; {self.fix}"
        return text

    def __str__(self) -> str:
        return self.message()

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes with its fields
        return (
            _rebuild,
            (type(self), self.what, self.where, self.parameter, self.fix, self.scope),
        )

    def mentioned_parameters(self) -> list[str]:
        """Parameter names the message mentions in backticks, plus ``parameter``."""
        names = PARAMETER_MENTION.findall(self.message())
        if self.parameter and self.parameter not in names:
            names.append(self.parameter)
        return names


def _rebuild(
    cls: type[CirclesError],
    what: str,
    where: str | None,
    parameter: str | None,
    fix: str | None,
    scope: str | None,
) -> CirclesError:
    err = cls.__new__(cls)
    CirclesError.__init__(err, what, where=where, parameter=parameter, fix=fix, scope=scope)
    return err


class InputError(CirclesError, ValueError):
    """An input file, option or value cannot be used (what, where, how to fix)."""


class InputFileError(CirclesError, OSError):
    """An input file is missing, unreadable or corrupt."""


class EmptyResultError(InputError):
    """An input yielded nothing usable (no walkable ways, no facilities, no homes)."""


class OutputError(CirclesError, OSError):
    """Results cannot be written (unwritable folder, disk full, a folder circles did not write)."""


class NetworkUnavailableError(CirclesError, OSError):
    """An online source could not be reached."""


def render_for(error: CirclesError, name_of: Callable[[str, str | None], str | None]) -> str:
    """The error's message with every backticked parameter replaced by ``name_of(name, scope)``.

    Parameters
    ----------
    error : CirclesError
    name_of : callable
        ``(parameter, scope) -> replacement`` (e.g. a CLI flag), or None to keep the
        parameter as written (without backticks).

    Returns
    -------
    str
    """

    def _replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return name_of(name, error.scope) or name

    return PARAMETER_MENTION.sub(_replace, error.message())


@contextmanager
def error_scope(scope: str) -> Iterator[None]:
    """Tag every :class:`CirclesError` raised inside the block with ``scope`` (if it has none).

    Used where a reader is called for one particular input: the same ``crs`` parameter
    of a point reader is ``--facility-crs`` for facilities and ``--homes-crs`` for homes.

    Parameters
    ----------
    scope : str
        The input, e.g. ``"facilities"``.

    Yields
    ------
    None
    """
    try:
        yield
    except CirclesError as exc:
        if exc.scope is None:
            exc.scope = scope
        raise
