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
        The L1 and L2 weights of W and H.
    monitor : ConvergenceMonitor
        The stopping rule, history and callbacks.
    **options
        Keywords of the driver,
        :func:`~nmfkit.solvers._alternating.fit_alternating`: ``update_H`` (if
        False, only W is fitted: each row of W then tends to the exact solution
        of its non-negative least-squares problem), ``update_order`` (``"HW"``
        or ``"WH"``), ``inner_iter``, ``inner_tol``, ``extrapolate``, and
        ``fixed_W_columns`` and ``fixed_H_rows`` (sequences of int: columns of W
        and rows of H kept at their initial values; for example a column of ones
        in W makes the matching row of H a non-negative per-feature offset).

    Returns
    -------
    result : SolverResult
        The fitted W and H and the history.

    See Also
    --------
    fit_masked_mu : Multiplicative updates of the same objective.
    fit_hals : HALS on fully observed data.
    nmfkit.NMF : Runs it for data with missing entries (``solver="cd"``).

    References
    ----------
    .. [1] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Transactions on
       Fundamentals E92-A(3), 708-721, 2009.
    .. [2] J. Kim, Y. He and H. Park, "Algorithms for nonnegative matrix and
       tensor factorizations: a unified view based on block coordinate
       descent framework", Journal of Global Optimization 58(2), 285-319,
       2014.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_masked_hals
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> from nmfkit._validation import check_data
    >>> X[rng.random(X.shape) < 0.2] = np.nan  # a fifth of the entries missing
    >>> observed = check_data(X, partially_observed=True, missing_values=np.nan)
    >>> W0[:, 2] = 1.0  # a column of ones: row 2 of H is a per-feature offset
    >>> res = fit_masked_hals(observed, W0, H0, Penalties(), fixed_W_columns=[2],
    ...                       monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> seen = ~np.isnan(X)
    >>> fit = 0.5 * np.sum((X - res.W @ res.H)[seen] ** 2)  # observed entries only
    >>> bool(np.isclose(res.history[-1, 2], fit))
    True
    >>> bool(np.all(res.W[:, 2] == 1))  # the fixed column
    True
    """
    return fit_alternating(
        X, W, H, penalties, monitor=monitor, rule=MaskedHALSRule(), **options
    )
