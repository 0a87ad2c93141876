"""Pieces shared by the ``nmfkit`` subcommands: options, output paths, errors."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

from ._atomic import check_writable

__all__ = [
    "CommandError",
    "OneLineErrorParser",
    "add_fit_options",
    "add_output_options",
    "builtin_source_error",
    "fit_options",
    "report_path",
]


class CommandError(ValueError):
    """Bad input to a subcommand: shown as one line, exit code 2 by default."""

    def __init__(self, message, *, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit with 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not >= 1")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number >= 0")
    return value


def add_penalty_options(group):
    """``--l1-W``, ``--l2-W``, ``--l1-H``, ``--l2-H``: the course's penalties."""
    for name, meaning in (
        ("l1-W", "lambda, L1 penalty of W"),
        ("l2-W", "mu, squared-norm penalty of W"),
        ("l1-H", "L1 penalty of H"),
        ("l2-H", "nu, squared-norm penalty of H"),
    ):
        group.add_argument(
            f"--{name}",
            dest=name.replace("-", "_"),
            type=_non_negative_float,
            default=0.0,
            help=f"{meaning} (default: 0)",
        )


def add_output_options(parser, *, report=True):
    """``--report``, ``--force`` and ``--quiet``."""
    if report:
        parser.add_argument(
            "--report",
            metavar="PATH",
            help="HTML report to write (default: a new file in ./nmfkit-reports/)",
        )
    parser.add_argument(
        "--force", action="store_true", help="replace output files that exist"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the result (no progress bars)",
    )


def add_fit_options(parser, defaults):
    """The factorization's options, with the application's defaults."""
    group = parser.add_argument_group("factorization")
    group.add_argument(
        "--rank",
        type=_positive_int,
        default=defaults["n_components"],
        help="number of components (default: %(default)s)",
    )
    group.add_argument(
        "--l1-W",
        dest="l1_W",
        type=_non_negative_float,
        default=defaults["l1_W"],
        help="lambda, the L1 penalty of the codes W (default: %(default)s)",
    )
    group.add_argument(
        "--l2-W",
        dest="l2_W",
        type=_non_negative_float,
        default=defaults["l2_W"],
        help="mu, the squared-norm penalty of W (default: %(default)s)",
    )
    group.add_argument(
        "--l2-H",
        dest="l2_H",
        type=_non_negative_float,
        default=defaults["l2_H"],
        help="nu, the squared-norm penalty of the dictionary H (default: %(default)s)",
    )
    group.add_argument(
        "--max-iter",
        type=_positive_int,
        default=defaults["max_iter"],
        help="largest number of iterations (default: %(default)s)",
    )
    group.add_argument(
        "--tol",
        type=_non_negative_float,
        default=defaults["tol"],
        help="stop when the objective's relative decrease is below this "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--init",
        default="nndsvda",
        choices=("random", "nndsvd", "nndsvda", "nndsvdar"),
        help="initialization (default: %(default)s)",
    )
    group.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the initialization (default: %(default)s)",
    )


def fit_options(args):
    """The keyword arguments of ``compare_with_sklearn`` from parsed options."""
    return dict(
        n_components=args.rank,
        l1_W=args.l1_W,
        l2_W=args.l2_W,
        l2_H=args.l2_H,
        max_iter=args.max_iter,
        tol=args.tol,
        init=args.init,
        random_state=args.random_state,
    )


def report_path(args, command):
    """The report's path, checked before any work: never replaces without --force.

    The default is a new time-stamped file in ``./nmfkit-reports/``.
    """
    if args.report:
        path = Path(args.report)
        if path.suffix.lower() not in (".html", ".htm"):
            raise CommandError(f"--report {path}: give a file name ending in .html")
    else:
        folder = Path("nmfkit-reports")
        folder.mkdir(exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"{command}-{stamp}.html"
        n = 2
        while path.exists():
            path = folder / f"{command}-{stamp}-{n}.html"
            n += 1
    check_writable(path, force=args.force)
    return path


def builtin_source_error(name, exc):
    """A one-line error for a built-in data set missing from the local cache."""
    return CommandError(
        f"the {name} data set is not available offline ({exc}); give --data-home "
        "with scikit-learn's cache, or --download to fetch it once"
    )
