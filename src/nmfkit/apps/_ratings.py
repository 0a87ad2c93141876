"""``nmfkit ratings``: fit observed ratings, score held-out ones, recommend.

The model is :class:`nmfkit.NMF` with ``sparse_unobserved="missing"``: it
fits the observed ratings only. Predictions are entries of ``W H``, clipped
to the range of the training ratings. Users and items are any labels; the
matrix has a row for every user and a column for every item of the training
and the held-out ratings (an item seen only in the held-out ratings gets its
prediction from what the model has: its offsets, or 0 before clipping).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.utils import Bunch

from ._errors import CommandError
from ._notes import collect_warnings, convergence_note, rank_note
from ._results import component_names, init_that_ran, solver_that_ran, write_factors

__all__ = ["check_users", "fit_ratings", "split_ratings", "write_ratings_outputs"]

#: Users whose recommendations are computed at once (bounds the memory).
_BLOCK_VALUES = 1 << 22


def split_ratings(ratings, test, *, test_fraction, random_state):
    """The training and held-out ratings: ``test`` or a random share.

    ``test_fraction=0`` trains on every rating (nothing is scored).
    """
    if test is not None:
        return ratings, test
    users, items, values = ratings
    held = np.random.default_rng(random_state).random(len(values)) < test_fraction
    users_a, items_a = np.asarray(users, dtype=object), np.asarray(items, dtype=object)
    train = (users_a[~held].tolist(), items_a[~held].tolist(), values[~held])
    test = (users_a[held].tolist(), items_a[held].tolist(), values[held])
    if not len(train[2]):
        raise CommandError(
            "no rating is left for training; give a smaller --test-fraction"
        )
    if test_fraction > 0 and not len(test[2]):
        raise CommandError(
            "too few ratings to hold some out; give more ratings, --test, or "
            "--test-fraction 0 to train on all of them"
        )
    return train, test


def check_users(users, train, test):
    """Refuse users to recommend for that have no rating, before any fit."""
    known = set(train[0]) | set(test[0])
    unknown = [u for u in users if u not in known]
    if unknown:
        sample = ", ".join(repr(u) for u in list(dict.fromkeys(train[0]))[:5])
        raise CommandError(
            f"user {unknown[0]!r} does not appear in the ratings (users are labelled "
            f"as in the file, for example {sample})"
        )


def _matrix(train, test):
    import scipy.sparse as sp

    user_ids = {u: k for k, u in enumerate(dict.fromkeys(train[0] + test[0]))}
    item_ids = {i: k for k, i in enumerate(dict.fromkeys(train[1] + test[1]))}
    rows = np.array([user_ids[u] for u in train[0]], dtype=np.int64)
    cols = np.array([item_ids[i] for i in train[1]], dtype=np.int64)
    X = sp.csr_matrix((train[2], (rows, cols)), shape=(len(user_ids), len(item_ids)))
    if X.nnz != len(train[2]):
        raise CommandError(
            "the training ratings hold the same (user, item) pair more than once; "
            "keep one rating per pair"
        )
    return X, user_ids, item_ids


def fit_ratings(train, test, *, bias, progress, **params):
    """Fit the training ratings; predict the held-out ones.

    Returns
    -------
    result : Bunch
        ``model``, ``W``, ``X`` (the training matrix), ``user_labels`` and
        ``item_labels``
        (labels in matrix order), ``low``/``high`` (the clipping range),
        ``predictions`` (of the held-out ratings), ``rmse``/``mae`` (None
        without held-out ratings), ``cold`` (held-out ratings whose user or
        item has no training rating), ``seconds``, ``notes`` and ``summary``.
    """
    from sklearn.exceptions import ConvergenceWarning

    from .. import NMF
    from .._validation import UnobservedWarning
    from ..reliability._fit_runner import FitInterruptedWarning

    X, user_ids, item_ids = _matrix(train, test)
    model = NMF(sparse_unobserved="missing", bias=bias, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        with progress.watch(model, "ratings"):
            W = model.fit_transform(X)
        seconds = time.perf_counter() - start
    if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
        raise CommandError(
            f"interrupted at iteration {model.n_iter_}, nothing written", exit_code=130
        )
    note = convergence_note(
        "the fit", model.n_iter_, model.max_iter, model.tol, model.history_
    )
    notes = [n for n in (rank_note(params["n_components"], X.shape), note) if n]
    notes += collect_warnings(caught, skip=(ConvergenceWarning, UnobservedWarning))
    low, high = float(train[2].min()), float(train[2].max())
    rows = np.array([user_ids[u] for u in test[0]], dtype=np.int64)
    cols = np.array([item_ids[i] for i in test[1]], dtype=np.int64)
    predictions = np.clip(model.predict_entries(W, rows, cols), low, high)
    rmse = mae = None
    if len(predictions):
        errors = predictions - test[2]
        rmse = float(np.sqrt(np.mean(errors**2)))
        mae = float(np.mean(np.abs(errors)))
    seen_users = np.diff(X.indptr) > 0
    seen_items = np.bincount(X.indices, minlength=X.shape[1]) > 0
    cold = int(np.count_nonzero(~(seen_users[rows] & seen_items[cols])))
    summary = {
        "training_ratings": int(len(train[2])),
        "held_out_ratings": int(len(test[2])),
        "users": int(X.shape[0]),
        "items": int(X.shape[1]),
        "rank": int(params["n_components"]),
        "bias": bool(bias),
        "solver": solver_that_ran(model, X, masked=True),
        "init": init_that_ran(model, X.shape),
        "max_iter": int(model.max_iter),
        "tol": float(model.tol),
        "random_state": model.random_state,
        "penalties": {
            k: float(params.get(k, 0.0)) for k in ("l1_W", "l2_W", "l1_H", "l2_H")
        },
        "n_iter": int(model.n_iter_),
        "converged": note is None,
        "seconds": seconds,
        "rmse": rmse,
        "mae": mae,
        "cold_held_out": cold,
        "prediction_range": [low, high],
        "warnings": notes,
    }
    return Bunch(
        model=model,
        W=W,
        X=X,
        user_labels=list(user_ids),
        item_labels=list(item_ids),
        low=low,
        high=high,
        predictions=predictions,
        rmse=rmse,
        mae=mae,
        cold=cold,
        seconds=seconds,
        notes=notes,
        summary=summary,
    )


def recommend(result, users, top):
    """The ``top`` unseen items of each user, best first.

    Parameters
    ----------
    result : Bunch
        From :func:`fit_ratings`.
    users : list of str or None
        User labels; None for every user.
    top : int

    Returns
    -------
    rows : list of tuples
        ``(user, position, item, predicted rating)``, position from 1.
    """
    X, W, H = result.X, result.W, result.model.components_
    index = {u: k for k, u in enumerate(result.user_labels)}
    chosen = range(X.shape[0]) if users is None else [index[u] for u in users]
    chosen = np.asarray(list(chosen), dtype=np.int64)
    rows = []
    if top <= 0 or not len(chosen):
        return rows
    block = max(1, _BLOCK_VALUES // max(1, X.shape[1]))
    for start in range(0, len(chosen), block):
        part = chosen[start : start + block]
        scores = W[part] @ H
        seen = X[part]
        scores[
            np.repeat(np.arange(len(part)), np.diff(seen.indptr)), seen.indices
        ] = -np.inf
        k = min(top, X.shape[1])
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for r, u in enumerate(part):
            order = best[r][np.argsort(-scores[r, best[r]], kind="stable")]
            position = 0
            for j in order:
                if not np.isfinite(scores[r, j]):
                    break  # the user has seen every item
                position += 1
                value = float(np.clip(scores[r, j], result.low, result.high))
                rows.append(
                    (result.user_labels[u], position, result.item_labels[j], value)
                )
    return rows


def write_ratings_outputs(
    outputs, result, test, *, recommendations, titles, source, report
):
    """Write the model, W and H, predictions, recommendations, ratings.json."""
    model = result.model
    H = model.components_
    components = component_names(
        H.shape[0], offsets=("user_offset", "item_offset") if model.bias else None
    )
    write_factors(
        outputs,
        result.W,
        H,
        row_names=result.user_labels,
        column_names=result.item_labels,
        components=components,
        corner="user",
    )
    outputs.save_model("model.npz", model)
    files = ["model.npz", "W.npy", "H.npy", "W.csv", "H.csv"]
    if len(test[2]):
        outputs.write_rows_csv(
            "predictions.csv",
            ["user", "item", "rating", "prediction"],
            zip(
                test[0],
                test[1],
                test[2].tolist(),
                result.predictions.tolist(),
                strict=True,
            ),
        )
        files.append("predictions.csv")
    outputs.write_rows_csv(
        "recommendations.csv",
        ["user", "position", "item", "title", "predicted_rating"],
        [(u, k, i, titles.get(i, ""), v) for u, k, i, v in recommendations],
    )
    files += ["recommendations.csv", "ratings.json"]
    if report:
        files.append("report.html")
    summary = {"input": str(source), **result.summary, "files": files}
    outputs.write_json("ratings.json", summary)
    if report:
        _write_report(outputs, source, result, recommendations, titles, summary)
    return summary


def _write_report(outputs, source, result, recommendations, titles, summary):
    from ..plotting import plot_convergence
    from ..report import Report
    from ._sections import add_summary_files

    report = Report("nmfkit: ratings", subtitle=str(source))
    report.section("Data").definitions(
        {
            "file": str(source),
            "users": summary["users"],
            "items": summary["items"],
            "training ratings": summary["training_ratings"],
            "held-out ratings": summary["held_out_ratings"],
        }
    )
    report.section("Parameters").definitions(
        {
            "rank": summary["rank"],
            "user and item offsets": summary["bias"],
            "solver": summary["solver"],
            "init": summary["init"],
            "max_iter": summary["max_iter"],
            "tol": summary["tol"],
            "random_state": summary["random_state"],
            **summary["penalties"],
        }
    )
    results = report.section("Results")
    measures = {
        "iterations": summary["n_iter"],
        "seconds": summary["seconds"],
        "warnings": "; ".join(result.notes) or "none",
    }
    if result.rmse is not None:
        measures = {
            "held-out RMSE": result.rmse,
            "held-out MAE": result.mae,
            **measures,
        }
    results.definitions(measures)
    results.table(
        [(u, k, i, titles.get(i, ""), v) for u, k, i, v in recommendations[:50]],
        header=("user", "position", "item", "title", "predicted rating"),
        caption="Recommendations (the first 50 rows of recommendations.csv)",
        key="recommendations",
    )
    add_summary_files(report, outputs, summary["files"])
    figures = report.section("Figures")
    figures.figure(
        plot_convergence({"nmfkit": result.model.history_}),
        caption="Objective against iterations and seconds",
        key="convergence",
    )
    report.write(outputs.path("report.html"))
