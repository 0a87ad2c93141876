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
    """Return the argument parser of the ``nmfkit`` command.

    Every subcommand of :data:`SUBCOMMANDS` is registered; parsing sets
    ``command`` and ``func`` (the subcommand's ``run(args)``). Building it
    imports nothing heavy.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its errors are one line on stderr and exit code 2.

    See Also
    --------
    main : Parses and runs a command.

    Examples
    --------
    >>> from nmfkit.cli import build_parser
    >>> args = build_parser().parse_args(["fit", "X.npy", "--rank", "3"])
    >>> args.command, args.input, args.n_components, args.solver
    ('fit', 'X.npy', 3, 'auto')
    """
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
    """Run the command line; return the exit code.

    Bad input (:data:`BAD_INPUT`) ends the command with one line on stderr
    and its exit code (2 unless the error gives another); Ctrl-C with 130.
    Warnings are printed on stderr, once each.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``nmfkit`` (``sys.argv[1:]`` when None).

    Returns
    -------
    code : int
        0 on success, 2 for bad input, 130 when interrupted.

    Raises
    ------
    SystemExit
        From the parser: for ``--help`` and ``--version`` (code 0) and for
        arguments it cannot parse (code 2).

    See Also
    --------
    build_parser : The parser of the command.
    nmfkit.apps : The applications the commands call.

    Examples
    --------
    Factorize a small matrix file into a new folder:

    >>> import os, pathlib, tempfile
    >>> import numpy as np
    >>> from nmfkit.cli import main
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> rng = np.random.default_rng(0)
    >>> np.save(folder / "X.npy", rng.random((10, 2)) @ rng.random((2, 6)))
    >>> main(["fit", os.fspath(folder / "X.npy"), "--rank", "2", "--max-iter", "50",
    ...       "--tol", "0", "-o", os.fspath(folder / "out")])
    fit 10 x 6, rank 2: ...
    results in .../out/: model.npz, W.npy, H.npy, W.csv, H.csv, fit.json
    0
    >>> W = np.load(folder / "out" / "W.npy")
    >>> W.shape
    (10, 2)

    Bad input is one line on stderr and exit code 2; nothing is written:

    >>> main(["fit", os.fspath(folder / "missing.npy"), "--rank", "2",
    ...       "-o", os.fspath(folder / "other")])
    2
    >>> (folder / "other").exists()
    False
    >>> tmp.cleanup()
    """
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
