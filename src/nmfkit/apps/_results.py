"""Results every application hands over: factors with names, the model, what ran."""

from __future__ import annotations

import importlib.util

import numpy as np

from .._optional import MissingDependencyError

__all__ = [
    "component_names",
    "init_that_ran",
    "json_safe",
    "model_from_record",
    "require_packages",
    "solver_that_ran",
    "write_factors",
]


def require_packages(modules, *, purpose):
    """Check, without importing them, that optional packages are installed.

    Raises
    ------
    MissingDependencyError
        Naming the first missing package and the extra that installs it.
    """
    from .._optional import _DISTRIBUTIONS

    for module in modules:
        if importlib.util.find_spec(module) is None:
            dist = _DISTRIBUTIONS.get(module, module)
            raise MissingDependencyError(
                f"{purpose} needs the package '{dist}', which is not installed; "
                f'install it with: pip install "nmfkit[apps]" (or pip install {dist}).'
            )


def component_names(n_components, *, kind="component", offsets=None):
    """Names of the components: ``component_0, ...``, then ``offsets``.

    ``offsets`` names the last two components of :class:`nmfkit.NMF`'s
    ``bias=True`` (the row offset, then the column offset).
    """
    names = [f"{kind}_{k}" for k in range(n_components)]
    if offsets:
        names[-2:] = list(offsets)
    return names


def json_safe(value):
    """A table cell for JSON and CSV: NumPy scalars as Python, NaN as ``""``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return ""
    return value


def write_factors(outputs, W, H, *, row_names, column_names, components, corner):
    """Write W and H as ``.npy`` and as CSV with their names.

    ``W.csv``: a header ``corner, components...``, then one row per sample
    (its name, its codes). ``H.csv``: a header ``component, column_names...``,
    then one row per component.
    """
    outputs.write_npy("W.npy", W)
    outputs.write_npy("H.npy", H)
    outputs.write_matrix_csv(
        "W.csv", W, row_names=row_names, column_names=components, corner=corner
    )
    outputs.write_matrix_csv(
        "H.csv", H, row_names=components, column_names=column_names, corner="component"
    )


def solver_that_ran(model, X=None, *, masked=False):
    """The algorithm a fitted nmfkit estimator ran, ``"auto"`` resolved.

    Returns
    -------
    solver : str
        ``model.solver_`` where the estimator records it; otherwise the
        estimator's own resolution of ``solver`` for this data, with the
        configuration ``"auto"`` chose (``"hals (inner loops, extrapolation)"``).
    """
    recorded = getattr(model, "solver_", None)
    if recorded is not None:
        return str(recorded)
    from .._objective import beta_to_float

    beta = beta_to_float(model.beta_loss)
    try:
        solver = model._solver_name(beta, X, masked)
    except (AttributeError, TypeError):
        solver = model.solver
    solver = {"cd": "hals"}.get(solver, solver)
    if solver == "auto":
        from ..solvers._auto import choose_frobenius

        config = choose_frobenius(
            X, model.n_components, inner_iter=model.inner_iter,
            extrapolate=model.extrapolate,
        )  # fmt: skip
        details = []
        if config["inner_iter"] not in (None, 1):
            details.append("inner loops")
        if config["extrapolate"]:
            details.append("extrapolation")
        solver = config["rule"] + (f" ({', '.join(details)})" if details else "")
    return solver


def init_that_ran(model, shape):
    """The initialization a fitted nmfkit estimator used, ``None`` resolved."""
    recorded = getattr(model, "init_", None)
    if recorded is not None:
        return str(recorded)
    from .._init import resolve_init

    n_components = model.n_components
    if n_components in (None, "auto"):
        n_components = shape[1]
    return resolve_init(model.init, n_components, shape)


def model_from_record(record, X, settings, penalties):
    """The nmfkit model of a comparison's fit, as :func:`nmfkit.load` reads it.

    A :class:`~nmfkit.apps.FitRecord` keeps the factors and the history of
    nmfkit's MU fit; this builds the fitted :class:`nmfkit.NMF` they belong
    to (the fit's parameters, ``init="custom"`` as it started from the shared
    initialization), unless the record carries its model already.
    """
    model = getattr(record, "model", None)
    if model is not None:
        return model
    from .. import NMF
    from .._objective import reconstruction_error

    model = NMF(
        n_components=settings["n_components"],
        solver="mu",
        init="custom",
        max_iter=settings["max_iter"],
        tol=settings["tol"],
        random_state=settings.get("random_state"),
        l1_W=penalties.l1_W,
        l2_W=penalties.l2_W,
        l2_H=penalties.l2_H,
    )
    H = np.asarray(record.H)
    model.n_features_in_ = int(X.shape[1])
    model.components_ = H
    model.n_components_ = int(H.shape[0])
    model.n_iter_ = int(record.n_iter)
    if record.history is not None:
        model.history_ = np.asarray(record.history, dtype=np.float64)
        model.loss_curve_ = model.history_[:, 2].copy()
        model.loss_ = float(model.loss_curve_[-1])
    else:
        model.loss_ = float(record.objective)
    model.reconstruction_err_ = float(reconstruction_error(X, record.W, H))
    return model
