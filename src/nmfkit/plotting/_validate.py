"""Checks shared by the plotting functions: shapes, sizes, what they accept.

A plot of the wrong thing is worse than no plot: a transposed dictionary
drawn as thousands of panels takes minutes and a figure of hundreds of
megapixels. Every plotting function therefore checks its input here first
and raises a one-line ``ValueError``/``TypeError`` that names the problem
and the fix.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_factor",
    "as_factor_pair",
    "check_count",
    "check_positive_int",
    "convergence_histories",
    "labelled_matrices",
]

#: Largest number of entries a plotted matrix may have (densified if sparse).
MAX_ENTRIES = 50_000_000


def check_positive_int(value, name):
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} is not valid; give an integer >= 1.")
    return int(value)


def check_count(count, limit, what, fix):
    """Refuse to draw more than ``limit`` of ``what``; ``fix`` says what to do."""
    if count > limit:
        raise ValueError(
            f"{count} {what} is too many to draw (at most {limit}); {fix}."
        )


def as_factor(value, name, *, nonnegative=True):
    """``value`` as a finite 2-D float array (a factor, a data matrix).

    Sparse matrices are densified (up to :data:`MAX_ENTRIES` entries).
    """
    if hasattr(value, "get_params"):
        raise TypeError(
            f"{name} is a {type(value).__name__}, not an array; pass its factor "
            "(model.components_ for H, the result of fit_transform for W)."
        )
    if sp.issparse(value):
        n_entries = value.shape[0] * value.shape[1]
        check_count(n_entries, MAX_ENTRIES, f"entries in {name}", "draw a subset")
        value = value.toarray()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a numeric 2-D array, got {type(value).__name__} ({error})."
        ) from None
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"{name} must be a non-empty 2-D array, got shape {array.shape}; "
            "reshape it to (rows, columns)."
        )
    check_count(array.size, MAX_ENTRIES, f"entries in {name}", "draw a subset")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} has NaN or infinite entries; plot a fitted model's finite factors."
        )
    if nonnegative and (array < 0).any():
        raise ValueError(
            f"{name} has negative entries (smallest {array.min():.3g}); NMF factors "
            "are non-negative, pass W or H of a fitted model."
        )
    return array


def as_factor_pair(W, H):
    """``(W, H)`` checked as codes (n x k) and dictionary (k x p) of one model."""
    W, H = as_factor(W, "W"), as_factor(H, "H")
    if W.shape[1] != H.shape[0]:
        hint = (
            "; H looks transposed: pass H.T"
            if W.shape[1] == H.shape[1]
            else ("; W looks transposed: pass W.T" if W.shape[0] == H.shape[0] else "")
        )
        raise ValueError(
            f"W of shape {W.shape} and H of shape {H.shape} do not form W @ H: "
            f"W needs one column per row of H{hint}."
        )
    return W, H


def labelled_matrices(value, name, *, limit):
    """A dict of label to 2-D array, from one array, a dict or a sequence."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (list, tuple)) and value and np.ndim(value[0]) == 2:
        items = [(f"{name} {i}", v) for i, v in enumerate(value)]
    else:
        items = [("W", value)]  # one matrix (checked below)
    if not items:
        raise ValueError(f"{name} is empty; give at least one matrix.")
    check_count(len(items), limit, f"{name}", "pass fewer models")
    return {str(label): as_factor(m, f"{name}[{label!r}]") for label, m in items}


def _history_of(source, label):
    """Rows ``(iteration, seconds, objective)`` of one run (seconds may be NaN)."""
    if hasattr(source, "get_params"):  # an estimator
        history = getattr(source, "history_", None)
        curve = getattr(source, "loss_curve_", None)
        if history is None and curve is None:
            if hasattr(source, "n_iter_"):
                raise ValueError(
                    f"{label}: a fitted {type(source).__name__} records no objective "
                    "per iteration; fit nmfkit.NMF, whose history_ records it."
                )
            raise ValueError(
                f"{label}: this {type(source).__name__} is not fitted; call fit "
                "before plotting its convergence."
            )
        source = history if history is not None else curve
    try:
        rows = np.asarray(source, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{label}: expected a fitted model, its history_ (rows of iteration, "
            f"seconds, objective) or loss_curve_, got {type(source).__name__}."
        ) from None
    if rows.ndim == 1:
        rows = np.column_stack(
            [np.arange(rows.shape[0]), np.full(rows.shape[0], np.nan), rows]
        )
    if rows.ndim != 2 or rows.shape[1] != 3 or rows.shape[0] == 0:
        raise ValueError(
            f"{label}: a history has rows (iteration, seconds, objective), got "
            f"shape {rows.shape}; pass model.history_ or model.loss_curve_."
        )
    if not np.isfinite(rows[:, [0, 2]]).all():
        raise ValueError(
            f"{label}: the objective has NaN or infinite values; the fit diverged, "
            "there is no curve to draw."
        )
    if (np.diff(rows[:, 0]) <= 0).any():
        raise ValueError(
            f"{label}: iterations must increase along the history; pass the rows "
            "in the order they were recorded."
        )
    return rows


def _label_of(source, position):
    return type(source).__name__ if hasattr(source, "get_params") else f"run {position}"


def convergence_histories(source, *, limit=12):
    """A dict of label to rows ``(iteration, seconds, objective)``.

    ``source`` is a fitted estimator (its ``history_``, else its
    ``loss_curve_``), one history or loss curve as an array, a sequence of
    either, or a dict of label to either.
    """
    if isinstance(source, dict):
        items = list(source.items())
    elif (
        isinstance(source, (list, tuple))
        and source
        and (hasattr(source[0], "get_params") or np.ndim(source[0]) >= 1)
        and not all(np.isscalar(v) for v in source)
    ):
        items = [(_label_of(s, i), s) for i, s in enumerate(source)]
        if len({label for label, _ in items}) < len(items):
            items = [(f"{label} {i}", s) for i, (label, s) in enumerate(items)]
    else:
        items = [(_label_of(source, 0), source)]
    if not items:
        raise ValueError("no history to plot; give a fitted model or its history_.")
    check_count(len(items), limit, "curves", "pass fewer models")
    return {str(label): _history_of(s, str(label)) for label, s in items}
