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
        ``model.solver_`` with the accelerations its ``solver_options_``
        switched on (``"hals (inner loops, extrapolation)"``); for an
        estimator that records none, the solver it was given.
    """
    recorded = getattr(model, "solver_", None)
    if recorded is None:
        return str({"cd": "hals"}.get(model.solver, model.solver))
    options = getattr(model, "solver_options_", None) or {}
    details = []
    if options.get("inner_iter") not in (None, 1):
        details.append("inner loops")
    if options.get("extrapolate"):
        details.append("extrapolation")
    return str(recorded) + (f" ({', '.join(details)})" if details else "")


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


def model_from_record(record):
    """The fitted estimator of a comparison's fit, as :func:`nmfkit.load` reads it.

    A :class:`~nmfkit.apps.FitRecord` carries the estimator it was fitted
    with (nmfkit's MU from the shared initialization, ``init="custom"``):
    that model is the one saved, not a rebuilt one.

    Raises
    ------
    ValueError
        The record has no model (one built by hand).
    """
    model = getattr(record, "model", None)
    if model is None:
        raise ValueError(
            f"the fit record {record.label!r} carries no fitted model; build it "
            "with compare_with_sklearn."
        )
    return model
