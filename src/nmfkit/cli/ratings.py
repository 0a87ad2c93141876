"""``nmfkit ratings``: choose a ratings model, score held-out ratings, recommend."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apps._defaults import RATINGS_CANDIDATES, RATINGS_DEFAULTS
from ._options import (
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    non_negative_float,
    non_negative_int,
    output_folder,
    positive_int,
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


def _open_fraction(text):
    value = _fraction(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1)")
    return value


def _candidates(text):
    return "candidates, one or more (the best on the validation split is kept); " + text


def add_parser(subparsers):
    """Register ``ratings`` and return its parser."""
    parser = add_command(
        subparsers,
        "ratings",
        help="choose a ratings model, score held-out ratings and recommend items",
        description="Fit the ratings model mean + user and item biases + "
        "non-negative tastes (RatingsNMF) to the observed ratings (user, item, "
        "rating[, timestamp] per line: CSV, TSV or MovieLens' own files; a header "
        "row is detected), its rank and penalties chosen on a validation split "
        "of the training ratings only; report RMSE and MAE on held-out ratings "
        "and recommend unseen items, each with the taste components that drive "
        "it and the items that load most on them. Writes model.npz, W and H "
        "(.npy, CSV by user and item), biases.csv, predictions.csv (the held-out "
        "pairs), recommendations.csv and .json (with titles and explanations) "
        "and ratings.json (what was chosen, and the scores).",
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
        "--rank",
        dest="n_components",
        nargs="+",
        type=positive_int,
        metavar="K",
        default=RATINGS_CANDIDATES["n_components"],
        help=_candidates("number of taste components"),
    )
    group.add_argument(
        "--l2-W",
        dest="l2_W",
        nargs="+",
        type=non_negative_float,
        metavar="WEIGHT",
        default=RATINGS_CANDIDATES["l2_W"],
        help=_candidates("squared-norm penalty of the user tastes W"),
    )
    group.add_argument(
        "--l2-H",
        dest="l2_H",
        nargs="+",
        type=non_negative_float,
        metavar="WEIGHT",
        default=None,
        help=_candidates("squared-norm penalty of the item tastes H (default: "
                         "equal to --l2-W's candidate)"),
    )  # fmt: skip
    group.add_argument(
        "--l2-bias",
        dest="l2_bias",
        nargs="+",
        type=non_negative_float,
        metavar="WEIGHT",
        default=RATINGS_CANDIDATES["l2_bias"],
        help=_candidates("squared-norm penalty of the user and item biases"),
    )
    group.add_argument(
        "--validation-fraction",
        type=_open_fraction,
        default=0.1,
        help="share of the training ratings held out to choose among the candidates",
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
    rec.add_argument(
        "--explain",
        type=non_negative_int,
        default=2,
        metavar="N",
        help="taste components listed per recommendation (those contributing most)",
    )
    rec.add_argument(
        "--top-items",
        type=positive_int,
        default=3,
        metavar="N",
        help="items listed per taste component (those loading most on it)",
    )
    rec.add_argument(
        "--min-item-ratings",
        type=non_negative_int,
        default=20,
        metavar="N",
        help="list only items with at least N training ratings as loading most "
        "on a component (all items when none has N)",
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


def _grid(args):
    """The candidates: every combination, l2_H tied to l2_W unless given."""
    grid = {"n_components": args.n_components, "l2_bias": args.l2_bias}
    if args.l2_H is not None:
        return {**grid, "l2_W": args.l2_W, "l2_H": args.l2_H}
    return [{**grid, "l2_W": [w], "l2_H": [w]} for w in dict.fromkeys(args.l2_W)]


def _explained(rec, position_width=3):
    lines = [
        f"{rec['position']:{position_width}d}. {rec['predicted_rating']:.2f}  "
        f"{rec['item']}"
        + (f"  {rec['title']}" if rec["title"] else "")
        + f"  (baseline {rec['baseline']:.2f}, tastes +{rec['taste']:.2f})"
    ]
    for c in rec["components"]:
        names = "; ".join(t["title"] or str(t["item"]) for t in c["top_items"])
        lines.append(
            f"{'':{position_width + 7}}taste {c['component']} +{c['contribution']:.2f}"
            f" ({c['share']:.0%}): {names}"
        )
    return lines


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
        result = fit_ratings(
            train,
            test,
            grid=_grid(args),
            params=params,
            validation_fraction=args.validation_fraction,
            progress=progress,
        )
        recommendations = recommend(
            result,
            users,
            args.top,
            titles=titles,
            n_components=args.explain,
            n_top_items=args.top_items,
            min_item_ratings=args.min_item_ratings,
        )
        summary = write_ratings_outputs(
            outputs,
            result,
            test,
            recommendations=recommendations,
            source=source,
            report=args.report,
        )
    chosen = ", ".join(f"{k}={v:g}" for k, v in sorted(summary["chosen"].items()))
    lines = [
        f"{summary['training_ratings']} training ratings, "
        f"{summary['held_out_ratings']} held out; {summary['users']} users x "
        f"{summary['items']} items",
        f"model: mean + user and item biases + non-negative tastes; chose {chosen} "
        f"(validation RMSE {summary['validation_rmse']:.4f} among "
        f"{len(summary['candidates'])} candidates, {summary['selection']}); "
        f"{summary['n_iter']} iterations, {summary['seconds']:.2f} s",
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
            mine = [r for r in recommendations if r["user"] == user]
            lines.append(f"top {len(mine)} unseen items for user {user}:")
            for rec in mine:
                lines += _explained(rec)
    print_lines(*lines)
    warn(args, result.notes)
    return finish(folder, summary["files"])
