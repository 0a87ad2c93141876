"""``nmfkit fit``: factorize a matrix file; hand over the model, W, H and fit.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apps._defaults import FIT_DEFAULTS
from ._inputs import add_matrix_options, load_table
from ._options import (
    CommandError,
    add_checkpoint_options,
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
)
from ._shared import finish, open_outputs, print_lines, warn

__all__ = ["add_parser", "run"]

#: ``--beta-loss`` names; a number may be given instead.
BETA_NAMES = ("frobenius", "kullback-leibler", "itakura-saito")
_BETA_VALUES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}
#: The numbers ``--beta-loss`` accepts.
BETA_RANGE = (-100.0, 100.0)


def beta_loss(text):
    """argparse type: a ``--beta-loss`` name, or a number in :data:`BETA_RANGE`."""
    if text in BETA_NAMES:
        return text
    try:
        value = float(text)
    except ValueError:
        value = None
    low, high = BETA_RANGE
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; give {', '.join(BETA_NAMES)} or a number from "
            f"{low:g} to {high:g}"
        )
    return value


def add_parser(subparsers):
    """Register ``fit`` and return its parser."""
    parser = add_command(
        subparsers,
        "fit",
        help="factorize a matrix file; save the model, W, H and fit.json",
        description="Factorize X ~ W H for a non-negative matrix file (rows are "
        "samples). Writes into one folder, all together or nothing: model.npz "
        "(nmfkit.load reads it), W and H as .npy and as CSV with the row and "
        "column names, fit.json (the solver and initialization that ran, the "
        "objective, the iterations) and, with --report, report.html.",
    )
    add_matrix_options(parser)
    group = add_model_options(parser, FIT_DEFAULTS, auto_init=True)
    group.add_argument(
        "--beta-loss",
        type=beta_loss,
        default="frobenius",
        help="divergence: frobenius, kullback-leibler, itakura-saito or a number "
        "(beta); other than frobenius needs --solver auto or mu",
    )
    add_checkpoint_options(parser)
    add_output_options(parser, default_dir="INPUT's name + '-nmf'")
    parser.set_defaults(func=run)
    return parser


def check_solver(solver, beta, missing):
    """Refuse a solver the loss or the missing entries cannot use, before reading."""
    value = _BETA_VALUES.get(beta, beta)
    if value != 2.0 and solver in ("cd", "hals"):
        raise CommandError(
            f"--solver {solver} fits the Frobenius loss only; give --solver mu (or "
            f"auto) for --beta-loss {beta}"
        )
    if missing and value != 2.0:
        raise CommandError(
            f"--missing fits the Frobenius loss only; drop --beta-loss {beta} or "
            "--missing"
        )


def run(args):
    """Run ``nmfkit fit``; return the exit code."""
    params = model_params(args, FIT_DEFAULTS)
    check_solver(params["solver"], args.beta_loss, args.missing)
    if args.checkpoint and not Path(args.checkpoint).absolute().parent.is_dir():
        raise CommandError(
            f"--checkpoint {args.checkpoint}: the folder "
            f"{Path(args.checkpoint).absolute().parent} does not exist; create it first"
        )
    source = Path(args.input)
    folder = output_folder(args, source.with_name(source.stem + "-nmf"))
    with open_outputs(args, folder, "fit") as (outputs, progress):
        from ..apps._fit import fit_matrix, write_fit_outputs

        table = load_table(args)
        result = fit_matrix(
            table,
            progress=progress,
            missing=args.missing,
            beta_loss=args.beta_loss,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            **params,
        )
        summary = write_fit_outputs(
            outputs, table, result, source=source, report=args.report
        )
    X = table.data
    measures = ", ".join(
        f"{name} {value:.6g}" for name, value in summary["measures"].items()
    )
    print_lines(
        f"fit {X.shape[0]} x {X.shape[1]}, rank {summary['rank']}: {measures}",
        f"{summary['solver']}, init {summary['init']}: {summary['n_iter']} "
        f"iterations, {summary['seconds']:.3f} s",
    )
    warn(args, result.notes)
    return finish(folder, summary["files"])
