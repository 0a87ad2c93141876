"""``nmfkit ratings``: choose a ratings model, score held-out ratings, recommend.

The model is :class:`nmfkit.recommend.RatingsNMF` (mean + signed user and
item biases + non-negative tastes), its rank and penalties chosen by
:func:`nmfkit.recommend.select_ratings_model` on a validation split of the
training ratings only (the held-out ratings are never seen before they are
scored). Users and items are any labels; the model has a row for every user
and a column for every item of the training and the held-out ratings (a
user or item seen only in the held-out ratings is predicted by the mean plus
the known bias of the other side). Each recommendation comes with the taste
components that drive it and the items that load most on each
(:func:`nmfkit.recommend.recommend_with_explanations`).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.utils import Bunch

from ._errors import CommandError
from ._notes import collect_warnings, convergence_note

__all__ = [
    "check_users",
    "fit_ratings",
    "recommend",
    "split_ratings",
    "write_ratings_outputs",
]


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


def _indices(train, test):
    """Label -> index maps, and the training (user, item) pairs."""
    user_ids = {u: k for k, u in enumerate(dict.fromkeys(train[0] + test[0]))}
    item_ids = {i: k for k, i in enumerate(dict.fromkeys(train[1] + test[1]))}
    pairs = np.column_stack(
        [
            np.array([user_ids[u] for u in train[0]], dtype=np.int64),
            np.array([item_ids[i] for i in train[1]], dtype=np.int64),
        ]
    )
    key = pairs[:, 0] * len(item_ids) + pairs[:, 1]
    if np.unique(key).size != key.size:
        raise CommandError(
            "the training ratings hold the same (user, item) pair more than once; "
            "keep one rating per pair"
        )
    return pairs, user_ids, item_ids


def fit_ratings(train, test, *, grid, params, validation_fraction, progress):
    """Choose the model on the training ratings; predict the held-out ones.

    Parameters
    ----------
    train, test : tuple
        ``(users, items, ratings)``: label lists and a float array.
    grid : dict
        Candidate values of RatingsNMF parameters (lists), for
        :func:`~nmfkit.recommend.select_ratings_model`.
    params : dict
        The other RatingsNMF parameters (fixed).
    validation_fraction : float
        Share of the training ratings held out to score the candidates.
    progress : Progress
        Shows the final fit.

    Returns
    -------
    result : Bunch
        ``model`` (refitted on all the training ratings), ``selection``,
        ``user_labels`` and ``item_labels`` (labels in model order),
        ``predictions`` (of the held-out ratings), ``rmse``/``mae`` (None
        without held-out ratings), ``cold`` (held-out ratings whose user or
        item has no training rating), ``seconds``, ``notes`` and ``summary``.
    """
    from sklearn.exceptions import ConvergenceWarning

    from ..recommend import RatingsNMF, select_ratings_model

    pairs, user_ids, item_ids = _indices(train, test)
    if len(train[2]) < 2:
        raise CommandError(
            "at least 2 training ratings are needed to hold some out for "
            "choosing the model; give more ratings"
        )
    base = RatingsNMF(**params, n_users=len(user_ids), n_items=len(item_ids))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        with progress.watch(base, "ratings"):
            selection = select_ratings_model(
                base,
                grid,
                pairs,
                train[2],
                validation_fraction=validation_fraction,
                random_state=params["random_state"],
            )
        seconds = time.perf_counter() - start
    model = selection.model
    notes = collect_warnings(caught, skip=(ConvergenceWarning,))
    note = convergence_note(
        "the fit", model.n_iter_, model.max_iter, model.tol, model.history_
    )
    if note:
        notes.insert(0, note)
    rows = np.array([user_ids[u] for u in test[0]], dtype=np.int64)
    cols = np.array([item_ids[i] for i in test[1]], dtype=np.int64)
    predictions = model.predict(rows, cols) if len(rows) else np.zeros(0)
    rmse = mae = None
    if len(predictions):
        errors = predictions - test[2]
        rmse = float(np.sqrt(np.mean(errors**2)))
        mae = float(np.mean(np.abs(errors)))
    cold = int(
        np.count_nonzero(
            (model.user_counts_[rows] == 0) | (model.item_counts_[cols] == 0)
        )
    )
    low, high = (float(v) for v in model.rating_range_)
    summary = {
        "training_ratings": int(len(train[2])),
        "held_out_ratings": int(len(test[2])),
        "users": len(user_ids),
        "items": len(item_ids),
        "model": "RatingsNMF: mean + user and item biases + non-negative tastes",
        "chosen": {k: _plain(v) for k, v in selection.best_params.items()},
        "validation_rmse": float(selection.best_rmse),
        "selection": selection.method,
        "candidates": [
            {k: _plain(v) for k, v in row.items()} for row in selection.results
        ],
        "rank": int(model.n_components_),
        "penalties": {
            k: float(getattr(model, k))
            for k in ("l1_W", "l2_W", "l1_H", "l2_H", "l2_bias")
        },
        "penalty_weighting": model.penalty_weighting,
        "max_iter": int(model.max_iter),
        "tol": float(model.tol),
        "random_state": model.random_state,
        "n_iter": int(model.n_iter_),
        "global_mean": float(model.global_mean_),
        "seconds": seconds,
        "rmse": rmse,
        "mae": mae,
        "cold_held_out": cold,
        "prediction_range": [low, high],
        "warnings": notes,
    }
    return Bunch(
        model=model,
        selection=selection,
        user_labels=list(user_ids),
        item_labels=list(item_ids),
        predictions=predictions,
        rmse=rmse,
        mae=mae,
        cold=cold,
        seconds=seconds,
        notes=notes,
        summary=summary,
    )


def _plain(value):
    """A NumPy scalar as the Python number it holds (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def recommend(
    result, users, top, *, titles, n_components=2, n_top_items=3, min_item_ratings=0
):
    """The ``top`` unseen items of each user, best first, with their tastes.

    Parameters
    ----------
    result : Bunch
        From :func:`fit_ratings`.
    users : list of str or None
        User labels; None for every user.
    top : int
    titles : dict
        Item label -> title (may be empty).
    n_components, n_top_items, min_item_ratings : int
        Components listed per recommendation, items listed per component and
        the training ratings an item needs to be listed there.

    Returns
    -------
    recommendations : list of dict
        One per recommendation: ``user``, ``position`` (from 1), ``item``,
        ``title``, ``predicted_rating``, ``baseline``, ``taste`` and
        ``components`` (each ``component``, ``contribution``, ``share`` and
        ``top_items``: ``item``, ``title``, ``loading``), labels as in the
        ratings file.
    """
    from ..recommend import recommend_with_explanations

    labels = result.item_labels
    index = {u: k for k, u in enumerate(result.user_labels)}
    chosen = result.user_labels if users is None else users
    out = []
    if top <= 0:
        return out
    for user in chosen:
        recs = recommend_with_explanations(
            result.model,
            index[user],
            top,
            n_components=n_components,
            n_top_items=n_top_items,
            min_item_ratings=min_item_ratings,
        )
        for position, rec in enumerate(recs, start=1):
            item = labels[rec["item"]]
            components = [
                {
                    "component": c["component"],
                    "contribution": c["contribution"],
                    "share": c["share"],
                    "top_items": [
                        {
                            "item": labels[t["item"]],
                            "title": titles.get(labels[t["item"]], ""),
                            "loading": t["loading"],
                        }
                        for t in c["top_items"]
                    ],
                }
                for c in rec["components"]
            ]
            out.append(
                {
                    "user": user,
                    "position": position,
                    "item": item,
                    "title": titles.get(item, ""),
                    "predicted_rating": rec["predicted_rating"],
                    "baseline": rec["baseline"],
                    "taste": rec["taste"],
                    "components": components,
                }
            )
    return out


def _drivers(rec):
    """One line: each driving component, its contribution, its top items."""
    parts = []
    for c in rec["components"]:
        names = "; ".join(t["title"] or str(t["item"]) for t in c["top_items"])
        parts.append(f"taste {c['component']} (+{c['contribution']:.2f}: {names})")
    return " | ".join(parts)


def write_ratings_outputs(outputs, result, test, *, recommendations, source, report):
    """Write the model, W and H, predictions, recommendations, ratings.json."""
    model = result.model
    components = [f"taste_{k}" for k in range(model.n_components_)]
    from ._results import write_factors

    write_factors(
        outputs,
        model.user_factors_,
        model.components_,
        row_names=result.user_labels,
        column_names=result.item_labels,
        components=components,
        corner="user",
    )
    outputs.write_rows_csv(
        "biases.csv",
        ["kind", "label", "bias"],
        [("mean", "", model.global_mean_)]
        + [
            ("user", u, b)
            for u, b in zip(result.user_labels, model.user_bias_.tolist(), strict=True)
        ]
        + [
            ("item", i, b)
            for i, b in zip(result.item_labels, model.item_bias_.tolist(), strict=True)
        ],
    )
    outputs.save_model("model.npz", model)
    files = ["model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "biases.csv"]
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
        [
            "user", "position", "item", "title", "predicted_rating", "baseline",
            "taste", "drivers",
        ],
        [
            (
                r["user"], r["position"], r["item"], r["title"], r["predicted_rating"],
                r["baseline"], r["taste"], _drivers(r),
            )
            for r in recommendations
        ],
    )  # fmt: skip
    outputs.write_json("recommendations.json", recommendations)
    files += ["recommendations.csv", "recommendations.json", "ratings.json"]
    if report:
        files.append("report.html")
    summary = {"input": str(source), **result.summary, "files": files}
    outputs.write_json("ratings.json", summary)
    if report:
        _write_report(outputs, source, result, recommendations, summary)
    return summary


def _write_report(outputs, source, result, recommendations, summary):
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
    report.section("Model").definitions(
        {
            "model": summary["model"],
            "chosen": ", ".join(f"{k}={v}" for k, v in summary["chosen"].items()),
            "validation RMSE": summary["validation_rmse"],
            "chosen on": summary["selection"],
            "candidates": len(summary["candidates"]),
            "max_iter": summary["max_iter"],
            "tol": summary["tol"],
            "random_state": summary["random_state"],
            **summary["penalties"],
        }
    )
    results = report.section("Results")
    measures = {
        "iterations": summary["n_iter"],
        "seconds (selection and final fit)": summary["seconds"],
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
        [
            (r["user"], r["position"], r["item"], r["title"], r["predicted_rating"],
             _drivers(r))
            for r in recommendations[:50]
        ],
        header=("user", "position", "item", "title", "predicted rating", "drivers"),
        caption="Recommendations and the tastes that drive them (the first 50 "
        "rows of recommendations.csv)",
        key="recommendations",
    )  # fmt: skip
    add_summary_files(report, outputs, summary["files"])
    figures = report.section("Figures")
    figures.figure(
        plot_convergence({"nmfkit": result.model.history_}),
        caption="Objective of the final fit against iterations and seconds",
        key="convergence",
    )
    report.write(outputs.path("report.html"))
