"""The objective: data fit and penalties. The one place where its math lives.

nmfkit minimizes, in scikit-learn's notation (X is n_samples x n_features,
``X ~ W H``),

    L(W, H) = 1/2 ||X - W H||_F^2
              + l1_W ||W||_1 + l2_W / 2 ||W||_F^2
              + l1_H ||H||_1 + l2_H / 2 ||H||_F^2.

The course's loss ``1/2 ||X - W H||^2 + mu/2 ||W||^2 + lambda ||W||_1 +
nu/2 ||H||^2`` is ``l1_W = lambda, l2_W = mu, l2_H = nu``. scikit-learn's
``alpha_W, alpha_H, l1_ratio`` add to these after its scaling by the number
of features (for W) and of samples (for H); see :func:`combine_penalties`.

The data-fit term is evaluated without forming an n x p matrix, through the
trace identity

    ||X - W H||_F^2 = ||X||_F^2 - 2 <X H^T, W> + <W^T W, H H^T>,

which costs O(nnz(X) r + (n + p) r^2) given the products the solvers already
hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._array_api import accumulation_dtype, get_namespace, is_numpy

__all__ = [
    "Penalties",
    "combine_penalties",
    "squared_norm",
    "frobenius_fit_from_products",
    "penalized_objective",
    "reconstruction_error",
    "BETA_LOSSES",
    "beta_to_float",
]


@dataclass(frozen=True)
class Penalties:
    """Unscaled penalty weights of the objective (all non-negative).

    Attributes
    ----------
    l1_W, l2_W, l1_H, l2_H : float
        Weights of ``||W||_1``, ``1/2 ||W||_F^2``, ``||H||_1`` and
        ``1/2 ||H||_F^2``.
    """

    l1_W: float = 0.0
    l2_W: float = 0.0
    l1_H: float = 0.0
    l2_H: float = 0.0

    def __post_init__(self):
        for name in ("l1_W", "l2_W", "l1_H", "l2_H"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"{name}={value!r} is not valid; penalties must be finite and "
                    "non-negative."
                )

    def value_W(self, W, WtW=None, *, sum_W=None):
        """Penalty terms of ``W``.

        ``WtW`` (``W^T W``) and ``sum_W`` (the sum of all entries) save a pass
        over ``W`` when known; given both, ``W`` itself is not read (it may be
        None, as when W is spread over the workers of a cluster).
        """
        return self._value(W, self.l1_W, self.l2_W, WtW, sum_W)

    def value_H(self, H, HHt=None, *, sum_H=None):
        """Penalty terms of ``H``; see :meth:`value_W`."""
        return self._value(H, self.l1_H, self.l2_H, HHt, sum_H)

    @staticmethod
    def _value(A, l1, l2, gram, total_sum):
        total = 0.0
        if l1:
            total += l1 * (float(total_sum) if total_sum is not None else _sum(A))
        if l2:
            sq = _trace(gram) if gram is not None else squared_norm(A)
            total += 0.5 * l2 * sq
        return total


def combine_penalties(
    *,
    n_samples,
    n_features,
    alpha_W=0.0,
    alpha_H="same",
    l1_ratio=0.0,
    l1_W=0.0,
    l2_W=0.0,
    l1_H=0.0,
    l2_H=0.0,
):
    """Sum scikit-learn's scaled penalties and nmfkit's unscaled ones.

    scikit-learn's objective adds ``alpha_W * n_features * (l1_ratio ||W||_1 +
    (1 - l1_ratio) / 2 ||W||_F^2)`` and the same for H with ``alpha_H *
    n_samples`` (``alpha_H="same"`` copies ``alpha_W``).

    Returns
    -------
    penalties : Penalties
    """
    alpha_H = alpha_W if isinstance(alpha_H, str) and alpha_H == "same" else alpha_H
    return Penalties(
        l1_W=float(l1_W + n_features * alpha_W * l1_ratio),
        l2_W=float(l2_W + n_features * alpha_W * (1.0 - l1_ratio)),
        l1_H=float(l1_H + n_samples * alpha_H * l1_ratio),
        l2_H=float(l2_H + n_samples * alpha_H * (1.0 - l1_ratio)),
    )


def squared_norm(X):
    """Squared Frobenius norm of a dense or sparse matrix, accumulated in float64.

    NumPy arrays and sparse matrices use a BLAS dot product; arrays of other
    array-API libraries (with dispatch on) reduce on their own device.
    """
    if sp.issparse(X):
        return _inner(X.data, X.data)
    return _inner(X, X)


def _inner(A, B):
    """Frobenius inner product ``<A, B>`` accumulated in float64."""
    xp = get_namespace(A, B)
    if is_numpy(xp):
        return float(
            np.dot(
                np.asarray(A).ravel().astype(np.float64, copy=False),
                np.asarray(B).ravel().astype(np.float64, copy=False),
            )
        )
    dtype = accumulation_dtype(xp, A)
    return float(xp.sum(xp.astype(A, dtype) * xp.astype(B, dtype)))


def _sum(A):
    """Sum of all entries, accumulated in float64."""
    xp = get_namespace(A)
    if is_numpy(xp):
        return float(np.sum(A, dtype=np.float64))
    return float(xp.sum(A, dtype=accumulation_dtype(xp, A)))


def _trace(G):
    """Trace of a square matrix, as a Python float."""
    xp = get_namespace(G)
    if is_numpy(xp):
        return float(np.trace(G))
    return float(xp.linalg.trace(G))


def frobenius_fit_from_products(X_sq_norm, XHt, W, WtW, HHt):
    """Return ``1/2 ||X - W H||_F^2`` from products the solver holds.

    Parameters
    ----------
    X_sq_norm : float
        ``||X||_F^2``.
    XHt : ndarray of shape (n_samples, n_components)
        ``X H^T``.
    W : ndarray of shape (n_samples, n_components)
    WtW : ndarray of shape (n_components, n_components)
        ``W^T W``.
    HHt : ndarray of shape (n_components, n_components)
        ``H H^T``.

    Returns
    -------
    value : float
        Clipped at zero (the identity can round slightly below it).
    """
    value = 0.5 * (X_sq_norm - 2.0 * _inner(XHt, W) + _inner(WtW, HHt))
    return max(value, 0.0)


def _products(X, W, H):
    XHt = X @ H.T
    if isinstance(XHt, np.matrix):  # SciPy sparse matrix (not array) times dense
        XHt = np.asarray(XHt)
    return XHt, W.T @ W, H @ H.T


def penalized_objective(X, W, H, penalties=None, *, X_sq_norm=None):
    """Return the full objective ``L(W, H)`` (data fit plus penalties).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    penalties : Penalties or None
        ``None`` means no penalty.
    X_sq_norm : float or None
        ``||X||_F^2`` if already known.
    """
    if X_sq_norm is None:
        X_sq_norm = squared_norm(X)
    XHt, WtW, HHt = _products(X, W, H)
    value = frobenius_fit_from_products(X_sq_norm, XHt, W, WtW, HHt)
    if penalties is not None:
        value += penalties.value_W(W, WtW) + penalties.value_H(H, HHt)
    return value


def reconstruction_error(X, W, H, *, chunk_rows=None):
    """``||X - W H||_F``, scikit-learn's ``reconstruction_err_`` for Frobenius.

    Dense X is compared with ``W H`` exactly, a block of rows at a time (so no
    n x p temporary), which stays accurate when the fit is nearly exact; sparse
    X uses the trace identity.
    """
    if sp.issparse(X):
        XHt, WtW, HHt = _products(X, W, H)
        fit = frobenius_fit_from_products(squared_norm(X), XHt, W, WtW, HHt)
        return float(np.sqrt(2.0 * fit))
    if chunk_rows is None:
        chunk_rows = max(1, (1 << 22) // max(1, X.shape[1]))
    total = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        stop = start + chunk_rows
        residual = X[start:stop] - W[start:stop] @ H
        total += squared_norm(residual)
    return float(np.sqrt(total))


BETA_LOSSES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def beta_to_float(beta_loss):
    """Map a ``beta_loss`` name or number to the numeric beta.

    Raises
    ------
    ValueError
        For an unknown name or a non-finite number.
    """
    if isinstance(beta_loss, str):
        try:
            return BETA_LOSSES[beta_loss]
        except KeyError:
            raise ValueError(
                f"beta_loss={beta_loss!r} is not valid; give one of "
                f"{tuple(BETA_LOSSES)} or a real number."
            ) from None
    if isinstance(beta_loss, bool) or not np.isscalar(beta_loss):
        raise ValueError(
            f"beta_loss={beta_loss!r} is not valid; give one of "
            f"{tuple(BETA_LOSSES)} or a real number."
        )
    beta = float(beta_loss)
    if not np.isfinite(beta):
        raise ValueError(f"beta_loss={beta_loss!r} must be finite.")
    return beta
