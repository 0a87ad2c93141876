"""The ``nmfkit`` command.

Each subcommand is a module of this package with ``add_parser(subparsers)``,
which registers it (``parser.set_defaults(func=run)``; ``run(args)`` returns
the exit code): it parses, calls an application of :mod:`nmfkit.apps` and
prints. The options the commands share are declared once, in
:mod:`nmfkit.cli._options`. Building the parsers imports nothing heavy, so
``nmfkit --help`` is quick; a command imports NumPy, scikit-learn and the
rest when it runs.

Bad input (a missing file, a negative value, an existing output folder
without ``--force``, a missing optional package) ends the command with one
line on stderr and exit code 2, and leaves no output behind. Warnings are
printed on stderr as ``nmfkit CMD: warning: ...``.
"""

from __future__ import annotations

import sys
import warnings

from .. import __version__
from . import audio, consensus, demo, faces, fit, rank, ratings, series, topics
from ._options import HelpFormatter, OneLineErrorParser

__all__ = ["BAD_INPUT", "SUBCOMMANDS", "build_parser", "main"]

#: Functions that each register one subcommand, in ``--help`` order.
SUBCOMMANDS = [
    demo.add_parser,
    faces.add_parser,
    topics.add_parser,
    fit.add_parser,
    rank.add_parser,
    consensus.add_parser,
    ratings.add_parser,
    audio.add_parser,
    series.add_parser,
]

#: Exceptions that mean bad input rather than a bug (one-line error, exit 2).
BAD_INPUT = (ValueError, OSError, ImportError, OverflowError)


def build_parser():
    """Return the argument parser of the ``nmfkit`` command."""
    parser = OneLineErrorParser(
        prog="nmfkit",
        description="Non-negative matrix factorization: faces, topics, ratings, "
        "audio, time series and any matrix. Every command writes its results "
        "into one folder (-o DIR), all of them or none.",
        formatter_class=HelpFormatter,
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = args.func(args)
        except BAD_INPUT as exc:
            print(f"nmfkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            return getattr(exc, "exit_code", 2)
        except KeyboardInterrupt:
            print(
                f"nmfkit {args.command}: interrupted; nothing written (an earlier "
                "output folder is unchanged)",
                file=sys.stderr,
            )
            return 130
    seen = set()
    for w in caught:
        line = str(w.message).splitlines()[0] if str(w.message) else ""
        if line and line not in seen:
            seen.add(line)
            print(f"nmfkit {args.command}: warning: {line}", file=sys.stderr)
    return code
