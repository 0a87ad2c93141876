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

The loop over iterations is the alternating driver's
(:func:`~nmfkit.solvers._alternating.fit_alternating` with :class:`MURule`).
A zero denominator is replaced by ``EPSILON`` (the float32 machine epsilon)
before dividing, as scikit-learn does: no NaN or Inf.

The updates are written once with array-API operations (``xp``): NumPy
arrays, SciPy sparse matrices (NumPy namespace) and, with scikit-learn's
``array_api_dispatch`` on, PyTorch tensors or CuPy arrays on their own device
all run this code. :func:`mu_step` is also the row update of the distributed
solver (:mod:`nmfkit.distributed`).
"""

from __future__ import annotations

import numpy as np

from .._array_api import contiguous_copy, device_of, get_namespace, is_numpy
from .._objective import EPSILON, squared_norm
from ._rule import FactorRule

__all__ = ["MURule", "mu_step"]


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
    denominator[denominator == 0] = EPSILON
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


class MURule(FactorRule):
    """The multiplicative update as a rule of the alternating driver.

    Parameters
    ----------
    l1_placement : {"numerator", "denominator"}
        Where the L1 weight enters (see :func:`mu_step`).
    """

    inner_alpha = 2.0
    array_api = True
    rows_independent = True
    #: An entry that reaches zero can never grow again, so an extrapolated
    #: point is kept at no less than this fraction of the plain iterate
    #: instead of being clipped at zero.
    keep = 0.1

    def __init__(self, l1_placement="numerator"):
        self.l1_placement = l1_placement

    def update(self, F, P, G, prepared, l1, l2, xp, need_change):
        old = contiguous_copy(xp, F) if need_change else None
        mu_step(F.T, P.T, G, l1, l2, self.l1_placement, xp=xp)
        if old is None:
            return 0.0
        old -= F
        return float(squared_norm(old))

    def project(self, Y, new):
        if isinstance(Y, np.ndarray):
            return np.maximum(Y, new * new.dtype.type(self.keep), out=Y)
        xp = get_namespace(Y, new)
        return xp.maximum(Y, new * self.keep)
