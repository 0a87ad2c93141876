"""``nmfkit rank``: score candidate ranks of a matrix and choose one."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.utils import Bunch

from ._notes import collect_warnings

__all__ = ["RULES", "select_matrix_rank", "write_rank_outputs"]

#: How each method chooses, in words.
RULES = {
    "cv": "cv: the smallest rank whose mean held-out RMSE is within one standard "
    "error (over the folds) of the lowest mean.",
    "consensus": "consensus: the last rank before the cophenetic correlation first "
    "decreases (Brunet et al. 2004); at equal cophenetic correlation, a decrease "
    "of the dispersion counts.",
}


def select_matrix_rank(X, ranks, *, methods, folds, runs, progress, **params):
    """Run :func:`nmfkit.select_rank`; one progress step per rank.

    Returns
    -------
    result : Bunch
        ``selection`` (a :class:`~nmfkit.RankSelection`), ``seconds`` and
        ``notes`` (the warnings, one line each).
    """
    from sklearn.exceptions import ConvergenceWarning

    from .._rank import select_rank

    random_state = params.pop("random_state")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        selection = select_rank(
            X,
            ranks,
            method=methods,
            n_folds=folds,
            n_runs=runs,
            random_state=random_state,
            callback=lambda rank, _: progress.step(f"rank {rank} done"),
            **params,
        )
        seconds = time.perf_counter() - start
    # select_rank silences the ConvergenceWarning of its many fits and counts
    # them: one note, in the words of every command.
    notes = [n for n in [_unconverged_note(selection, params)] if n]
    notes += collect_warnings(caught, skip=(ConvergenceWarning,))
    return Bunch(
        selection=selection,
        seconds=seconds,
        notes=notes,
        settings=dict(params, random_state=random_state, folds=folds, runs=runs),
    )


def _unconverged_note(selection, params):
    """The shared convergence warning for the fits that hit ``max_iter``."""
    from ._notes import convergence_note

    if not selection.unconverged:
        return None
    stopped = sum(n for n, _ in selection.unconverged.values())
    fits = sum(m for _, m in selection.unconverged.values())
    ranks = ", ".join(map(str, selection.unconverged))
    plural = "s" if len(selection.unconverged) > 1 else ""
    label = f"{stopped} of the {fits} fits of rank{plural} {ranks}"
    max_iter = params.get("max_iter", 200)
    return convergence_note(label, max_iter, max_iter, params.get("tol", 1e-4))


def write_rank_outputs(outputs, X, result, *, source, report):
    """Write ``rank.csv``, ``rank.json`` and, with ``report``, ``report.html``."""
    selection = result.selection
    rows = selection.table()
    header = list(rows[0])
    outputs.write_rows_csv(
        "rank.csv",
        [*header, "chosen"],
        [
            [*(row[name] for name in header), row["rank"] == selection.best_rank]
            for row in rows
        ],
    )
    files = ["rank.csv", "rank.json"] + (["report.html"] if report else [])
    summary = {
        "input": str(source),
        "shape": list(X.shape),
        "methods": list(selection.methods),
        "parameters": {"ranks": list(selection.ranks), **result.settings},
        "best_rank": selection.best_rank,
        "best_rank_by": selection.best_rank_by,
        "table": rows,
        "cv_fold_rmse": {
            str(rank): np.asarray(scores["cv_fold_rmse"]).tolist()
            for rank, scores in selection.scores.items()
            if "cv_fold_rmse" in scores
        },
        "seconds": result.seconds,
        "warnings": result.notes,
        "files": files,
    }
    outputs.write_json("rank.json", summary)
    if report:
        _write_report(outputs, source, X, result, summary)
    return summary


def _write_report(outputs, source, X, result, summary):
    from ..plotting import plot_consensus_maps, plot_rank_scores
    from ..report import Report
    from ._sections import add_summary_files

    selection = result.selection
    report = Report("nmfkit: rank", subtitle=str(source))
    report.section("Data").definitions(
        {
            "file": str(source),
            "shape": f"{X.shape[0]} x {X.shape[1]}",
            "sparse": bool(hasattr(X, "nnz")),
        }
    )
    report.section("Parameters").definitions(
        {
            "ranks": ", ".join(map(str, selection.ranks)),
            "methods": ", ".join(selection.methods),
            **result.settings,
        }
    )
    results = report.section("Results")
    results.definitions(
        {
            "chosen rank": selection.best_rank,
            **{f"chosen by {m}": r for m, r in selection.best_rank_by.items()},
            "seconds": result.seconds,
            "warnings": "; ".join(result.notes) or "none",
        },
        key="choice",
    )
    rows = summary["table"]
    header = list(rows[0])
    results.table(
        [[row[name] for name in header] for row in rows],
        header=header,
        caption="Measures per rank",
        key="scores",
    )
    for method in selection.methods:
        results.text(RULES[method])
    add_summary_files(report, outputs, summary["files"])
    figures = report.section("Figures")
    figures.figure(
        plot_rank_scores(selection),
        caption="Measures against the rank (dashed: the chosen rank; error bars: "
        "one standard error over the folds)",
        key="rank-scores",
    )
    if selection.consensus:
        figures.figure(
            plot_consensus_maps(selection),
            caption="Consensus matrices, samples ordered by average-linkage clustering",
            key="consensus-maps",
        )
    report.write(outputs.path("report.html"))
