"""``nmfkit ratings``: fit a ratings file, report held-out errors, recommend.

Reads ratings as CSV (``user,item,rating``, an optional header line, extra
columns ignored) or in MovieLens' own format (``user<TAB>item<TAB>rating
<TAB>timestamp``, as in ``u.data``). Users and items are any labels. The
held-out ratings come from ``--test`` or a random ``--test-fraction`` of the
file. The model is :class:`nmfkit.NMF` with ``sparse_unobserved="missing"``:
it fits the observed ratings only, and predictions are
``inverse_transform`` entries, clipped to the range of the training ratings.
A test rating whose user or item has no training rating is predicted from
what the model has (its offsets, or 0 before clipping) and counted in the
report.
"""

from __future__ import annotations

import csv
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["add_parser", "run"]


class RatingsInputError(ValueError):
    """Bad input to ``nmfkit ratings``: reported in one line, exit code 2."""


def add_parser(subparsers):
    """Register the ``ratings`` command on an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "ratings",
        help="fit a ratings file, report held-out RMSE/MAE and recommend items",
        description=(
            "Fit non-negative matrix factorization to the observed ratings only, "
            "report RMSE and MAE on held-out ratings and print a user's top "
            "unseen items."
        ),
    )
    p.add_argument("ratings", help="ratings file: CSV user,item,rating or MovieLens")
    p.add_argument(
        "--format",
        choices=("auto", "csv", "movielens"),
        default="auto",
        help="file format (auto: tab-separated means MovieLens)",
    )
    p.add_argument("--test", help="held-out ratings file, same format")
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share held out at random when --test is not given",
    )
    p.add_argument(
        "--titles",
        help="item titles: MovieLens u.item or CSV item,title "
        "(default: u.item beside a MovieLens file)",
    )
    p.add_argument("--rank", type=int, default=3)
    p.add_argument(
        "--l2", type=float, default=4.0, help="L2 penalty on W and H (l2_W = l2_H)"
    )
    p.add_argument(
        "--no-bias",
        dest="bias",
        action="store_false",
        help="pure NMF, without the user and item offset components",
    )
    p.add_argument("--solver", choices=("hals", "mu"), default="hals")
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--user", help="user to recommend items to (as in the file)")
    p.add_argument("--top", type=int, default=10, help="number of items to print")
    p.set_defaults(func=run)
    return p


# ---------------------------------------------------------------- reading
def _detect_format(path, fmt):
    if fmt != "auto":
        return fmt
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    return "movielens" if "\t" in first else "csv"


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_ratings(path, fmt="auto"):
    """Read (users, items, ratings) from a CSV or MovieLens ratings file.

    Returns
    -------
    users, items : list of str
    ratings : ndarray of float64
    """
    path = Path(path)
    if not path.is_file():
        raise RatingsInputError(f"ratings file {path} does not exist")
    fmt = _detect_format(path, fmt)
    users, items, values = [], [], []
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter="\t" if fmt == "movielens" else ",")
        for line_no, row in enumerate(reader, start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise RatingsInputError(
                    f"{path}, line {line_no}: expected user, item, rating; got "
                    f"{len(row)} field(s)"
                )
            user, item, rating = (field.strip() for field in row[:3])
            if not _is_number(rating):
                if line_no == 1 and fmt == "csv":
                    continue  # header
                raise RatingsInputError(
                    f"{path}, line {line_no}: rating {rating!r} is not a number"
                )
            value = float(rating)
            if not np.isfinite(value) or value < 0:
                raise RatingsInputError(
                    f"{path}, line {line_no}: rating {rating} is not a finite "
                    "non-negative number; NMF needs non-negative ratings"
                )
            users.append(user)
            items.append(item)
            values.append(value)
    if not values:
        raise RatingsInputError(f"{path} holds no ratings")
    return users, items, np.asarray(values)


def read_titles(path):
    """Item titles from MovieLens ``u.item`` (``|``-separated) or CSV item,title."""
    path = Path(path)
    if not path.is_file():
        raise RatingsInputError(f"titles file {path} does not exist")
    titles = {}
    with open(path, encoding="latin-1", newline="") as f:
        first = f.readline()
        f.seek(0)
        delimiter = "|" if "|" in first else ","
        for row in csv.reader(f, delimiter=delimiter):
            if len(row) >= 2:
                titles[row[0].strip()] = row[1].strip()
    return titles


# ---------------------------------------------------------------- the command
def _fit(args, train, test, rng):
    from sklearn.exceptions import ConvergenceWarning

    from . import NMF
    from ._validation import UnobservedWarning

    users_tr, items_tr, y_tr = train
    users_te, items_te, y_te = test
    user_ids = {u: k for k, u in enumerate(dict.fromkeys(users_tr + users_te))}
    item_ids = {i: k for k, i in enumerate(dict.fromkeys(items_tr + items_te))}
    rows = np.array([user_ids[u] for u in users_tr])
    cols = np.array([item_ids[i] for i in items_tr])
    X = sp.csr_matrix((y_tr, (rows, cols)), shape=(len(user_ids), len(item_ids)))
    if X.nnz != len(y_tr):
        raise RatingsInputError(
            "the training ratings hold the same (user, item) pair more than once"
        )
    model = NMF(
        args.rank,
        solver=args.solver,
        sparse_unobserved="missing",
        bias=args.bias,
        l2_W=args.l2,
        l2_H=args.l2,
        max_iter=args.max_iter,
        tol=1e-5,
        init="random",
        random_state=args.seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnobservedWarning)  # test-only users/items
        warnings.simplefilter("ignore", ConvergenceWarning)  # iterations reported
        W = model.fit_transform(X)
    seconds = time.perf_counter() - start
    return model, W, X, user_ids, item_ids, seconds


def run(args):
    """Run ``nmfkit ratings``; return the exit code."""
    try:
        return _run(args)
    except (RatingsInputError, ValueError) as exc:
        message = " ".join(str(exc).split())
        print(f"nmfkit ratings: error: {message}", file=sys.stderr)
        return 2


def _run(args):
    if args.rank < 1:
        raise RatingsInputError(f"--rank must be at least 1, got {args.rank}")
    if args.max_iter < 1:
        raise RatingsInputError(f"--max-iter must be at least 1, got {args.max_iter}")
    if args.top < 0:
        raise RatingsInputError(f"--top must be non-negative, got {args.top}")
    rng = np.random.default_rng(args.seed)
    users, items, values = read_ratings(args.ratings, args.format)
    if args.test:
        train = (users, items, values)
        test = read_ratings(args.test, args.format)
    else:
        if not 0 < args.test_fraction < 1:
            raise RatingsInputError(
                f"--test-fraction must be in (0, 1), got {args.test_fraction}"
            )
        held = rng.random(len(values)) < args.test_fraction
        users_a, items_a = np.asarray(users), np.asarray(items)
        train = (users_a[~held].tolist(), items_a[~held].tolist(), values[~held])
        test = (users_a[held].tolist(), items_a[held].tolist(), values[held])
        if not len(test[2]) or not len(train[2]):
            raise RatingsInputError(
                "too few ratings to hold some out; give more ratings or --test"
            )
    model, W, X, user_ids, item_ids, seconds = _fit(args, train, test, rng)
    low, high = float(train[2].min()), float(train[2].max())
    rows = np.array([user_ids[u] for u in test[0]])
    cols = np.array([item_ids[i] for i in test[1]])
    predictions = np.clip(model.predict_entries(W, rows, cols), low, high)
    errors = predictions - test[2]
    seen_users = np.diff(X.indptr) > 0
    seen_items = np.bincount(X.indices, minlength=X.shape[1]) > 0
    cold = int(np.count_nonzero(~(seen_users[rows] & seen_items[cols])))
    print(
        f"{len(train[2])} training ratings, {len(test[2])} held out; "
        f"{X.shape[0]} users x {X.shape[1]} items"
    )
    print(
        f"model: rank {args.rank}, l2 {args.l2:g}, "
        f"{'with' if args.bias else 'without'} user/item offsets, solver "
        f"{args.solver}, {model.n_iter_} iterations, {seconds:.2f} s"
    )
    rmse, mae = np.sqrt(np.mean(errors**2)), np.mean(np.abs(errors))
    print(f"held-out RMSE {rmse:.4f}  MAE {mae:.4f}")
    if cold:
        print(f"({cold} held-out ratings have a user or item without training ratings)")
    if args.user is not None:
        _recommend(args, model, W, X, user_ids, item_ids, low, high)
    return 0


def _recommend(args, model, W, X, user_ids, item_ids, low, high):
    if args.user not in user_ids:
        raise RatingsInputError(f"user {args.user!r} does not appear in the ratings")
    titles = {}
    if args.titles:
        titles = read_titles(args.titles)
    else:
        beside = Path(args.ratings).with_name("u.item")
        if beside.is_file():
            titles = read_titles(beside)
    u = user_ids[args.user]
    labels = list(item_ids)
    seen = set(X.indices[X.indptr[u] : X.indptr[u + 1]].tolist())
    candidates = np.array([j for j in range(len(labels)) if j not in seen], dtype=int)
    scores = model.predict_entries(W, np.full(candidates.size, u), candidates)
    order = np.argsort(-scores, kind="stable")[: args.top]
    print(f"top {len(order)} unseen items for user {args.user}:")
    for rank, k in enumerate(order, start=1):
        label = labels[candidates[k]]
        title = titles.get(label, "")
        score = float(np.clip(scores[k], low, high))
        print(f"{rank:3d}. {score:.2f}  {label}" + (f"  {title}" if title else ""))
