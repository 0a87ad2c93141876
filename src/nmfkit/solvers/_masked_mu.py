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
    monitor : ConvergenceMonitor
    update_H : bool
        If False, only W is fitted.
    l1_placement : {"numerator", "denominator"}
    update_order : {"HW", "WH"}
    **options
        Keywords of the driver,
        :func:`~nmfkit.solvers._alternating.fit_alternating`, among them
        ``update_H``, ``update_order`` and the two below (``inner_iter``,
        ``inner_tol`` and ``extrapolate`` also apply).
    fixed_W_columns, fixed_H_rows : sequence of int
        Columns of W and rows of H kept at their initial values. The
        majorizer is separable, so updating the other entries only still
        never increases the objective.

    Returns
    -------
    result : SolverResult
    """
    return fit_alternating(
        X, W, H, penalties, monitor=monitor, rule=MaskedMURule(l1_placement), **options
    )
