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

The sweep is a rule (:class:`MaskedHALSRule`) of the alternating driver,
which owns the loop, the update order and the monitor. Every step is a pass
over the observed entries (gathers and ``np.bincount``), so an iteration
costs O(|observed| x rank + (n + p) x rank) time and O(|observed| + n + p)
extra memory. This is the cyclic coordinate descent used for matrix
completion (CCD++, Yu, Hsieh, Si and Dhillon, 2012) with the non-negativity
and the penalties of nmfkit's objective.
"""

from __future__ import annotations

import numpy as np

from ._alternating import fit_alternating
from ._rule import FactorRule

__all__ = ["MaskedHALSRule", "fit_masked_hals"]


class MaskedHALSRule(FactorRule):
    """Masked HALS as a rule of the alternating driver: one sweep per update.

    Receives an :class:`~nmfkit.solvers._data_terms.ObservedSubproblem` as
    ``G``; each update starts from the residual at the observed entries,
    ``R = M * (X - W H)`` (float64, fresh, so rounding never accumulates),
    and keeps it current through the sweep. The subproblem's fixed
    components are skipped.
    """

    inner_alpha = 0.5

    def update(self, F, P, G, prepared, l1, l2, xp, need_change):
        own, others, size = G.own, G.others, G.size
        R = G.data.values64 - G.predictions(F).astype(np.float64)
        change = 0.0
        for k in range(F.shape[0]):
            if k in G.fixed:
                continue
            g = G.other[k, others].astype(np.float64)
            f_old = F[k].copy() if need_change else F[k]
            R += f_old[own] * g
            numerator = np.bincount(own, weights=R * g, minlength=size)
            denominator = np.bincount(own, weights=g * g, minlength=size)
            if l1:
                numerator -= l1
            np.maximum(numerator, 0.0, out=numerator)
            if l2:
                denominator += l2
            curved = denominator > 0
            np.divide(numerator, denominator, out=numerator, where=curved)
            numerator[~curved] = 0.0
            F[k] = numerator
            R -= F[k, own] * g
            if need_change:
                f_old -= F[k]
                change += float(np.dot(f_old, f_old))
        return change


def fit_masked_hals(X, W, H, penalties, *, monitor, **options):
    """Minimize the penalized masked Frobenius objective by coordinate descent.

    The alternating driver
    (:func:`~nmfkit.solvers._alternating.fit_alternating`) with
    :class:`MaskedHALSRule`, one sweep of each factor per iteration.

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
        Which factor each iteration updates first.
    **options
        Keywords of the driver,
        :func:`~nmfkit.solvers._alternating.fit_alternating`, among them
        ``update_H``, ``update_order`` and the two below (``inner_iter``,
        ``inner_tol`` and ``extrapolate`` also apply).
    fixed_W_columns, fixed_H_rows : sequence of int
        Columns of W and rows of H kept at their initial values (for example
        a column of ones in W makes the matching row of H a non-negative
        per-feature offset).

    Returns
    -------
    result : SolverResult
    """
    return fit_alternating(
        X, W, H, penalties, monitor=monitor, rule=MaskedHALSRule(), **options
    )
