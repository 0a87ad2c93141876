"""Options and helpers of the signal commands, ``audio`` and ``series``.

Imports nothing heavy (``nmfkit --help`` builds these parsers).
"""

from __future__ import annotations

import argparse
import contextlib
import warnings

__all__ = [
    "BETA_SHORT",
    "add_beta_option",
    "add_signal_input",
    "convergence_notes",
]

#: ``--beta-loss`` of ``audio`` and ``series``: short name -> the loss.
BETA_SHORT = {
    "is": "itakura-saito",
    "kl": "kullback-leibler",
    "frobenius": "frobenius",
}


def _beta(text):
    value = BETA_SHORT.get(text, text)
    if value not in BETA_SHORT.values():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; give is, kl or frobenius"
        )
    return value


def add_beta_option(group, default):
    """``--beta-loss is|kl|frobenius`` (the full names are accepted too)."""
    short = {v: k for k, v in BETA_SHORT.items()}[default]
    group.add_argument(
        "--beta-loss",
        type=_beta,
        default=short,  # a string default goes through _beta too
        metavar="{is,kl,frobenius}",
        help="divergence: is (Itakura-Saito), kl (Kullback-Leibler) or frobenius",
    )


def add_signal_input(parser, *, what, builtin, builtin_help):
    """The input FILE (optional: the built-in data of ``--builtin`` without it)."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "input",
        nargs="?",
        metavar="FILE",
        help=f"{what} (default: the built-in data of --builtin)",
    )
    group.add_argument(
        "--builtin",
        choices=builtin,
        default=builtin[0],
        help=builtin_help,
    )
    return group


@contextlib.contextmanager
def convergence_notes():
    """Hold back the fits' ConvergenceWarning; other warnings go on.

    The command words the warning as every command does
    (:func:`nmfkit.apps._notes.convergence_note`) from the fit's iterations.
    A fit that was interrupted and kept its factors
    (:class:`~nmfkit._fit_runner.FitInterruptedWarning`) raises
    :class:`KeyboardInterrupt`: it is never handed over as finished.

    Yields
    ------
    caught : list
        The ConvergenceWarning records, once the block has ended.
    """
    from sklearn.exceptions import ConvergenceWarning

    from .._fit_runner import FitInterruptedWarning

    held = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield held
    if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
        raise KeyboardInterrupt("the fit was interrupted")
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            held.append(w)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
