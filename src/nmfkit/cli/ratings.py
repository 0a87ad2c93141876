"""``nmfkit ratings``: fit a ratings file, score held-out ratings, recommend."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apps._defaults import RATINGS_DEFAULTS
from ._options import (
    Switch,
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    non_negative_int,
    output_folder,
)
from ._shared import finish, open_outputs, print_lines, warn

__all__ = ["add_parser", "run"]


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1)")
    return value


def add_parser(subparsers):
    """Register ``ratings`` and return its parser."""
    parser = add_command(
        subparsers,
        "ratings",
        help="fit a ratings file, score held-out ratings and recommend items",
        description="Fit non-negative matrix factorization to the observed "
        "ratings only (user, item, rating[, timestamp] per line: CSV, TSV or "
        "MovieLens' own files; a header row is detected), report RMSE and MAE on "
        "held-out ratings and recommend unseen items. Writes model.npz, W and H "
        "(.npy, CSV by user and item), predictions.csv (the held-out pairs), "
        "recommendations.csv (with titles) and ratings.json.",
    )
    parser.add_argument(
        "ratings", help="ratings file: user, item, rating[, timestamp] per line"
    )
    data = parser.add_argument_group("data")
    data.add_argument("--test", help="held-out ratings file, same layout")
    data.add_argument(
        "--test-fraction",
        type=_fraction,
        default=0.2,
        help="share held out at random when --test is not given (0: train on all)",
    )
    data.add_argument(
        "--titles",
        help="item titles: MovieLens u.item or CSV item,title (default: u.item "
        "beside the ratings file, if there is one)",
    )
    group = add_model_options(parser, RATINGS_DEFAULTS)
    group.add_argument(
        "--bias",
        action=Switch,
        default=True,
        help="add learned user and item offset components to the model",
    )
    rec = parser.add_argument_group("recommendations")
    rec.add_argument(
        "--user",
        action="append",
        help="user to recommend items to, as in the file (repeat for several; "
        "default: every user)",
    )
    rec.add_argument(
        "--top",
        type=non_negative_int,
        default=10,
        help="unseen items recommended per user (0: none)",
    )
    add_output_options(parser, default_dir="RATINGS's name + '-ratings'")
    parser.set_defaults(func=run)
    return parser


def _titles(args):
    from ..datasets._ratings import read_titles

    if args.titles:
        return read_titles(args.titles)
    beside = Path(args.ratings).with_name("u.item")
    return read_titles(beside) if beside.is_file() else {}


def run(args):
    """Run ``nmfkit ratings``; return the exit code."""
    params = model_params(args, RATINGS_DEFAULTS)
    source = Path(args.ratings)
    folder = output_folder(args, source.with_name(source.stem + "-ratings"))
    with open_outputs(args, folder, "ratings") as (outputs, progress):
        from ..apps._ratings import (
            check_users,
            fit_ratings,
            recommend,
            split_ratings,
            write_ratings_outputs,
        )
        from ..datasets._ratings import read_ratings

        ratings = read_ratings(args.ratings)
        test = read_ratings(args.test) if args.test else None
        titles = _titles(args)
        train, test = split_ratings(
            ratings,
            test,
            test_fraction=args.test_fraction,
            random_state=params["random_state"],
        )
        users = list(dict.fromkeys(args.user)) if args.user else None
        check_users(users or [], train, test)
        result = fit_ratings(train, test, bias=args.bias, progress=progress, **params)
        recommendations = recommend(result, users, args.top)
        summary = write_ratings_outputs(
            outputs,
            result,
            test,
            recommendations=recommendations,
            titles=titles,
            source=source,
            report=args.report,
        )
    lines = [
        f"{summary['training_ratings']} training ratings, "
        f"{summary['held_out_ratings']} held out; {summary['users']} users x "
        f"{summary['items']} items",
        f"model: rank {summary['rank']}, "
        f"{'with' if args.bias else 'without'} user/item offsets, "
        f"{summary['solver']}, init {summary['init']}, {summary['n_iter']} "
        f"iterations, {summary['seconds']:.2f} s",
    ]
    if result.rmse is not None:
        lines.append(f"held-out RMSE {result.rmse:.4f}  MAE {result.mae:.4f}")
        if result.cold:
            lines.append(
                f"({result.cold} held-out ratings have a user or item without "
                "training ratings)"
            )
    if users:
        for user in users:
            mine = [r for r in recommendations if r[0] == user]
            lines.append(f"top {len(mine)} unseen items for user {user}:")
            for _, position, item, value in mine:
                title = titles.get(item, "")
                lines.append(
                    f"{position:3d}. {value:.2f}  {item}"
                    + (f"  {title}" if title else "")
                )
    print_lines(*lines)
    warn(args, result.notes)
    return finish(folder, summary["files"])
