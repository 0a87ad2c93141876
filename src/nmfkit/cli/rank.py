"""``nmfkit rank``: score candidate ranks of a matrix file and choose one."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apps._defaults import RANK_DEFAULTS
from ._inputs import add_matrix_options, load_table
from ._options import (
    CommandError,
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
)
from ._shared import finish, open_outputs, print_lines, warn

__all__ = ["METHODS", "add_parser", "parse_ranks", "run"]

#: The methods of :func:`nmfkit.select_rank` (kept here: no import for --help).
METHODS = ("cv", "consensus")


def parse_ranks(text):
    """Ranks from ``"2-10"``, ``"2,4,8"`` or a mix (``"2-4,8"``), sorted.

    Raises
    ------
    argparse.ArgumentTypeError
        With a message naming the bad part.
    """
    ranks = set()
    for part in str(text).split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a rank or a range of ranks; write e.g. 2-10 or 2,3,5"
            ) from None
        if first < 1:
            raise argparse.ArgumentTypeError(f"rank {first} is not >= 1")
        if last < first:
            raise argparse.ArgumentTypeError(
                f"the range {part} is empty; write the smaller rank first"
            )
        ranks.update(range(first, last + 1))
    return sorted(ranks)


def _methods(text):
    methods = tuple(m.strip() for m in str(text).split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; give cv, consensus or cv,consensus"
        )
    return tuple(dict.fromkeys(methods))


def _at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is not >= {minimum}")
        return value

    return parse


def add_parser(subparsers):
    """Register ``rank`` and return its parser."""
    parser = add_command(
        subparsers,
        "rank",
        help="score candidate ranks of a matrix file and choose one",
        description="Fit every candidate rank of an NMF of a non-negative matrix "
        "file and choose one: by cross-validation on held-out entries "
        "(one-standard-error rule) and/or by the stability of the clusters over "
        "restarts (cophenetic correlation, dispersion). Prints the table and the "
        "chosen rank; writes rank.csv, rank.json and, with --report, report.html.",
    )
    add_matrix_options(parser)
    parser.add_argument(
        "--ranks",
        type=parse_ranks,
        required=True,
        help="candidate ranks: a range 2-10, a list 2,4,8 or both (2-5,8)",
    )
    parser.add_argument(
        "--method",
        type=_methods,
        default=("cv",),
        help="cv, consensus or cv,consensus; the first chooses the rank",
    )
    parser.add_argument(
        "--folds", type=_at_least(2), default=5, help="folds of entries for cv"
    )
    parser.add_argument(
        "--runs",
        type=_at_least(1),
        default=10,
        help="restarts per rank for consensus",
    )
    group = add_model_options(parser, RANK_DEFAULTS)
    group.add_argument(
        "--n-init",
        type=_at_least(1),
        default=1,
        help="fits per fold and per consensus run, the best kept",
    )
    add_output_options(parser, default_dir="INPUT's name + '-rank'")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run ``nmfkit rank``; return the exit code."""
    from ..apps._table import format_table

    if args.missing:
        raise CommandError(
            "--missing is not available for nmfkit rank (its cross-validation "
            "hides entries itself); fill the missing entries or use nmfkit fit"
        )
    params = model_params(args, RANK_DEFAULTS)
    source = Path(args.input)
    folder = output_folder(args, source.with_name(source.stem + "-rank"))
    stages = len(args.ranks) + 1
    with open_outputs(args, folder, "rank", stages=stages) as (outputs, progress):
        from ..apps._rank import select_matrix_rank, write_rank_outputs

        progress.step("reading the matrix")
        X = load_table(args).data
        if args.ranks[-1] > min(X.shape):
            raise CommandError(
                f"--ranks: rank {args.ranks[-1]} is larger than the data allow "
                f"({X.shape[0]} x {X.shape[1]}); give ranks up to {min(X.shape)}"
            )
        if "cv" in args.method and args.folds > X.shape[1]:
            raise CommandError(
                f"--folds {args.folds} is more than the {X.shape[1]} columns; "
                f"give --folds {X.shape[1]} or less"
            )
        result = select_matrix_rank(
            X,
            args.ranks,
            methods=args.method,
            folds=args.folds,
            runs=args.runs,
            progress=progress,
            n_init=args.n_init,
            **params,
        )
        summary = write_rank_outputs(
            outputs, X, result, source=source, report=args.report
        )
    selection = result.selection
    rows = summary["table"]
    header = list(rows[0])
    print_lines(
        format_table(
            header,
            [
                [
                    f"{row['rank']}*"
                    if row["rank"] == selection.best_rank
                    else row["rank"],
                    *(row[name] for name in header[1:]),
                ]
                for row in rows
            ],
            title=f"rank {X.shape[0]} x {X.shape[1]} (* the chosen rank)",
        ),
        f"chosen rank: {selection.best_rank} ("
        + ", ".join(f"{m}: {r}" for m, r in selection.best_rank_by.items())
        + f"); {result.seconds:.1f} s",
    )
    warn(args, result.notes)
    return finish(folder, summary["files"])
