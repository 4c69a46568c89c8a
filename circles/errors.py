"""Exception types with messages a planner can act on.

Every error raised for bad input derives from :class:`CirclesError`; the CLI turns
them into one line on stderr and exit code 2. Anything else is a bug (exit code 1).
"""

from __future__ import annotations


class CirclesError(Exception):
    """Base class of all errors caused by the user's input or environment."""


class InputError(CirclesError, ValueError):
    """An input file, option or value cannot be used (what, where, how to fix)."""


class InputFileError(CirclesError, OSError):
    """An input file is missing, unreadable or corrupt."""


class EmptyResultError(InputError):
    """An input yielded nothing usable (no walkable ways, no facilities, no homes)."""


class OutputError(CirclesError, OSError):
    """Results cannot be written (unwritable folder, disk full)."""


class NetworkUnavailableError(CirclesError, OSError):
    """An online source could not be reached."""
