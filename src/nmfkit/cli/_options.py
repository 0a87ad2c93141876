"""The options the commands share, declared once, with the same names everywhere.

This module imports nothing heavy: ``nmfkit --help`` builds every parser.

- :func:`add_model_options`: ``--rank``, ``--solver``, ``--init``,
  ``--max-iter``, ``--tol``, ``--random-state``, ``--l1-W``, ``--l2-W``,
  ``--l1-H``, ``--l2-H`` (each command adds those that apply to it, with
  its own defaults);
- :func:`add_output_options`: ``-o/--output-dir``, ``--report``, ``--force``,
  ``-q/--quiet``;
- :func:`add_checkpoint_options`: ``--checkpoint``, ``--checkpoint-every``.

Every option's help ends with its default.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

from ..apps._errors import CommandError

__all__ = [
    "CommandError",
    "HelpFormatter",
    "OneLineErrorParser",
    "add_checkpoint_options",
    "add_command",
    "add_model_options",
    "add_output_options",
    "model_params",
    "non_negative_float",
    "output_folder",
    "positive_int",
]

#: ``--solver`` values (``cd`` is another name of ``hals``).
SOLVERS = ("auto", "cd", "hals", "mu")
#: ``--init`` values; ``auto`` is nndsvda when the rank allows, else random.
INITS = ("random", "nndsvd", "nndsvda", "nndsvdar")


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit with 2."""

    def error(self, message):
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: ...)`` to every option that has a default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if isinstance(action, Switch):
            return text + f" (default: {'on' if action.default else 'off'})"
        if (
            "%(default)" in text
            or not action.option_strings
            or action.default is None
            or action.default is False
            or action.default is argparse.SUPPRESS
            or isinstance(action, (argparse._HelpAction, argparse._VersionAction))
        ):
            return text
        return text + " (default: %(default)s)"


class Switch(argparse.BooleanOptionalAction):
    """``--name/--no-name``, its help without argparse's own default suffix."""

    def __init__(self, *args, help=None, **kwargs):
        super().__init__(*args, help=help, **kwargs)
        self.help = help


def add_command(subparsers, name, *, help, description):
    """A new subcommand parser with the shared help formatting."""
    return subparsers.add_parser(
        name, help=help, description=description, formatter_class=HelpFormatter
    )


# ------------------------------------------------------------------- types
def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not >= 1")
    return value


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not >= 0")
    return value


def non_negative_float(text):
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number >= 0")
    return value


def seed(text):
    """argparse type: a seed, an integer from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 2**32 - 1")
    return value


# ----------------------------------------------------------------- options
#: option -> (estimator parameter, argparse keywords, help)
_MODEL_OPTIONS = {
    "rank": (
        "n_components",
        dict(type=positive_int, metavar="K"),
        "number of components",
    ),
    "solver": (
        "solver",
        dict(choices=SOLVERS),
        "algorithm: auto (hals with extrapolation for the Frobenius loss, mu "
        "otherwise), cd or hals (coordinate descent), mu (multiplicative updates)",
    ),
    "init": (
        "init",
        dict(choices=INITS),
        "initialization of W and H",
    ),
    "max-iter": (
        "max_iter",
        dict(type=positive_int, metavar="N"),
        "largest number of iterations",
    ),
    "tol": (
        "tol",
        dict(type=non_negative_float, metavar="TOL"),
        "stop when the objective's relative decrease is below this (0: never)",
    ),
    "random-state": (
        "random_state",
        dict(type=seed, metavar="SEED"),
        "seed of the initialization (and of any random split)",
    ),
    "l1-W": (
        "l1_W",
        dict(type=non_negative_float, metavar="WEIGHT"),
        "lambda, L1 penalty of the codes W",
    ),
    "l2-W": (
        "l2_W",
        dict(type=non_negative_float, metavar="WEIGHT"),
        "mu, squared-norm penalty of W",
    ),
    "l1-H": (
        "l1_H",
        dict(type=non_negative_float, metavar="WEIGHT"),
        "L1 penalty of the dictionary H",
    ),
    "l2-H": (
        "l2_H",
        dict(type=non_negative_float, metavar="WEIGHT"),
        "nu, squared-norm penalty of H",
    ),
}


def add_model_options(parser, defaults, *, title="model", auto_init=False):
    """Add the factorization options that ``defaults`` has a key for.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    defaults : dict
        Estimator parameter -> default (see :mod:`nmfkit.apps._defaults`);
        ``n_components=None`` makes ``--rank`` required.
    title : str, default="model"
        The help section.
    auto_init : bool, default=False
        Offer ``--init auto`` (the estimator's choice: nndsvda, or random for
        a rank above min(n, p)), the default when ``defaults["init"]`` is None.

    Returns
    -------
    group : argparse._ArgumentGroup
    """
    group = parser.add_argument_group(title)
    for option, (param, kwargs, text) in _MODEL_OPTIONS.items():
        if param not in defaults:
            continue
        kwargs = dict(kwargs)
        default = defaults[param]
        if param == "n_components" and default is None:
            kwargs["required"] = True
        if param == "init" and auto_init:
            kwargs["choices"] = ("auto", *INITS)
            default = "auto" if default is None else default
            text += "; auto: nndsvda, or random for a rank above min(rows, columns)"
        group.add_argument(
            f"--{option}",
            dest=param,
            default=default,
            help=text,
            **kwargs,
        )
    return group


def model_params(args, defaults):
    """The estimator parameters of ``defaults``' keys from parsed options."""
    params = {param: getattr(args, param) for param in defaults}
    if params.get("init") == "auto":
        params["init"] = None
    return params


def add_output_options(parser, *, default_dir, report=False):
    """``-o/--output-dir``, ``--report/--no-report``, ``--force``, ``-q/--quiet``.

    Parameters
    ----------
    default_dir : str
        What the help says the default output folder is.
    report : bool, default=False
        Whether the HTML report is written by default.
    """
    group = parser.add_argument_group("output")
    group.add_argument(
        "-o",
        "--output-dir",
        metavar="DIR",
        help=f"folder for all the results, written together or not at all "
        f"(default: {default_dir})",
    )
    group.add_argument(
        "--report",
        action=Switch,
        default=report,
        help="write report.html (figures and tables) in the output folder",
    )
    group.add_argument(
        "--force",
        action="store_true",
        help="replace the output folder if it exists (the whole folder, never "
        "old files beside new ones)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the results (no progress bars)",
    )
    return group


def output_folder(args, default):
    """The output folder: ``-o`` or ``default`` (a path)."""
    return Path(args.output_dir) if args.output_dir else Path(default)


def stamped_folder(command):
    """``nmfkit-results/COMMAND-YYYYmmdd-HHMMSS``, a new name each run."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("nmfkit-results") / f"{command}-{stamp}"
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def add_checkpoint_options(parser):
    """``--checkpoint PATH`` and ``--checkpoint-every SECONDS``."""
    group = parser.add_argument_group(
        "checkpoint",
        "save the state of a long fit regularly; run the same command again to "
        "resume after a crash or a kill",
    )
    group.add_argument(
        "--checkpoint",
        metavar="PATH",
        default=None,
        help="checkpoint file: written during the fit, resumed from if it "
        "exists, removed when the fit finishes",
    )
    group.add_argument(
        "--checkpoint-every",
        metavar="SECONDS",
        type=non_negative_float,
        default=60.0,
        help="smallest time between two checkpoint writes",
    )
    return group
