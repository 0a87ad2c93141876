"""The arithmetic of online (mini-batch) NMF for any beta.

Lefevre, Bach and Fevotte, "Online algorithms for nonnegative matrix
factorization with the Itakura-Saito divergence" (WASPAA 2011), as in
scikit-learn's MiniBatchNMF: for each mini-batch ``X_b`` the codes ``W_b``
get one multiplicative update (or are solved afresh), then the dictionary
follows the running majorizer of all batches seen so far,

    A <- rho A + (num_b * H^(1/gamma)),   B <- rho B + den_b,
    H <- (A / B)^gamma,

where ``num_b`` and ``den_b`` are the numerator and the (penalized)
denominator of the multiplicative update of H on the batch and ``rho`` is the
forget factor. The exponent ``gamma`` is :func:`~._mu_beta.mm_exponent`.
These are pure functions over arrays; the estimator keeps ``A``, ``B`` and
``H`` between calls.
"""

from __future__ import annotations

import numpy as np

from .._objective import EPSILON, ZERO_BELOW, FrobeniusFit, constant_start
from ._mu import mu_step
from ._mu_beta import BetaKernel, _Updater, mm_exponent

__all__ = [
    "update_codes",
    "solve_codes",
    "dictionary_products",
    "online_dictionary_update",
]



def _xtimes(X, A):
    return np.asarray(X @ A)


class _FrobeniusProducts:
    """Products of a batch with a fixed dictionary, for beta = 2: ``X H^T``,
    ``H H^T`` and ``||X||^2``, computed once per batch and dictionary."""

    def __init__(self, X, Ht):
        self.Ht = Ht
        self.XHt = _xtimes(X, Ht)
        self.HHt = Ht.T @ Ht
        self.fit = FrobeniusFit(X)


def _kernel(X, beta, Ht=None):
    """The per-batch cache of :func:`update_codes` and :func:`dictionary_products`."""
    if beta == 2:
        return _FrobeniusProducts(X, Ht)
    return BetaKernel(X, beta)


def update_codes(X, W, Ht, penalties, beta, kernel=None):
    """One multiplicative update of the codes ``W`` with ``H`` fixed.

    The L1 weight goes into the denominator (scikit-learn's placement).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_batch, n_features)
    W : ndarray of shape (n_batch, n_components)
    Ht : ndarray of shape (n_features, n_components)
        The dictionary, transposed (C-contiguous).
    penalties : Penalties
    beta : float
    kernel : object or None
        The cache of :func:`_kernel` for this batch (and, for beta = 2, this
        ``Ht``), reused across calls.

    Returns
    -------
    W : ndarray
        A new array (``W`` is not modified).
    """
    if kernel is None or (beta == 2 and kernel.Ht is not Ht):
        kernel = _kernel(X, beta, Ht)
    if beta == 2:
        W = np.array(W, order="C", copy=True)
        mu_step(
            W, kernel.XHt, kernel.HHt, penalties.l1_W, penalties.l2_W, "denominator"
        )
        return W
    upd = _Updater(kernel, penalties, "denominator", "mm")
    W_new, _, _ = upd.run_pass(
        np.ascontiguousarray(W), Ht, update_W=True, h_stats=False, obj_at=None
    )
    return W_new


def solve_codes(X, Ht, penalties, beta, max_iter, tol, kernel=None, *, start=None):
    """Codes of X under a fixed dictionary ``Ht`` (transposed), from a constant
    start.

    Starts from ``start`` (by default ``sqrt(mean(X) / n_components)``) and
    stops after ``max_iter`` updates or when ``||W_new - W|| / ||W_new|| <=
    tol``.
    """
    n_components = Ht.shape[1]
    if start is None:
        mean = X.sum(dtype=np.float64) / (X.shape[0] * X.shape[1])
        start = constant_start(mean, n_components, if_zero=0.0)
    W = np.full((X.shape[0], n_components), start, X.dtype)
    if kernel is None:
        kernel = _kernel(X, beta, Ht)
    for _ in range(max_iter):
        W_new = update_codes(X, W, Ht, penalties, beta, kernel)
        norm = np.linalg.norm(W_new)
        change = np.linalg.norm(W_new - W) / norm if norm > 0 else 0.0
        W = W_new
        if tol > 0 and change <= tol:
            break
    return W


def dictionary_products(X, W, Ht, penalties, beta, kernel=None):
    """Numerator, penalized denominator of the H update, and the objective.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_batch, n_features)
    W : ndarray of shape (n_batch, n_components)
    Ht : ndarray of shape (n_features, n_components)
        The dictionary, transposed.
    penalties : Penalties
        Weights for this batch.
    beta : float
    kernel : BetaKernel or None

    Returns
    -------
    num : ndarray of shape (n_features, n_components)
        ``(X * Y^(beta-2))^T W``.
    den : ndarray of shape (n_features, n_components)
        ``(Y^(beta-1))^T W + l1_H + l2_H H^T``, zeros replaced by ``EPSILON``.
    objective : float
        The penalized objective of the batch at ``(W, H)``.
    """
    if kernel is None or (beta == 2 and kernel.Ht is not Ht):
        kernel = _kernel(X, beta, Ht)
    if beta == 2:
        num = _xtimes(X.T, W)
        WtW = W.T @ W
        den = Ht @ WtW
        fit = kernel.fit(kernel.XHt, W, WtW, kernel.HHt, W, Ht.T)
        objective = fit + penalties.value_W(W, WtW) + penalties.value_H(Ht, kernel.HHt)
    else:
        upd = _Updater(kernel, penalties, "denominator", "mm")
        _, objective, (num, den) = upd.run_pass(
            np.ascontiguousarray(W), Ht, update_W=False, h_stats=True, obj_at="after"
        )
    dtype = Ht.dtype.type
    den = den + dtype(penalties.l1_H) if penalties.l1_H else den
    if penalties.l2_H:
        den = den + dtype(penalties.l2_H) * Ht
    den = np.array(np.broadcast_to(den, Ht.shape), dtype=Ht.dtype)
    np.putmask(den, den == 0, dtype(EPSILON))
    return num, den, objective


def online_dictionary_update(Ht, num, den, A, B, rho, beta, l2_H):
    """Fold a batch into the running majorizer and return the new ``H^T``.

    All arrays have the shape of ``H^T``; ``A`` and ``B`` are updated in
    place and ``num`` is overwritten.
    """
    gamma = mm_exponent(beta, l2_H)
    num *= Ht ** (1.0 / gamma) if gamma != 1 else Ht
    A *= rho
    B *= rho
    A += num
    B += den
    Ht_new = A / B
    if gamma != 1:
        Ht_new **= gamma
    if beta <= 1:
        Ht_new[Ht_new < ZERO_BELOW] = 0.0
    return Ht_new
