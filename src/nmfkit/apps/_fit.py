"""``nmfkit fit``: factorize a matrix file and hand over the model and its factors."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.utils import Bunch

from ._errors import CommandError
from ._notes import collect_warnings, convergence_note, data_fit, rank_note
from ._results import component_names, init_that_ran, solver_that_ran, write_factors

__all__ = ["fit_matrix", "write_fit_outputs"]


def fit_matrix(table, *, progress, missing=False, **params):
    """Fit :class:`nmfkit.NMF` to ``table.data``.

    Parameters
    ----------
    table : Bunch
        From :func:`nmfkit.datasets.read_matrix`.
    progress : Progress
        Shows the iterations of fits longer than a second.
    missing : bool, default=False
        Fit only the observed entries (NaN are missing).
    **params
        Parameters of :class:`nmfkit.NMF`.

    Returns
    -------
    result : Bunch
        ``model``, ``W``, ``seconds``, ``notes`` (warnings, one line each:
        the rank, the convergence) and ``summary`` (for ``fit.json``).

    Raises
    ------
    CommandError
        With exit code 130 when the fit was interrupted (Ctrl-C).
    """
    from sklearn.exceptions import ConvergenceWarning

    from .. import NMF
    from .._objective import beta_to_float, reconstruction_error
    from ..reliability._fit_runner import FitInterruptedWarning

    X = table.data
    rank, init = params["n_components"], params.get("init")
    if init is not None and init.startswith("nndsvd") and rank > min(X.shape):
        raise CommandError(
            f"--init {init} needs --rank {min(X.shape)} or less for this "
            f"{X.shape[0]} x {X.shape[1]} matrix; give --init random (or auto)"
        )
    notes = [n for n in [rank_note(rank, X.shape)] if n]
    model = NMF(**params, **({"missing_values": np.nan} if missing else {}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        with progress.watch(model, "fit"):
            W = model.fit_transform(X)
        seconds = time.perf_counter() - start
    if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
        where = (
            f"; run the same command again to resume from {model.checkpoint}"
            if model.checkpoint
            else "; give --checkpoint to make a long fit resumable"
        )
        raise CommandError(
            f"interrupted at iteration {model.n_iter_}, nothing written{where}",
            exit_code=130,
        )
    note = convergence_note(
        "the fit", model.n_iter_, model.max_iter, model.tol, model.history_
    )
    notes += [note] if note else []
    notes += collect_warnings(caught, skip=(ConvergenceWarning,))
    beta = beta_to_float(model.beta_loss)
    name, value = data_fit(beta, model.reconstruction_err_)
    measures = {"objective": float(model.loss_), name: value}
    if beta != 2:
        if missing:
            from .._objective import masked_reconstruction_error
            from .._validation import check_data

            observed = check_data(X, partially_observed=True, missing_values=np.nan)
            frobenius = masked_reconstruction_error(observed, W, model.components_)
        else:
            frobenius = reconstruction_error(X, W, model.components_)
        measures["||X - WH||_F"] = float(frobenius)
    masked = bool(missing)
    summary = {
        "shape": list(X.shape),
        "missing_entries": int(table.n_missing),
        "rank": int(params["n_components"]),
        "beta_loss": model.beta_loss,
        "solver": solver_that_ran(model, X, masked=masked),
        "solver_requested": model.solver,
        "init": init_that_ran(model, X.shape),
        "init_requested": "auto" if model.init is None else model.init,
        "max_iter": int(model.max_iter),
        "tol": float(model.tol),
        "random_state": model.random_state,
        "penalties": {k: float(params.get(k, 0.0)) for k in PENALTIES},
        "n_iter": int(model.n_iter_),
        "converged": note is None,
        "seconds": seconds,
        "measures": measures,
        "warnings": notes,
    }
    return Bunch(model=model, W=W, seconds=seconds, notes=notes, summary=summary)


PENALTIES = ("l1_W", "l2_W", "l1_H", "l2_H")


def write_fit_outputs(outputs, table, result, *, source, report):
    """Write the model, W and H (``.npy``, CSV), ``fit.json`` and the report."""
    model, W = result.model, result.W
    H = model.components_
    n, p = table.data.shape
    components = component_names(H.shape[0])
    write_factors(
        outputs,
        W,
        H,
        row_names=table.row_names or [str(i) for i in range(n)],
        column_names=table.column_names or [str(j) for j in range(p)],
        components=components,
        corner="row",
    )
    outputs.save_model("model.npz", model)
    files = ["model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "fit.json"]
    if report:
        files.append("report.html")
    summary = {"input": str(source), **result.summary, "files": files}
    outputs.write_json("fit.json", summary)
    if report:
        _write_report(outputs, source, table, result, summary)
    return summary


def _write_report(outputs, source, table, result, summary):
    from ..report import Report
    from ._sections import FILE_DESCRIPTIONS, add_fit_sections

    report = Report("nmfkit: fit", subtitle=str(source))
    files = [
        (outputs.written_path(name), FILE_DESCRIPTIONS[name])
        for name in summary["files"]
        if name in FILE_DESCRIPTIONS
    ]
    add_fit_sections(
        report,
        table.data,
        result.W,
        result.model,
        source=source,
        seconds=result.seconds,
        notes=result.notes,
        ran={"solver": summary["solver"], "init": summary["init"]},
        files=files,
        sample_names=table.row_names,
        feature_names=table.column_names,
    )
    report.write(outputs.path("report.html"))
