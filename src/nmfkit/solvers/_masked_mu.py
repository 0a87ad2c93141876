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
costs O(|observed| x rank + (n + p) x rank) time and memory.
"""

from __future__ import annotations

import numpy as np

from .._objective import EPSILON, masked_fit, sampled_product
from ._alternating import alternate

__all__ = ["fit_masked_mu", "masked_mu_step"]


def masked_mu_step(F, P, Q, l1, l2, l1_placement="numerator"):
    """One masked multiplicative update of a tall factor, in place.

        F <- F * max(P - l1, 0) / (Q + l2 F)        (numerator placement)
        F <- F * P / (Q + l2 F + l1)                (denominator placement)

    Parameters
    ----------
    F : ndarray of shape (m, r)
        The factor (``W`` or ``H^T``), updated in place.
    P : ndarray of shape (m, r)
        The data product (``(M * X) H^T`` for W).
    Q : ndarray of shape (m, r)
        The model product (``(M * (W H)) H^T`` for W); overwritten.
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


def fit_masked_mu(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    l1_placement="numerator",
    update_order="HW",
    fixed_W_columns=(),
    fixed_H_rows=(),
):
    """Minimize the penalized masked Frobenius objective by multiplicative updates.

    Minimizes ``1/2 ||M * (X - W H)||_F^2`` plus the penalties of
    ``penalties`` (see :mod:`nmfkit._objective`).

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
    fixed_W_columns, fixed_H_rows : sequence of int
        Columns of W and rows of H kept at their initial values. The
        majorizer is separable, so updating the other entries only still
        never increases the objective.

    Returns
    -------
    result : SolverResult
    """
    rows, cols = X.rows, X.cols
    dtype = W.dtype
    values = X.values.astype(dtype, copy=False)
    MX = X.with_values(values)
    MXt = X.with_values_transposed(values)
    W = np.array(W, order="C", copy=True)
    Ht = np.array(H.T, order="C", copy=True)
    p = penalties
    predictions = np.empty(X.nnz, dtype=dtype)
    fixed_W = np.asarray(sorted(fixed_W_columns), dtype=np.intp)
    fixed_H = np.asarray(sorted(fixed_H_rows), dtype=np.intp)
    kept_W = W[:, fixed_W].copy()
    kept_Ht = Ht[:, fixed_H].copy()

    def predict():
        return sampled_product(W, Ht, rows, cols, out=predictions)

    def objective():
        return masked_fit(values, predictions) + p.value_W(W) + p.value_H(Ht.T)

    def step_W():
        P = np.asarray(MX @ Ht)
        Q = np.asarray(X.with_values(predictions) @ Ht)
        masked_mu_step(W, P, Q, p.l1_W, p.l2_W, l1_placement)
        W[:, fixed_W] = kept_W
        predict()

    def step_H():
        P = np.asarray(MXt @ W)
        Q = np.asarray(X.with_values_transposed(predictions) @ W)
        masked_mu_step(Ht, P, Q, p.l1_H, p.l2_H, l1_placement)
        Ht[:, fixed_H] = kept_Ht
        predict()

    predict()
    return alternate(monitor, objective, step_W, step_H, W, Ht, update_H, update_order)
