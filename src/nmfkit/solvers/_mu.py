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

The updates are written once with array-API operations (``xp``): NumPy
arrays, SciPy sparse matrices (NumPy namespace) and, with scikit-learn's
``array_api_dispatch`` on, PyTorch tensors or CuPy arrays on their own device
all run this code. :func:`mu_step` is also the row update of the distributed
solver (:mod:`nmfkit.distributed`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._array_api import contiguous_copy, device_of, get_namespace, is_numpy
from .._objective import FrobeniusFit
from ._monitor import SolverResult

__all__ = ["fit_mu", "mu_step"]

_DENOMINATOR_FLOOR = float(np.finfo(np.float32).eps)


def mu_step(F, P, G, l1, l2, l1_placement="numerator", *, xp=None):
    """One multiplicative update of a tall factor, in place.

    Minimizes the separable majorizer of
    ``1/2 <F^T F, G> - <P, F> + l1 sum(F) + l2/2 ||F||^2`` at ``F``:

        F <- F * max(P - l1, 0) / (F (G + l2 I))        (numerator placement)
        F <- F * P / (F (G + l2 I) + l1)                (denominator placement)

    Parameters
    ----------
    F : array of shape (m, r)
        The factor (``W``, or ``H^T``), updated in place: a NumPy array or an
        array of another array-API library (PyTorch, CuPy).
    P : array of shape (m, r)
        The data product (``X H^T`` for W, ``X^T W`` for ``H^T``); not modified.
    G : array of shape (r, r)
        The Gram matrix of the other factor (symmetric).
    l1, l2 : float
        Penalty weights of this factor.
    l1_placement : {"numerator", "denominator"}
    xp : namespace or None
        The array namespace of ``F``; found from the arrays when None.

    Returns
    -------
    F : array
        The same array, updated.
    """
    if xp is None:
        xp = get_namespace(F, P, G)
    if l2:
        G = G + l2 * xp.eye(G.shape[0], dtype=G.dtype, device=device_of(G))
    if is_numpy(xp) and F.flags.f_contiguous and not F.flags.c_contiguous:
        # A factor held component-major (F is the transpose of a C array):
        # G is symmetric, so F G = (G F^T)^T keeps that layout for every
        # elementwise step below.
        denominator = (G @ F.T).T
    else:
        denominator = F @ G
    numerator = P
    if l1:
        if l1_placement == "numerator":
            numerator = xp.maximum(P - l1, 0.0)  # a float 0: NumPy's fast loop
        else:
            denominator += l1
    denominator[denominator == 0] = _DENOMINATOR_FLOOR
    F *= _divide_into(numerator, denominator)
    return F


def _divide_into(numerator, denominator):
    """``numerator / denominator``, written over ``denominator`` where possible.

    NumPy, CuPy and PyTorch divide into an existing buffer; other array-API
    libraries allocate the quotient.
    """
    if isinstance(denominator, np.ndarray):
        return np.divide(numerator, denominator, out=denominator)
    module = type(denominator).__module__
    if module.startswith("torch"):
        import torch

        return torch.div(numerator, denominator, out=denominator)
    if module.startswith("cupy"):
        import cupy

        return cupy.divide(numerator, denominator, out=denominator)
    return numerator / denominator


class _Products:
    """Products of X with tall factors, for dense or sparse X."""

    def __init__(self, X):
        self.sparse = sp.issparse(X)
        if self.sparse:
            self.X = X.tocsr()
            self.XT = X.T.tocsr()
        else:
            self.X = X
            self.XT = X.T

    def _dense(self, product):
        return np.asarray(product) if self.sparse else product

    def X_times(self, Ht):
        """``X H^T`` (n_samples x r)."""
        return self._dense(self.X @ Ht)

    def Xt_times(self, W):
        """``X^T W`` (n_features x r), the transpose of ``W^T X``."""
        if not self.sparse:
            # For a dense X, computing W^T X (r x n_features, C order) and
            # returning its transposed view is faster than a product with the
            # transposed view of X: measured 1.8x for NumPy float64 at rank 10
            # on Olivetti faces with OpenBLAS, and about 3x for PyTorch on the
            # CPU.
            return (W.T @ self.X).T
        return self._dense(self.XT @ W)


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
    X : array or sparse matrix of shape (n_samples, n_features)
        Non-negative data, float32 or float64: a NumPy array, a SciPy sparse
        matrix, or (with array-API dispatch on) a PyTorch tensor or CuPy
        array, on which device the whole fit runs.
    W : array of shape (n_samples, n_components)
        Initial codes, from the namespace of X; not modified.
    H : array of shape (n_components, n_features)
        Initial dictionary, from the namespace of X; not modified.
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
    xp = get_namespace(X, W, H)
    products = _Products(X)
    W = contiguous_copy(xp, W)
    Ht = contiguous_copy(xp, H.T)
    fit = FrobeniusFit(X)
    p = penalties

    def objective(XHt, WtW, HHt):
        return (
            fit(XHt, W, WtW, HHt, W, Ht.T)
            + p.value_W(W, WtW)
            + p.value_H(Ht.T, HHt)
        )

    def update_W(XHt, HHt):
        mu_step(W, XHt, HHt, p.l1_W, p.l2_W, l1_placement, xp=xp)
        return W.T @ W

    def update_H_products(WtW):
        mu_step(Ht, products.Xt_times(W), WtW, p.l1_H, p.l2_H, l1_placement, xp=xp)
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
        H=contiguous_copy(xp, Ht.T),
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
    )
