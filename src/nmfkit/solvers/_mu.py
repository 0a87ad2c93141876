"""Multiplicative updates for the penalized Frobenius objective.

In scikit-learn's notation (``X ~ W H``, X is n_samples x n_features) one
iteration updates H, then W (the course's D, then S):

    H <- H * max(W^T X - l1_H, 0) / ((W^T W + l2_H I) H)
    W <- W * max(X H^T - l1_W, 0) / (W (H H^T + l2_W I))

Each is the exact minimizer of a separable quadratic majorizer of the
objective (Lee and Seung 2001, with the L1 and non-negativity constraint
handled by the ``max``), so the objective never increases, and entries that the
``max`` sets to zero stay zero. With ``l1_placement="denominator"`` the L1
weight is added to the denominator instead (scikit-learn's placement, also
monotone, never exactly zero). ``update_order="WH"`` updates W first, as
scikit-learn does.

Internally H is held transposed (``Ht``, n_features x n_components,
C-contiguous) so that both factors are tall and every product with X, dense
or sparse, runs on contiguous operands. A zero denominator is replaced by the
float32 machine epsilon before dividing, as scikit-learn does: no NaN or Inf.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._objective import frobenius_fit_from_products, squared_norm
from ._monitor import SolverResult

__all__ = ["fit_mu", "mu_step"]

_DENOMINATOR_FLOOR = float(np.finfo(np.float32).eps)


def mu_step(F, P, G, l1, l2, l1_placement="numerator"):
    """One multiplicative update of a tall factor, in place.

    Minimizes the separable majorizer of
    ``1/2 <F^T F, G> - <P, F> + l1 sum(F) + l2/2 ||F||^2`` at ``F``:

        F <- F * max(P - l1, 0) / (F (G + l2 I))        (numerator placement)
        F <- F * P / (F (G + l2 I) + l1)                (denominator placement)

    Parameters
    ----------
    F : ndarray of shape (m, r)
        The factor (``W``, or ``H^T``), updated in place.
    P : ndarray of shape (m, r)
        The data product (``X H^T`` for W, ``X^T W`` for ``H^T``); not modified.
    G : ndarray of shape (r, r)
        The Gram matrix of the other factor (symmetric).
    l1, l2 : float
        Penalty weights of this factor.
    l1_placement : {"numerator", "denominator"}

    Returns
    -------
    F : ndarray
        The same array, updated.
    """
    if l2:
        G = G + l2 * np.eye(G.shape[0], dtype=G.dtype)
    if F.flags.f_contiguous and not F.flags.c_contiguous:
        # A factor held component-major (F is the transpose of a C array):
        # G is symmetric, so F G = (G F^T)^T keeps that layout for every
        # elementwise step below.
        denominator = (G @ F.T).T
    else:
        denominator = F @ G
    numerator = P
    if l1:
        if l1_placement == "numerator":
            numerator = P - F.dtype.type(l1)
            np.maximum(numerator, 0, out=numerator)
        else:
            denominator += F.dtype.type(l1)
    np.putmask(denominator, denominator == 0, _DENOMINATOR_FLOOR)
    np.divide(numerator, denominator, out=denominator)
    F *= denominator
    return F


class _Products:
    """Products of X with tall factors, for dense or sparse X."""

    def __init__(self, X):
        if sp.issparse(X):
            self.X = X.tocsr()
            self.XT = X.T.tocsr()
        else:
            self.X = X
            self.XT = X.T

    def X_times(self, Ht):
        """``X H^T`` (n_samples x r)."""
        return np.asarray(self.X @ Ht)

    def Xt_times(self, W):
        """``X^T W`` (n_features x r), the transpose of ``W^T X``."""
        return np.asarray(self.XT @ W)


def fit_mu(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    l1_placement="numerator",
    update_order="HW",
):
    """Minimize the penalized Frobenius objective with multiplicative updates.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Non-negative data, float32 or float64.
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
        Penalty weights.
    monitor : ConvergenceMonitor
        Stopping rule and history, shared by all solvers.
    update_H : bool
        If False, H stays fixed and only W is fitted (``transform``).
    l1_placement : {"numerator", "denominator"}
        Where the L1 weights enter the updates.
    update_order : {"HW", "WH"}
        Which factor an iteration updates first.

    Returns
    -------
    result : SolverResult
    """
    products = _Products(X)
    W = np.array(W, order="C", copy=True)
    Ht = np.array(H.T, order="C", copy=True)
    X_sq_norm = squared_norm(X)
    p = penalties

    def objective(XHt, WtW, HHt):
        return (
            frobenius_fit_from_products(X_sq_norm, XHt, W, WtW, HHt)
            + p.value_W(W, WtW)
            + p.value_H(Ht.T, HHt)
        )

    def update_W(XHt, HHt):
        mu_step(W, XHt, HHt, p.l1_W, p.l2_W, l1_placement)
        return W.T @ W

    def update_H_products(WtW):
        mu_step(Ht, products.Xt_times(W), WtW, p.l1_H, p.l2_H, l1_placement)
        return products.X_times(Ht), Ht.T @ Ht

    XHt, HHt, WtW = products.X_times(Ht), Ht.T @ Ht, W.T @ W
    monitor.start(objective(XHt, WtW, HHt), W, Ht.T)
    stop = monitor.max_iter <= 0
    while not stop:
        if update_order == "HW":
            if update_H:
                XHt, HHt = update_H_products(WtW)
            WtW = update_W(XHt, HHt)
        else:
            WtW = update_W(XHt, HHt)
            if update_H:
                XHt, HHt = update_H_products(WtW)
        stop = monitor.update(objective(XHt, WtW, HHt), W, Ht.T)
    return SolverResult(
        W=W,
        H=np.ascontiguousarray(Ht.T),
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
    )
