"""Hierarchical alternating least squares (HALS), i.e. exact coordinate descent.

For one factor ``F`` (held component-major: row ``k`` is component ``k``,
shape ``(r, m)``), with the other factor fixed, the objective is

    1/2 <F F^T, G> - <P, F> + l1 sum(F) + l2/2 ||F||_F^2   (+ constant)

where ``G`` is the Gram matrix of the other factor and ``P`` its product with
the data (``H X^T`` for ``W^T``, ``W^T X`` for ``H``). Row ``k`` enters it
through a separable quadratic in its entries, which is minimized exactly over
the non-negative orthant:

    F[k] <- max(0, F[k] + (P[k] - l1 - (G + l2 I)[k] F) / (G[k, k] + l2))

One sweep does this for ``k = 0 .. r-1`` (Gauss-Seidel: each row sees the
rows already updated), so the objective never increases. This is the update
of scikit-learn's ``solver="cd"`` (Cichocki and Phan 2009; Hsieh and Dhillon
2011), applied to all entries of a component at once: a Python loop over the
``r`` components, each step a matrix-vector product and a few vector
operations over ``m`` contiguous entries.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hals_sweep", "prepare_hals"]


def prepare_hals(P, G, l1, l2):
    """Fold the penalties into the data product and the Gram matrix.

    Returns ``(P - l1, G + l2 I)`` as new arrays, computed once per factor
    update and shared by all its sweeps.
    """
    Q = P - P.dtype.type(l1) if l1 else P
    G2 = G + G.dtype.type(l2) * np.eye(G.shape[0], dtype=G.dtype) if l2 else G
    return Q, G2


def hals_sweep(F, Q, G2, order=None, *, l1_positive=False):
    """One HALS sweep over the components of ``F``, in place.

    Parameters
    ----------
    F : ndarray of shape (r, m), C-contiguous
        The factor, component-major; updated in place.
    Q : ndarray of shape (r, m)
        ``P - l1`` (see :func:`prepare_hals`).
    G2 : ndarray of shape (r, r)
        ``G + l2 I``, symmetric.
    order : sequence of int or None
        Order of the components (``None``: ``0 .. r-1``).
    l1_positive : bool
        Whether the L1 weight is positive: a component whose curvature is zero
        (the other factor's component is all zero) then goes to zero, its
        exact minimizer; otherwise it is left as it is (any value is optimal).

    Returns
    -------
    change : float
        ``||F_new - F_old||_F^2`` (float64), for the inner-loop stopping rule.
    """
    r = F.shape[0]
    change = 0.0
    diff = np.empty(F.shape[1], dtype=F.dtype)
    for k in range(r) if order is None else order:
        hess = G2[k, k]
        row = F[k]
        if hess <= 0:
            if l1_positive:
                change += float(np.dot(row, row))
                row[:] = 0
            continue
        new = G2[k] @ F  # (G + l2 I)[k] F, including the current row
        np.subtract(Q[k], new, out=new)  # minus the gradient of row k
        new *= F.dtype.type(1.0 / hess)
        new += row
        np.maximum(new, 0, out=new)
        np.subtract(new, row, out=diff)
        change += float(np.dot(diff, diff))
        row[:] = new
    return change
