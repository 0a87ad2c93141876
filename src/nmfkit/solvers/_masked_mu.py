"""Multiplicative updates for partially observed data (masked Frobenius loss).

With M the mask of observed entries, one iteration updates H, then W:

    H <- H * max(W^T (M * X) - l1_H, 0) / (W^T (M * (W H)) + l2_H H)
    W <- W * max((M * X) H^T - l1_W, 0) / ((M * (W H)) H^T + l2_W W)

These are the weighted-NMF updates: each is the exact minimizer of a
separable quadratic majorizer of the masked objective (the weights M are 0 or
1), so the objective never increases. With every entry observed,
``W^T (M * (W H)) = (W^T W) H`` and the updates are those of
:func:`~nmfkit.solvers.fit_mu`.

``M * X`` and ``M * (W H)`` are sparse matrices with the observed pattern
(:class:`~nmfkit._observed.ObservedEntries`); ``W H`` is only evaluated at the
observed entries (:func:`~nmfkit._objective.sampled_product`), so an iteration
costs O(|observed| x rank + (n + p) x rank) time and memory. The update is a
rule (:class:`MaskedMURule`) of the alternating driver, which owns the loop,
the update order and the monitor; the products come from its partially
observed data term (:class:`~nmfkit.solvers._data_terms.ObservedData`).
"""

from __future__ import annotations

import numpy as np

from .._objective import EPSILON, squared_norm
from ._alternating import fit_alternating
from ._mu import MURule

__all__ = ["MaskedMURule", "fit_masked_mu", "masked_mu_step"]


def masked_mu_step(F, P, Q, l1, l2, l1_placement="numerator"):
    """One masked multiplicative update of a factor, in place.

        F <- F * max(P - l1, 0) / (Q + l2 F)        (numerator placement)
        F <- F * P / (Q + l2 F + l1)                (denominator placement)

    The update is entrywise, so ``F`` may be held tall (``m x r``) or
    component-major (``r x m``); ``P`` and ``Q`` have its shape.

    Parameters
    ----------
    F : ndarray
        The factor (``W^T`` or ``H`` component-major), updated in place.
    P : ndarray
        The data product (``H (M * X)^T`` for ``W^T``); not modified.
    Q : ndarray
        The model product (``H (M * (W H))^T`` for ``W^T``); overwritten.
    l1, l2 : float
        Penalty weights of this factor.
    l1_placement : {"numerator", "denominator"}

    Returns
    -------
    F : ndarray
    """
    denominator = Q
    if l2:
        denominator += F.dtype.type(l2) * F
    numerator = P
    if l1:
        if l1_placement == "numerator":
            numerator = P - F.dtype.type(l1)
            np.maximum(numerator, 0, out=numerator)
        else:
            denominator += F.dtype.type(l1)
    np.putmask(denominator, denominator == 0, EPSILON)
    np.divide(numerator, denominator, out=denominator)
    F *= denominator
    return F


class MaskedMURule(MURule):
    """The masked multiplicative update as a rule of the alternating driver.

    Receives an :class:`~nmfkit.solvers._data_terms.ObservedSubproblem` as
    ``G``: the data product is formed once per factor update
    (:meth:`prepare`), the model product at every update, and the
    subproblem's fixed components are restored after it (the majorizer is
    separable, so the objective still never increases).

    Parameters
    ----------
    l1_placement : {"numerator", "denominator"}
    """

    array_api = False

    def prepare(self, P, G, l1, l2, xp):
        return G.data_product()

    def update(self, F, P, G, prepared, l1, l2, xp, need_change):
        fixed = list(G.fixed)
        old = F.copy() if need_change or fixed else None
        masked_mu_step(F, prepared, G.model_product(F), l1, l2, self.l1_placement)
        if fixed:
            F[fixed] = old[fixed]
        if not need_change:
            return 0.0
        old -= F
        return squared_norm(old)


def fit_masked_mu(X, W, H, penalties, *, monitor, l1_placement="numerator", **options):
    """Minimize the penalized masked Frobenius objective by multiplicative updates.

    Minimizes ``1/2 ||M * (X - W H)||_F^2`` plus the penalties of
    ``penalties`` (see :mod:`nmfkit._objective`): the alternating driver
    (:func:`~nmfkit.solvers._alternating.fit_alternating`) with
    :class:`MaskedMURule`, one update of each factor per iteration.

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
    l1_placement : {"numerator", "denominator"}
        Where the L1 weight enters the update.
    **options
        Keywords of the driver,
        :func:`~nmfkit.solvers._alternating.fit_alternating`: ``update_H`` (if
        False, only W is fitted), ``update_order`` (``"HW"`` or ``"WH"``),
        ``inner_iter``, ``inner_tol``, ``extrapolate``, and ``fixed_W_columns``
        and ``fixed_H_rows`` (sequences of int: columns of W and rows of H kept
        at their initial values; the majorizer is separable, so updating the
        other entries only still never increases the objective).

    Returns
    -------
    result : SolverResult
        The fitted W and H and the history.

    See Also
    --------
    fit_masked_hals : Coordinate descent of the same objective.
    fit_mu : The updates on fully observed data.
    nmfkit.NMF : Runs it for data with missing entries (``solver="mu"``).

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", Advances in Neural Information Processing Systems 13,
       556-562, 2001.
    .. [2] S. Zhang, W. Wang, J. Ford and F. Makedon, "Learning from
       incomplete ratings using non-negative matrix factorization", SIAM
       International Conference on Data Mining (SDM), 549-553, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_masked_mu
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> from nmfkit._validation import check_data
    >>> X[rng.random(X.shape) < 0.2] = np.nan  # a fifth of the entries missing
    >>> observed = check_data(X, partially_observed=True, missing_values=np.nan)
    >>> W0[:, 2] = 1.0  # a column of ones: row 2 of H is a per-feature offset
    >>> res = fit_masked_mu(observed, W0, H0, Penalties(), fixed_W_columns=[2],
    ...                     monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> seen = ~np.isnan(X)
    >>> fit = 0.5 * np.sum((X - res.W @ res.H)[seen] ** 2)  # observed entries only
    >>> bool(np.isclose(res.history[-1, 2], fit))
    True
    >>> bool(np.all(res.W[:, 2] == 1))  # the fixed column
    True
    """
    return fit_alternating(
        X, W, H, penalties, monitor=monitor, rule=MaskedMURule(l1_placement), **options
    )
