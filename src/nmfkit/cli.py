"""The ``nmfkit`` command.

Each subcommand lives in its own module with an ``add_parser(subparsers)``
function that registers it; :data:`SUBCOMMANDS` lists them in ``--help``
order. To add one, write ``_cli_<name>.py`` with ``add_parser`` (set
``func`` with ``parser.set_defaults(func=run)``; ``run(args)`` returns the
exit code) and append it here.

Bad input (a missing file, a negative value, an existing output without
``--force``, a missing optional package) ends the command with one line on
stderr and exit code 2.
"""

from __future__ import annotations

import sys

from . import __version__
from ._cli_common import OneLineErrorParser
from ._cli_demo import add_parser as _add_demo
from ._cli_faces import add_parser as _add_faces
from ._cli_fit import add_parser as _add_fit
from ._cli_rank import add_parser as _add_rank
from ._cli_ratings import add_parser as _add_ratings
from ._cli_topics import add_parser as _add_topics

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Functions that each register one subcommand on the subparsers object.
SUBCOMMANDS = [_add_demo, _add_faces, _add_topics, _add_fit, _add_rank, _add_ratings]

#: Exceptions that mean bad input rather than a bug (one-line error, exit 2).
BAD_INPUT = (ValueError, OSError, ImportError)


def build_parser():
    """Return the argument parser of the ``nmfkit`` command."""
    parser = OneLineErrorParser(
        prog="nmfkit",
        description="Non-negative matrix factorization: faces, topics and any "
        "matrix, compared with scikit-learn, with HTML reports.",
    )
    parser.add_argument("--version", action="version", version=f"nmfkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BAD_INPUT as exc:
        print(f"nmfkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print(f"nmfkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
