"""Command line: ``circles demo``, ``circles run`` and ``circles batch``.

The CLI only parses, sets up logging and progress, and delegates. Exit codes: 0
success, 2 bad usage or bad input (one line on stderr), 1 unexpected error
(traceback with ``-v``). Library messages name Python parameters; the CLI shows its
own flags instead (:mod:`circles.cli.flags`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from circles.cli.flags import error_line, join_negative_values
from circles.cli.parser import build_parser
from circles.errors import CirclesError

__all__ = ["build_parser", "main"]

log = logging.getLogger("circles")


def _configure_logging(quiet: bool, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``circles`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The command-line arguments without the program name; ``sys.argv[1:]`` when None.
    """
    parser = build_parser()
    args = parser.parse_args(join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    _configure_logging(args.quiet, args.verbose)
    from circles.cli import commands

    handlers = {"demo": commands.cmd_demo, "run": commands.cmd_run, "batch": commands.cmd_batch}
    try:
        return handlers[args.command](args)
    except CirclesError as exc:
        if args.verbose:
            log.exception("error")
        print(f"circles: error: {error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("circles: interrupted; no output was written for the unfinished area", file=sys.stderr)
        return 130
    except Exception:
        if args.verbose:
            raise
        print(
            "circles: unexpected error (a bug); run again with -v for the traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
