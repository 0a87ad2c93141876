"""Coordinate descent (HALS) for partially observed data.

Minimizes ``1/2 ||M * (X - W H)||_F^2`` plus the penalties by exact
minimization over one column of W (or one row of H) at a time, holding the
residual ``R = M * (X - W H)`` at the observed entries only. For component k
the update of column ``w = W[:, k]`` (with ``h = H[k, :]``) is

    R <- R + M * (w h)                       (take component k out)
    w <- max(sum_j M_ij R_ij h_j - l1_W, 0) / (sum_j M_ij h_j^2 + l2_W)
    R <- R - M * (w h)                       (put it back)

and the same for ``h`` with the roles of rows and columns exchanged. Each
update is the exact minimizer of the objective over that block under
non-negativity, so the objective never increases. A row (column) without an
observed entry, or whose other factor vanishes on its observed entries, and
with no L2 penalty, does not enter the objective: its factor is set to zero.

Every step is a pass over the observed entries (gathers and
``np.bincount``), so an iteration costs O(|observed| x rank + (n + p) x rank)
time and O(|observed| + n + p) extra memory. This is the cyclic coordinate
descent used for matrix completion (CCD++, Yu, Hsieh, Si and Dhillon, 2012)
with the non-negativity and the penalties of nmfkit's objective.
"""

from __future__ import annotations

import numpy as np

from .._objective import masked_fit, sampled_product
from ._alternating import alternate

__all__ = ["fit_masked_hals"]


def _update_block(F, G, R, own, other, size, l1, l2, fixed=()):
    """Exact minimization over each column of ``F`` in turn, in place.

    ``F`` is the factor being updated (rows indexed by ``own``), ``G`` the
    fixed one (rows indexed by ``other``), ``R`` the residual at the observed
    entries (float64, updated in place); columns listed in ``fixed`` are
    left as they are.
    """
    for k in range(F.shape[1]):
        if k in fixed:
            continue
        g = G[other, k].astype(np.float64)
        f_old = F[:, k]
        R += f_old[own] * g
        numerator = np.bincount(own, weights=R * g, minlength=size)
        denominator = np.bincount(own, weights=g * g, minlength=size)
        if l1:
            numerator -= l1
        np.maximum(numerator, 0.0, out=numerator)
        if l2:
            denominator += l2
        f_new = np.divide(
            numerator,
            denominator,
            out=np.zeros_like(numerator),
            where=denominator > 0,
        )
        F[:, k] = f_new
        R -= F[own, k] * g


def fit_masked_hals(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    update_order="HW",
    fixed_W_columns=(),
    fixed_H_rows=(),
):
    """Minimize the penalized masked Frobenius objective by coordinate descent.

    Parameters
    ----------
    X : ObservedEntries
        The observed entries (values non-negative).
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
    monitor : ConvergenceMonitor
    update_H : bool
        If False, only W is fitted (each row of W is then the exact
        solution of its non-negative least-squares problem, in the limit).
    update_order : {"HW", "WH"}
        Which factor each iteration updates first (the residual is shared:
        each update sees the other's latest values).
    fixed_W_columns, fixed_H_rows : sequence of int
        Columns of W and rows of H kept at their initial values (for example
        a column of ones in W makes the matching row of H a non-negative
        per-feature offset).

    Returns
    -------
    result : SolverResult
    """
    rows, cols = X.rows, X.cols
    n_samples, n_features = X.shape
    W = np.array(W, order="C", copy=True)
    Ht = np.array(H.T, order="C", copy=True)
    values = X.values.astype(np.float64)
    p = penalties
    fixed_W = frozenset(int(k) for k in fixed_W_columns)
    fixed_H = frozenset(int(k) for k in fixed_H_rows)

    def residual_and_objective():
        predictions = sampled_product(W, Ht, rows, cols).astype(np.float64)
        value = masked_fit(values, predictions) + p.value_W(W) + p.value_H(Ht.T)
        return values - predictions, value

    state = {}

    def objective():
        # a fresh residual each iteration keeps rounding from accumulating
        state["R"], value = residual_and_objective()
        return value

    def step_H():
        _update_block(
            Ht, W, state["R"], cols, rows, n_features, p.l1_H, p.l2_H, fixed_H
        )

    def step_W():
        _update_block(W, Ht, state["R"], rows, cols, n_samples, p.l1_W, p.l2_W, fixed_W)

    return alternate(monitor, objective, step_W, step_H, W, Ht, update_H, update_order)
