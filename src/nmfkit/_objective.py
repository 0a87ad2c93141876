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
hold, where it is accurate. It is not when the fit is close next to
``||X||^2`` (a good fit, one dominant entry, exactly low-rank data): the
three terms cancel and the rounding of the products, about
``eps sqrt(k) (||X||^2 + 2 <X H^T, W> + <W^T W, H H^T>)`` for inner
dimension ``k`` (all terms are non-negative, so there is no further
cancellation inside them), swamps the difference. :class:`FrobeniusFit`
checks the error at every evaluation: where it may exceed ``1e-10``
(float64) or ``1e-4`` (float32) of the value, the fit term is computed
directly instead. The a-priori factor ``4 sqrt(k)`` is far above the error
BLAS makes in practice (about a thousand times in float32; in float64 it
sent every iteration of a good fit to the direct evaluation, a third
product per iteration), so it is replaced by a measured one: the fit term
is computed both ways at the first evaluation and every 32nd, and the
identity is trusted while 4 times the largest error seen, in units of
``eps (||X||^2 + 2 <X H^T, W> + <W^T W, H H^T>) / 2`` (at least 1),
stays within the tolerance. In float32, ``||X||^2`` is accumulated in
float64 and enters the bound a priori (``4 sqrt(k) eps_64 ||X||^2 / 2``)
instead. Sparse float64 X keeps the a-priori bound (its direct evaluation,
below, may cancel as much as the identity: no reference to measure by).
Where the identity is not trusted, the fit term is computed directly,
``sum (X - W H)^2`` a block of rows at a time (no n x p matrix; a float32
block in float32 first, again in float64 where its rounding bound exceeds
the tolerance, and once most blocks of an evaluation needed float64, the
fit's later direct evaluations go to float64 at once), and for sparse X
as the stored entries plus the low-rank remainder,
``sum_S (x - y)^2 + (<W^T W, H H^T> - sum_S y^2)`` (O(nnz r)); that
remainder is summed over all entries by blocks when it cancels too and
``n p`` is at most 2^24.

Other data-fit terms are beta-divergences with scikit-learn's definition
(:func:`beta_divergence`), so that ``reconstruction_err_ = sqrt(2 D_beta)``
means the same in both libraries:

    D_beta(X | Y) = sum_ij d_beta(X_ij | Y_ij),   Y = W H,
    d_beta(x | y) = (x^beta + (beta - 1) y^beta - beta x y^(beta - 1))
                    / (beta (beta - 1)),
    d_1(x | y) = x log(x / y) - x + y           (Kullback-Leibler),
    d_0(x | y) = x / y - log(x / y) - 1         (Itakura-Saito),
    d_2(x | y) = (x - y)^2 / 2                  (the Frobenius term above).

As in scikit-learn, entries with ``x <= eps`` (float32 machine epsilon)
at unit scale (``eps`` times the typical magnitude of X, the geometric mean
of its positive entries; see :mod:`nmfkit._scaling`: scikit-learn's
absolute ``eps`` would make the divergence of data at 1e-10 zero)
contribute only their model term (``y`` for KL, ``y^beta / beta`` in
general), and model values below ``eps`` are raised to ``eps`` where they
meet the data. For sparse X, KL costs O(nnz(X) r): the model is evaluated at
the stored entries only and ``sum_ij Y_ij`` is ``<sum of W's rows, sum of H's
columns>``. For beta = 0 the zero entries are excluded by the data
requirement (X > 0). Any other beta needs ``sum_ij Y_ij^beta`` over all
entries, which has no low-rank shortcut for non-integer beta: it is computed
a block of rows at a time, O(n p r) time and O(block p) memory, never an
n x p matrix.

For a partially observed X (a mask M of observed entries, see
:class:`~nmfkit._observed.ObservedEntries`) the fit term is

    1/2 ||M * (X - W H)||_F^2 = 1/2 sum_{(i, j) observed} (X_ij - W_i. H_.j)^2,

evaluated at the observed entries only (:func:`sampled_product`,
:func:`masked_fit`), O(|observed| r): never an n x p product or mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._array_api import accumulation_dtype, get_namespace, is_numpy

__all__ = [
    "Penalties",
    "combine_penalties",
    "constant_start",
    "penalty_change_of_rescaling",
    "squared_norm",
    "frobenius_fit_from_products",
    "FrobeniusFit",
    "direct_frobenius_fit",
    "penalized_objective",
    "reconstruction_error",
    "BETA_LOSSES",
    "beta_to_float",
    "sampled_product",
    "masked_fit",
    "masked_penalized_objective",
    "masked_reconstruction_error",
    "EPSILON",
    "ZERO_BELOW",
    "beta_divergence",
    "divergence_data_terms",
    "entrywise_divergence",
    "pointwise_divergence",
    "divergence_constant",
    "divergence_from_parts",
    "model_power_sum",
    "row_blocks",
    "BlockDivergence",
    "divergence_from_block_parts",
    "fast_power",
    "divergence_from_ratio",
    "held_out_entries",
    "held_out_features",
    "held_out_observed",
    "negative_objective",
]

#: scikit-learn's floor for model values and denominators (float32 epsilon).
EPSILON = float(np.finfo(np.float32).eps)
#: Factor entries below this (the float64 epsilon) are set to zero after the
#: beta < 1 updates, as scikit-learn does.
ZERO_BELOW = float(np.finfo(np.float64).eps)


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


def penalty_change_of_rescaling(penalties, sums_W, sums_H, s, norms_W_sq, norms_H_sq):
    """How the penalties change when component k becomes ``(W[:, k] s_k, H[k] / s_k)``.

    Parameters
    ----------
    penalties : Penalties
    sums_W, sums_H : ndarray of shape (r,)
        ``sum W[:, k]`` and ``sum H[k]`` (float64).
    s : ndarray of shape (r,)
        The scale of each component.
    norms_W_sq, norms_H_sq : ndarray of shape (r,)
        ``||W[:, k]||^2`` and ``||H[k]||^2`` (float64).

    Returns
    -------
    change : ndarray of shape (r,)
        The change of the penalty value per component (float64); the data
        fit does not change (``W H`` is the same).
    """
    p = penalties
    change = np.zeros_like(s)
    if p.l1_W or p.l1_H:
        change += p.l1_W * sums_W * (s - 1)
        change += p.l1_H * sums_H * (1 / s - 1)
    if p.l2_W or p.l2_H:
        change += 0.5 * p.l2_W * norms_W_sq * (s**2 - 1) + 0.5 * p.l2_H * norms_H_sq * (
            s**-2 - 1
        )
    return change


def constant_start(mean, n_components, *, if_zero=1.0):
    """scikit-learn's constant start of the codes, ``sqrt(mean / n_components)``.

    Positive everywhere, so the multiplicative updates can move every entry.

    Parameters
    ----------
    mean : float
        The mean of the data (of the observed entries for partially observed
        data).
    n_components : int
    if_zero : float
        The start when the mean is zero (all-zero data: any positive start,
        the codes then go to zero).

    Returns
    -------
    value : float
    """
    value = float(np.sqrt(mean / n_components)) if mean > 0 else 0.0
    return value or float(if_zero)


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


#: Relative accuracy the data-fit term is kept to, per dtype.
FIT_RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}
#: Largest ``n p`` for which a cancelling sparse remainder is summed densely.
DENSE_REMAINDER_ENTRIES = 1 << 24
#: Low precision: the identity's error is measured every this many evaluations,
MEASURE_EVERY = 32
#: and trusted up to this multiple of the largest error measured.
MEASURE_SAFETY = 4.0
_EPS64 = float(np.finfo(np.float64).eps)


class FrobeniusFit:
    """``1/2 ||X - W H||_F^2`` of one data matrix, accurate at every scale.

    Solvers build it once per fit and call it every iteration with the
    products they hold; it uses the trace identity where its rounding bound
    allows and a direct evaluation otherwise (see the module text).

    Parameters
    ----------
    X : ndarray, sparse matrix or array-API array of shape (n, p)
    sq_norm : float or None
        ``||X||_F^2`` when already known (another fit of the same X), else
        computed.

    Attributes
    ----------
    sq_norm : float
        ``||X||_F^2`` (float64 accumulation).
    n_direct : int
        Evaluations that needed the direct computation.
    in_float64 : bool
        Whether the direct evaluations of low-precision factors go to
        float64 at once (set after one whose blocks mostly needed it).
    """

    def __init__(self, X, sq_norm=None):
        self.X = X
        self.sq_norm = squared_norm(X) if sq_norm is None else float(sq_norm)
        # tensors: the accuracy of the NumPy dtype of the same width
        dtype = np.dtype(np.float32 if "32" in str(X.dtype) else np.float64)
        self._eps = float(np.finfo(dtype).eps)
        self._rtol = FIT_RTOL[dtype]
        self._growth = 4.0 * float(np.sqrt(max(X.shape)))
        # float64: ||X||^2 rounds like the products (measured with them);
        # float32: it is accumulated in float64 (a priori, negligible).
        # Sparse float64 keeps the a-priori bound: its direct evaluation
        # sums a low-rank remainder that may cancel as much as the identity,
        # so it cannot serve as the reference of a measurement
        self._norm_measured = dtype == np.float64
        self._a_priori = dtype == np.float64 and sp.issparse(X)
        self._kappa = 1.0
        self.n_direct = 0
        self.n_calls = 0
        self.in_float64 = False

    def _error_units(self, cross, gram):
        """The identity's error as ``(measured unit, a-priori part)``: the
        error is at most ``kappa * unit + a-priori part``."""
        unit = 0.5 * self._eps * (2 * abs(cross) + gram)
        if self._norm_measured:
            return unit + 0.5 * self._eps * self.sq_norm, 0.0
        return unit, 0.5 * _EPS64 * self._growth * self.sq_norm

    def identity_is_accurate(self, value, cross, gram):
        """Whether the identity's error bound is within the tolerance."""
        if self._a_priori:
            terms = self.sq_norm + 2 * abs(cross) + gram
            return 0.5 * self._eps * self._growth * terms <= self._rtol * value
        unit, fixed = self._error_units(cross, gram)
        return self._kappa * unit + fixed <= self._rtol * value

    def __call__(self, P, F, G1, G2, W, H):
        """The fit term at ``(W, H)`` from the products a solver holds.

        ``<P, F>`` is the cross term ``<X H^T, W>`` (``P = X H^T, F = W``, or
        ``P = W^T X, F = H``, or their transposes) and ``<G1, G2>`` is
        ``<W^T W, H H^T>``; ``W`` (n x r) and ``H`` (r x p), views are fine,
        are read only for a direct evaluation.
        """
        cross = _inner(P, F)
        gram = _inner(G1, G2)
        value = 0.5 * (self.sq_norm - 2.0 * cross + gram)
        calls, self.n_calls = self.n_calls, self.n_calls + 1
        if not self._a_priori and calls % MEASURE_EVERY == 0:
            return self._measure(value, cross, gram, W, H)
        if self.identity_is_accurate(value, cross, gram):
            return value
        self.n_direct += 1
        return self._direct(W, H, gram)

    def _direct(self, W, H, gram):
        """The direct evaluation; float32 factors of dense NumPy X go to
        float64 at once after an evaluation whose float32 blocks mostly
        needed it (the fit only gets closer: the float32 attempt would be
        wasted, a product and three passes over the block)."""
        if not (_numpy_factors(W, H) and type(self.X) is np.ndarray):
            return direct_frobenius_fit(self.X, W, H, gram=gram)
        if self.in_float64:
            W, H = _in_float64(W, H)
        total, refined = _blockwise_squared_residual(self.X, W, H)
        self.in_float64 = self.in_float64 or refined
        return 0.5 * total

    def _measure(self, value, cross, gram, W, H):
        """Evaluate directly (in float64) and raise ``kappa`` to
        ``MEASURE_SAFETY`` times the identity's observed error in units of
        ``eps (||X||^2 + 2 <P, F> + <G1, G2>) / 2`` (float64) or
        ``eps (2 <P, F> + <G1, G2>) / 2`` (float32, :meth:`_error_units`)."""
        self.n_direct += 1
        if _numpy_factors(W, H):
            # the reference itself in float64 (tensors accumulate so already)
            W, H = _in_float64(W, H)
        direct = direct_frobenius_fit(self.X, W, H, gram=gram)
        unit, fixed = self._error_units(cross, gram)
        if unit > 0:
            error = abs(value - direct) - fixed
            self._kappa = max(self._kappa, MEASURE_SAFETY * max(error, 0.0) / unit)
        # the identity's value where it is trusted: a fit resumed from a
        # checkpoint measures at other iterations, and returns the same values
        return value if self.identity_is_accurate(value, cross, gram) else direct


def _numpy_factors(W, H):
    return isinstance(W, np.ndarray) and isinstance(H, np.ndarray)


def _in_float64(W, H):
    """NumPy factors in float64 (not copied when they are already)."""
    return W.astype(np.float64, copy=False), H.astype(np.float64, copy=False)


def direct_frobenius_fit(X, W, H, *, gram=None):
    """``1/2 ||X - W H||_F^2`` evaluated entry by entry (module text).

    Parameters
    ----------
    X : ndarray, sparse matrix or array-API array of shape (n, p)
    W : array of shape (n, r)
    H : array of shape (r, p)
    gram : float, optional
        ``<W^T W, H H^T>`` (``||W H||^2``) if known, for sparse X.
    """
    if sp.issparse(X):
        return _direct_sparse_fit(X, np.asarray(W), np.asarray(H), gram)
    xp = get_namespace(X, W, H)
    n, p = X.shape
    total = 0.0
    if is_numpy(xp):
        return 0.5 * _blockwise_squared_residual(X, W, H)[0]
    dtype = accumulation_dtype(xp, X)
    H_block = xp.astype(H, dtype)
    for rows in row_blocks(n, p):
        residual = xp.astype(X[rows, :], dtype) - xp.astype(W[rows, :], dtype) @ H_block
        total += float(xp.sum(residual * residual))
    return 0.5 * total


def _direct_sparse_fit(X, W, H, gram):
    X = X.tocsr()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    Ht = np.ascontiguousarray(H.T)
    y = sampled_product(W, Ht, rows, X.indices).astype(np.float64)
    residual = X.data.astype(np.float64) - y
    stored = float(np.dot(residual, residual))
    if gram is None:
        gram = _inner(W.T @ W, H @ H.T)
    on_support = float(np.dot(y, y))
    remainder = gram - on_support
    eps = float(np.finfo(X.dtype).eps)
    n, p = X.shape
    cancels = 4.0 * eps * np.sqrt(max(n, p)) * gram > 1e-3 * max(remainder, 0.0)
    if cancels and n * p <= DENSE_REMAINDER_ENTRIES:
        return 0.5 * _blockwise_squared_residual(X, W, H)[0]
    return 0.5 * (stored + max(remainder, 0.0))


def _blockwise_squared_residual(X, W, H):
    """``sum (X - W H)^2`` a block of rows at a time (NumPy factors; dense or
    sparse X).

    Blocks of other dtypes (float32) are evaluated in their own precision
    first; a block whose rounding bound, ``2 r eps sum |R| (W H)`` for the
    residual R (all of W H is non-negative), exceeds ``FIT_RTOL`` of its value
    is evaluated again in float64. Returns ``(sum, whether most blocks were
    evaluated again)``.
    """
    low_precision = W.dtype != np.float64
    rank = W.shape[1]
    eps = float(np.finfo(W.dtype).eps)
    rtol = FIT_RTOL.get(np.dtype(W.dtype), 1e-5)
    H64 = None
    total = 0.0
    blocks = row_blocks(*X.shape)
    refined = 0
    for rows in blocks:
        X_block = X[rows].toarray() if sp.issparse(X) else X[rows]
        model = W[rows] @ H
        if not low_precision:
            np.subtract(X_block, model, out=model)
            total += float(np.dot(model.ravel(), model.ravel()))
            continue
        residual = X_block - model
        value = float(np.square(residual).sum(dtype=np.float64))
        np.abs(residual, out=residual)
        bound = 2.0 * (rank + 1) * eps * float(np.dot(residual.ravel(), model.ravel()))
        if bound > rtol * value:
            if H64 is None:
                H64 = H.astype(np.float64)
            residual = X_block - W[rows].astype(np.float64) @ H64
            value = float(np.dot(residual.ravel(), residual.ravel()))
            refined += 1
        total += value
    return total, 2 * refined > len(blocks)


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
    fit = FrobeniusFit(X)
    if X_sq_norm is not None:
        fit.sq_norm = float(X_sq_norm)
    XHt, WtW, HHt = _products(X, W, H)
    value = fit(XHt, W, WtW, HHt, W, H)
    if penalties is not None:
        value += penalties.value_W(W, WtW) + penalties.value_H(H, HHt)
    return value


def reconstruction_error(X, W, H, *, chunk_rows=None, beta=2.0):
    """scikit-learn's ``reconstruction_err_``: ``sqrt(2 D_beta(X | WH))``.

    For beta = 2 this is ``||X - W H||_F``.

    Dense X is compared with ``W H`` exactly, a block of rows at a time (so no
    n x p temporary), which stays accurate when the fit is nearly exact; sparse
    X uses the trace identity. Other betas use :func:`beta_divergence`.
    """
    if beta != 2:
        return float(np.sqrt(2.0 * max(beta_divergence(X, W, H, beta), 0.0)))
    if sp.issparse(X):
        return float(np.sqrt(2.0 * penalized_objective(X, W, H)))
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

    A number must be real and within [-100, 100]: the divergence and its
    updates raise the data and the model to the powers ``beta``, ``beta - 1``
    and ``beta - 2``, and beyond ``|beta| = 100`` those powers leave the
    float64 range (about 10^±308) for entries that differ by more than a
    factor of 10^3, while the usual divergences have beta in [0, 2].

    Raises
    ------
    ValueError
        For an unknown name, a value that is not a real number (a bool, a
        complex number, an array) or a number outside [-100, 100] (NaN and
        infinities included).
    """
    import numbers

    names = tuple(BETA_LOSSES)
    if isinstance(beta_loss, str):
        try:
            return BETA_LOSSES[beta_loss]
        except KeyError:
            raise ValueError(
                f"beta_loss={beta_loss!r} is not valid; give one of {names} or a "
                "real number in [-100, 100]."
            ) from None
    if isinstance(beta_loss, (bool, np.bool_)) or not isinstance(
        beta_loss, numbers.Real
    ):
        raise ValueError(
            f"beta_loss={beta_loss!r} is not valid; give one of {names} or a real "
            "number in [-100, 100]."
        )
    try:
        beta = float(beta_loss)
    except (OverflowError, ValueError, TypeError):  # an int beyond float64
        beta = float("nan")
    if not -100.0 <= beta <= 100.0:
        raise ValueError(
            f"beta_loss={beta_loss!r} is not valid: beyond [-100, 100] the powers "
            "of the data that the divergence takes overflow float64. Give a beta "
            "in [-100, 100] (2 is Frobenius, 1 Kullback-Leibler, 0 Itakura-Saito)."
        )
    return beta


# --------------------------------------------------------------------------
# Partially observed data: the fit term at the observed entries only.


def sampled_product(
    W, Ht, rows, cols, *, out=None, chunk=1 << 14, component_major=False
):
    """Entries ``(W H)[rows[t], cols[t]]`` without forming ``W H``.

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
        Or ``W^T``, of shape (n_components, n_samples), when
        ``component_major``.
    Ht : ndarray of shape (n_features, n_components)
        ``H`` transposed (a view is fine); or ``H`` itself, of shape
        (n_components, n_features), when ``component_major``.
    rows, cols : ndarray of int, same length m
        Positions, within bounds.
    out : ndarray of shape (m,), optional
        Where to write the result.
    chunk : int
        Entries per step: the gathered rows of both factors stay in cache.
    component_major : bool
        Whether the factors are given component-major (``W^T`` and ``H``,
        as the alternating driver holds them): no transposed copy is made.

    Returns
    -------
    values : ndarray of shape (m,)
        ``sum_k W[rows, k] H[k, cols]``, O(m n_components) time and
        O(chunk x n_components) temporary memory whatever m is.
    """
    m = len(rows)
    dtype = np.result_type(W.dtype, Ht.dtype)
    if out is None:
        out = np.empty(m, dtype=dtype)
    axis = 1 if component_major else 0
    r = W.shape[1 - axis]
    size = min(chunk, m)
    shape = (r, size) if component_major else (size, r)
    left, right = np.empty(shape, dtype), np.empty(shape, dtype)
    ones = np.ones(r, dtype)
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        k = stop - start
        part = (slice(None), slice(0, k)) if component_major else slice(0, k)
        # gathers into reused buffers; mode="clip" skips the bounds check
        # (positions come from a valid matrix)
        np.take(W, rows[start:stop], axis=axis, out=left[part], mode="clip")
        np.take(Ht, cols[start:stop], axis=axis, out=right[part], mode="clip")
        np.multiply(left[part], right[part], out=left[part])
        if component_major:
            np.dot(ones, left[part], out=out[start:stop])
        else:
            np.dot(left[part], ones, out=out[start:stop])
    return out


def masked_fit(values, predictions):
    """``1/2 sum (values - predictions)^2`` over observed entries, in float64.

    Parameters
    ----------
    values : ndarray of shape (nnz,)
        Observed entries of X.
    predictions : ndarray of shape (nnz,)
        ``(W H)`` at the same entries (:func:`sampled_product`).
    """
    residual = values.astype(np.float64) - predictions
    return 0.5 * float(np.dot(residual, residual))


def masked_penalized_objective(observed, W, H, penalties=None, *, predictions=None):
    """``1/2 ||M * (X - W H)||_F^2`` plus the penalties.

    Parameters
    ----------
    observed : ObservedEntries
        The observed entries of X (the mask M and the values).
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    penalties : Penalties or None
    predictions : ndarray of shape (nnz,), optional
        ``(W H)`` at the observed entries, if already known.
    """
    if predictions is None:
        predictions = sampled_product(W, H.T, observed.rows, observed.cols)
    value = masked_fit(observed.values, predictions)
    if penalties is not None:
        value += penalties.value_W(W) + penalties.value_H(H)
    return value


def masked_reconstruction_error(observed, W, H):
    """``||M * (X - W H)||_F``, the reconstruction error on observed entries."""
    return float(np.sqrt(2.0 * masked_penalized_objective(observed, W, H)))


# ----------------------------------------------------------- beta-divergence


def row_blocks(n_rows, n_cols, budget=1 << 18):
    """Row slices whose dense ``rows x n_cols`` blocks hold about ``budget`` values."""
    step = max(1, budget // max(1, n_cols))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def divergence_data_terms(x, y, beta):
    """The part of ``D_beta`` that involves the data, for given entries.

    Parameters
    ----------
    x : ndarray
        Data values (any shape); entries ``<= EPSILON`` are ignored.
    y : ndarray
        Model values ``(W H)`` at the same entries, not modified.
    beta : float
        Not 2.

    Returns
    -------
    value : float
        ``sum x log(x / y) - x`` (beta = 1), ``sum x / y - log(x / y)``
        (beta = 0) or ``sum (x^beta - beta x y^(beta - 1)) / (beta (beta - 1))``,
        with ``y`` raised to ``EPSILON``. Add the model term
        (:func:`model_power_sum`) to get the divergence.
    """
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    keep = x > EPSILON
    if not keep.all():
        x, y = x[keep], y[keep]
    y = np.maximum(y, EPSILON)
    x = x.astype(np.float64, copy=False)
    if beta == 1:
        return float(np.dot(x, np.log(x / y)) - x.sum())
    if beta == 0:
        ratio = x / y
        return float(ratio.sum() - np.log(ratio).sum())
    terms = np.sum(x**beta) - beta * np.dot(x, y ** (beta - 1))
    return float(terms / (beta * (beta - 1)))


def divergence_constant(x, beta):
    """The part of ``D_beta`` that depends on the data only (x > EPSILON).

    ``sum x log x - x`` (beta = 1), ``-sum log x`` (beta = 0) or
    ``sum x^beta / (beta (beta - 1))``. Solvers compute it once.
    """
    x = np.asarray(x).ravel()
    x = x[x > EPSILON].astype(np.float64, copy=False)
    if beta == 1:
        return float(np.dot(x, np.log(x)) - x.sum())
    if beta == 0:
        return -float(np.log(x).sum())
    return float(np.sum(x**beta) / (beta * (beta - 1)))


def divergence_from_parts(beta, constant, cross, model):
    """``D_beta`` from its three parts, as the solvers accumulate them.

    Parameters
    ----------
    beta : float
        Not 2.
    constant : float
        :func:`divergence_constant` of X.
    cross : float
        Over the entries with x > EPSILON and ``y_hat = max(y, EPSILON)``:
        ``sum x log y_hat`` (beta = 1), ``sum x / y_hat + log y_hat``
        (beta = 0), ``sum x y_hat^(beta - 1)`` (otherwise).
    model : float
        Over all entries: ``sum y`` (beta = 1), the number of entries
        (beta = 0), ``sum y^beta`` (otherwise).
    """
    if beta == 1:
        return constant - cross + model
    if beta == 0:
        return constant + cross - model
    return constant + (-beta * cross + (beta - 1) * model) / (beta * (beta - 1))


#: Below this |x / y - 1| the divergence of an entry is summed from its series.
_SERIES_BELOW = 3e-3


def pointwise_divergence(x, y, beta):
    """``d_beta(x | y)`` entry by entry, in float64, without cancellation.

    ``d_beta(x | y) = y^beta f(x / y)`` with ``f(v) = (v^beta + (beta - 1) -
    beta v) / (beta (beta - 1))`` (``v log v - v + 1`` for KL, ``v - log v -
    1`` for IS). Near an exact fit, ``v = 1 + w`` with ``|w|`` small, the
    closed form subtracts nearly equal numbers; there ``f`` is summed from
    its series ``w^2/2 + (beta-2) w^3/6 + (beta-2)(beta-3) w^4/24 +
    (beta-2)(beta-3)(beta-4) w^5/120`` (relative error below 1e-10 for
    ``|w| < 3e-3``, where the closed form's is below about 1e-10 too). The
    floors are scikit-learn's: entries ``x <= EPSILON`` count only their model
    term ``y^beta / beta`` (``y`` for KL), and ``y`` is raised to ``EPSILON``
    where it meets the data (for beta < 2).

    Parameters
    ----------
    x, y : ndarray
        Data and model values at the same entries (any shape, same size).
    beta : float
        Not 2 (for 2 the entry's term is ``(x - y)^2 / 2``).

    Returns
    -------
    d : ndarray of float64, flattened
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    out = np.empty_like(y)
    data = x > EPSILON
    model_only = ~data
    if model_only.any():
        ym = y[model_only]
        if beta == 1:
            out[model_only] = ym
        elif beta == 0:
            # scikit-learn's IS keeps the "- 1" of every entry, also of those
            # left out of the data terms (IS needs x > 0: these are tiny)
            out[model_only] = -1.0
        elif beta < 0:
            out[model_only] = np.where(ym > 0, ym, EPSILON) ** beta / beta
        else:
            out[model_only] = ym**beta / beta
    xd = x[data]
    yd = np.maximum(y[data], EPSILON) if beta < 2 else y[data]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = xd / yd
    w = v - 1.0
    if beta > 2:
        v[yd == 0] = 1.0  # replaced below
        w[yd == 0] = 0.0
    near = np.abs(w) < _SERIES_BELOW
    f = np.empty_like(v)
    wn = w[near]
    f[near] = (
        wn
        * wn
        * (
            0.5
            + wn
            * (
                (beta - 2) / 6
                + wn
                * (
                    (beta - 2) * (beta - 3) / 24
                    + wn * (beta - 2) * (beta - 3) * (beta - 4) / 120
                )
            )
        )
    )
    far = ~near
    vf = v[far]
    if beta == 1:
        f[far] = vf * np.log(vf) - vf + 1.0
    elif beta == 0:
        f[far] = vf - np.log(vf) - 1.0
    else:
        # v^beta of a model far below the data overflows: redone below
        with np.errstate(over="ignore", invalid="ignore"):
            f[far] = (vf**beta + (beta - 1) - beta * vf) / (beta * (beta - 1))
    if beta == 0:
        out[data] = f
    elif beta == 1:
        out[data] = yd * f
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            terms = yd**beta * f
        overflow = ~np.isfinite(terms) & (yd > 0)
        if overflow.any():  # x / y overflowed: the direct form has no quotient
            xo, yo = xd[overflow], yd[overflow]
            terms[overflow] = (
                xo**beta + (beta - 1) * yo**beta - beta * xo * yo ** (beta - 1)
            ) / (beta * (beta - 1))
        out[data] = terms
    if beta > 2:  # y is not floored: where it is 0, only x^beta is left
        zero = yd == 0
        if zero.any():
            terms = out[data]
            terms[zero] = xd[zero] ** beta / (beta * (beta - 1))
            out[data] = terms
    if 0 < beta < 2:
        # scikit-learn floors y in the data terms only: the model term of an
        # entry with y < EPSILON is y^beta / beta (y for KL), not EPSILON's
        raw = y[data]
        low = raw < EPSILON
        if low.any():
            terms = out[data]
            if beta == 1:
                terms[low] += raw[low] - EPSILON
            else:
                terms[low] += (raw[low] ** beta - EPSILON**beta) / beta
            out[data] = terms
    return out


def entrywise_divergence(x, y, beta):
    """``D_beta(x | y)`` summed over given entries (``1/2 sum (x - y)^2`` for 2).

    Parameters
    ----------
    x, y : ndarray
        Data and model values at the same entries.
    beta : float
    """
    if beta == 2:
        diff = (
            np.asarray(x, dtype=np.float64).ravel()
            - np.asarray(y, dtype=np.float64).ravel()
        )
        return 0.5 * float(np.dot(diff, diff))
    return divergence_data_terms(x, y, beta) + model_power_sum(np.asarray(y), beta)


def model_power_sum(M, beta):
    """The model part of ``D_beta`` for a dense block ``M`` of ``W H``.

    ``sum M`` (beta = 1), ``-M.size`` (beta = 0, the ``-1`` of each entry) or
    ``sum M^beta / beta``. Zeros of ``M`` stay zero for beta > 0.
    """
    if beta == 1:
        return float(np.sum(M, dtype=np.float64))
    if beta == 0:
        return -float(M.size)
    if beta < 0:
        M = np.where(M > 0, M, EPSILON)  # 0^beta would be infinite
    return float(np.sum(M**beta, dtype=np.float64) / beta)


def _sparse_entries(X):
    X = X.tocsr()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return X, rows


def beta_divergence(X, W, H, beta):
    """``D_beta(X | W H)`` with scikit-learn's definition (see the module text).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    beta : float or str
        The beta of the divergence, or a name of :data:`BETA_LOSSES`.

    Returns
    -------
    value : float
        Never forms the dense n x p product: dense X is visited a block of
        rows at a time; sparse X costs O(nnz r) for beta in {0, 1, 2} and
        O(n p r) time in row blocks otherwise.
    """
    beta = beta_to_float(beta)
    W = np.asarray(W)
    H = np.asarray(H)
    if beta == 2:
        if sp.issparse(X):
            return penalized_objective(X, W, H)
        return 0.5 * reconstruction_error(X, W, H) ** 2
    # The floors at EPSILON apply at unit scale, as in every fit
    # (nmfkit._scaling): D_beta(X | WH) = s^beta D_beta(X / s | WH / s).
    from ._scaling import Rescaling

    rescaling = Rescaling.for_fit(X, beta)
    if not rescaling.is_identity:
        W_unit, H_unit = rescaling.to_internal(W, H)
        unit = _unit_scale_divergence(rescaling.scale_data(X), W_unit, H_unit, beta)
        return unit * rescaling.objective_factor
    return _unit_scale_divergence(X, W, H, beta)


def _unit_scale_divergence(X, W, H, beta):
    """:func:`beta_divergence` for beta != 2, floors at EPSILON as they are.

    Dense X: :func:`pointwise_divergence` over blocks of rows. Sparse X: the
    stored entries pointwise plus the model term of the others,
    ``sum_all y^beta / beta - sum_stored y^beta / beta`` (``sum y`` for KL,
    O(nnz r) by ``<column sums of W, row sums of H>``; other betas sum the
    model over all entries by blocks).
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        X, rows = _sparse_entries(X)
        Ht = np.ascontiguousarray(H.T)
        y = sampled_product(W, Ht, rows, X.indices)
        total = float(pointwise_divergence(X.data, y, beta).sum())
        if beta == 0:
            # scikit-learn's IS counts "- 1" for every entry; an unstored
            # zero has no data term (the dense path's model-only entries)
            return total - float(n_samples * n_features - X.data.size)
        if beta == 1:
            model_all = float(
                np.dot(W.sum(axis=0, dtype=np.float64), H.sum(axis=1, dtype=np.float64))
            )
            return total + max(model_all - float(y.sum(dtype=np.float64)), 0.0)
        model_all = sum(
            model_power_sum(W[block] @ H, beta)
            for block in row_blocks(n_samples, n_features)
        )
        stored = model_power_sum(y, beta)
        return total + max(model_all - stored, 0.0)
    total = 0.0
    for block in row_blocks(n_samples, n_features):
        total += float(pointwise_divergence(X[block], W[block] @ H, beta).sum())
    return total


def divergence_from_ratio(x, ratio, y_sum, x_sum, beta, *, rtol=1e-10):
    """``D_beta`` of a dense block from the ratio ``x / y`` a solver holds.

    For KL and IS the divergence of data entries ``x > EPSILON`` is a sum of
    functions of the ratio ``v = x / max(y, EPSILON)``:

        D_1 = sum x log v - sum x + sum y,    D_0 = sum v - sum log v - n,

    so a solver that already holds ``v`` (the multiplicative updates divide
    by the model) pays one logarithm per entry and two dot products, instead
    of the entrywise evaluation of :func:`pointwise_divergence`. The three
    sums cancel near an exact fit: the rounding bound ``4 sqrt(n) eps`` times
    the sum of their magnitudes is compared with ``rtol`` times the value,
    and None is returned where it is exceeded (the caller then evaluates
    entry by entry).

    Parameters
    ----------
    x : ndarray
        Data values of the block, all ``> EPSILON`` (the caller checks).
    ratio : ndarray
        ``x / max(y, EPSILON)`` at the same entries, not modified.
    y_sum : float
        ``sum y`` over the block, not floored (scikit-learn floors the model
        in the data terms only); KL only, ignored for IS.
    x_sum : float
        ``sum x`` over the block (KL only; ignored for IS).
    beta : {0, 1}
    rtol : float
        Relative accuracy asked of the value.

    Returns
    -------
    value : float or None
        The divergence, or None where rounding could exceed ``rtol``.

    Raises
    ------
    ValueError
        For a beta other than 0 and 1.

    See Also
    --------
    pointwise_divergence : The entrywise evaluation, accurate at every fit.

    References
    ----------
    Fevotte, C. and Idier, J. (2011). Algorithms for nonnegative matrix
    factorization with the beta-divergence. Neural Computation 23(9).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0]); y = np.array([2.0, 2.0, 1.0])
    >>> fast = divergence_from_ratio(x, x / y, y.sum(), x.sum(), 1.0)
    >>> bool(np.isclose(fast, pointwise_divergence(x, y, 1.0).sum()))
    True
    """
    if beta not in (0, 1):
        raise ValueError(f"beta={beta!r} is not valid here; give 0 or 1.")
    v = np.asarray(ratio).ravel()
    logs = np.log(v)
    n = v.size
    if beta == 1:
        xv = np.asarray(x).ravel()
        cross = float(np.dot(xv, logs))
        value = cross - float(x_sum) + float(y_sum)
        magnitude = float(np.dot(xv, np.abs(logs))) + float(x_sum) + float(y_sum)
    else:
        v_sum = float(np.sum(v, dtype=np.float64))
        value = v_sum - float(np.sum(logs, dtype=np.float64)) - n
        magnitude = v_sum + float(np.sum(np.abs(logs), dtype=np.float64)) + n
    eps = float(np.finfo(v.dtype).eps)
    if 4.0 * np.sqrt(max(n, 1)) * eps * magnitude > rtol * max(value, 0.0):
        return None
    return value


def fast_power(M, exponent):
    """``M ** exponent`` (new array), fast for integer and half-integer exponents.

    ``np.power`` with a general exponent costs an exp and a log per entry;
    for ``exponent = k / 2`` a square root and a few products give the same
    value to a few units in the last place (beta = 0.5, 1.5, 2.5, 3 ...).
    """
    twice = 2.0 * exponent
    if twice != round(twice) or abs(twice) > 8:
        return M**exponent
    k = int(round(twice))
    if k == 0:
        return np.ones_like(M)
    if k % 2:  # M^(|k|/2) = sqrt(M) M^((|k| - 1) / 2)
        out = np.sqrt(M)
        repeats = (abs(k) - 1) // 2
    else:
        out = M.copy()
        repeats = abs(k) // 2 - 1
    for _ in range(repeats):
        out *= M
    if k < 0:
        np.reciprocal(out, out=out)
    return out


class BlockDivergence:
    """The beta-divergence of X, accumulated by blocks of rows.

    The solvers visit X a block of rows at a time (the beta-divergence MU,
    the online solver, the Dask blocks); on each block they hand over the
    powers of the model they computed for their updates, and this class turns
    them into the block's parts ``(cross, model, direct)`` of the divergence
    (see :func:`divergence_from_parts`), then the parts into the divergence
    (:meth:`objective`). Entries of X in ``(0, EPSILON]`` are left out of the
    divergence (scikit-learn's rule): the cross part is computed over all
    entries of a block, then these entries' share is taken back out.

    Parameters
    ----------
    X : ndarray (C-contiguous) or CSR matrix with sorted indices
    beta : float
    blocks : sequence of slice
        The blocks of rows the solver visits X in.
    values : ndarray, optional
        The stored values of X (``X.data`` for CSR, X itself when dense).
    """

    def __init__(self, X, beta, blocks, *, values=None):
        self.beta = float(beta)
        self.sparse = sp.issparse(X)
        self.shape = X.shape
        if values is None:
            values = X.data if self.sparse else X
        self._values = values
        self._constant = None
        self._tiny = {}
        if np.any((values > 0) & (values <= EPSILON)):
            for block in blocks:
                if self.sparse:
                    lo, hi = X.indptr[block.start], X.indptr[block.stop]
                    xb = X.data[lo:hi]
                else:
                    xb = X[block].ravel()
                idx = np.flatnonzero((xb > 0) & (xb <= EPSILON))
                if idx.size:
                    self._tiny[block.start] = (idx, xb[idx])

    def cross(self, block, x, y, y_hat, A):
        """Cross part of the divergence on a block (see :func:`divergence_from_parts`).

        ``y`` holds the model at the block's entries (dense: the block of W H;
        None when only ``y_hat`` is kept), ``y_hat`` its clipped values (for
        beta = 0 their reciprocals), ``A`` the numerator weights.
        """
        beta = self.beta
        if beta == 1:
            cross = float(np.dot(x.ravel(), np.log(y_hat).ravel()))
        elif beta == 0:  # here A = x / y_hat and y_hat = 1 / y_hat
            cross = float(A.sum() - np.log(y_hat).sum())
        else:
            cross = float(np.dot(A.ravel(), y_hat.ravel()))
        tiny = self._tiny.get(block.start)
        if tiny is not None:
            idx, xt = tiny
            if y is None:  # beta = 0 on a dense block: y_hat holds 1 / y_hat
                yt = 1.0 / y_hat.ravel()[idx]
            else:
                yt = y.ravel()[idx]
            yt = np.maximum(yt, EPSILON) if beta < 2 else yt
            if beta == 1:
                cross -= float(np.dot(xt, np.log(yt)))
            elif beta == 0:
                cross -= float(np.sum(xt / yt + np.log(yt)))
            else:
                cross -= float(np.dot(xt, fast_power(yt, beta - 1)))
        return cross

    def model_sum(self, M, B):
        """``sum M^beta`` from ``B = M^(beta-1)`` (clipped for beta < 1)."""
        beta = self.beta
        total = float(np.dot(B.ravel(), M.ravel()))
        if beta < 1:
            if M.size and M.min() < EPSILON:
                tiny = M < EPSILON
                Mt = M[tiny]
                total += model_power_sum(Mt, beta) * beta - float(np.dot(B[tiny], Mt))
        return total

    @property
    def constant(self):
        """The data-only part of the divergence (computed once, on demand)."""
        if self._constant is None:
            self._constant = divergence_constant(self._values, self.beta)
        return self._constant

    def objective(self, parts, W, Ht):
        """The divergence from the accumulated block parts (dense X: the sum
        of its blocks' pointwise divergences)."""
        if not self.sparse:
            return max(float(parts[2]), 0.0)
        return divergence_from_block_parts(
            self.beta,
            self.constant,
            parts,
            W.sum(axis=0, dtype=np.float64),
            Ht,
            self.shape[0] * self.shape[1],
        )


def divergence_from_block_parts(beta, constant, parts, W_col_sum, Ht, n_entries):
    """The divergence from the parts :class:`BlockDivergence` accumulates.

    Parameters
    ----------
    beta : float
    constant : float
        :func:`~nmfkit._objective.divergence_constant` of X.
    parts : sequence of 3 floats
        ``(cross, model, direct)`` summed over the blocks of rows.
    W_col_sum : ndarray of shape (n_components,)
        Column sums of W (float64): the model sum for KL is
        ``W_col_sum . H 1``.
    Ht : ndarray of shape (n_features, n_components)
    n_entries : int
        ``n_samples * n_features`` (the model part for beta = 0).
    """
    cross, model, direct = (float(v) for v in parts)
    if beta == 1:
        model = float(np.dot(W_col_sum, Ht.sum(axis=0, dtype=np.float64)))
    elif beta == 0:
        model = float(n_entries)
    value = divergence_from_parts(beta, constant, cross, model)
    # the parts cancel near an exact fit: rounding may dip below zero
    return max(value + direct, 0.0)


# ------------------------------------------------------------ held-out scores
# NMF.score fits the codes of each row to part of its entries and measures
# the data fit on the others (see its docstring); the splits and the
# measurement are here, the codes come from the estimator's ``codes``
# callable (its transform).


def held_out_entries(X, H, codes):
    """Codes and scaled held-out Frobenius fit, entrywise split.

    The split of entry (i, j) is the same as one draw of
    ``RandomState(0).random_sample(X.shape) < 0.5`` (held when True): the
    draws are made a block of rows at a time, in order, so only one block is
    dense.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    H : ndarray of shape (n_components, n_features)
    codes : callable
        ``codes(block, mask) -> W_block``: the codes of a dense block of rows
        fitted to its entries where ``mask`` is True.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    fit : float
        ``1/2`` the squared residual over the held entries, scaled by
        ``n_entries / n_held``.
    """
    rng = np.random.RandomState(0)
    fit, n_held, W_parts = 0.0, 0, []
    for rows in row_blocks(X.shape[0], X.shape[1]):
        block = X[rows].toarray() if sp.issparse(X) else X[rows]
        held = rng.random_sample(block.shape) < 0.5
        W_block = codes(block, ~held)
        prediction = W_block @ H
        fit += entrywise_divergence(block[held], prediction[held], 2)
        n_held += int(np.count_nonzero(held))
        W_parts.append(W_block)
    return np.vstack(W_parts), fit * (X.shape[0] * X.shape[1]) / max(n_held, 1)


def held_out_features(X, H, codes):
    """Codes and scaled held-out Frobenius fit for sparse X, split by columns.

    A fixed random half of the columns is held (at least one column held and
    one kept). The codes solve the penalized subproblem on the kept columns:
    X with the held columns zeroed under a dictionary whose held columns are
    zero, which leaves those columns out of the fit exactly. The held fit
    term is the stored entries' residuals plus the model's squares at the
    unstored ones, from the Gram matrices: O(nnz x rank + (n + p) x rank^2).

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    H : ndarray of shape (n_components, n_features)
    codes : callable
        ``codes(X_kept, H_kept) -> W``: the codes of ``X_kept`` under the
        dictionary ``H_kept``.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    fit : float
    """
    n_samples, n_features = X.shape
    held = np.random.RandomState(0).random_sample(n_features) < 0.5
    if not held.any():
        held[0] = True
    if held.all():
        held[0] = False
    kept = (~held).astype(X.dtype)
    W = codes(X @ sp.diags(kept), H * kept)
    X_held = sp.csr_matrix(X[:, np.flatnonzero(held)])
    H_held = np.ascontiguousarray(H[:, held], dtype=np.float64)
    W64 = np.asarray(W, dtype=np.float64)
    rows = np.repeat(np.arange(n_samples), np.diff(X_held.indptr))
    prediction = sampled_product(W64, H_held.T, rows, X_held.indices)
    data = X_held.data.astype(np.float64)
    stored = 0.5 * float(np.sum((data - prediction) ** 2))
    # 1/2 sum of (W H_held)^2 over the entries X does not store
    unstored = 0.5 * (
        float(np.sum((W64.T @ W64) * (H_held @ H_held.T)))
        - float(np.sum(prediction**2))
    )
    fit = stored + max(unstored, 0.0)
    return W, fit * n_features / int(np.count_nonzero(held))


def held_out_observed(observed, H, codes):
    """Codes and scaled held-out fit of partially observed data.

    The split is among the observed entries only (``random_sample(
    n_observed) < 0.5`` in row-major order); the fit is scaled to all
    observed entries.

    Parameters
    ----------
    observed : ObservedEntries
    H : ndarray of shape (n_components, n_features)
    codes : callable
        ``codes(X_kept, mask_kept) -> W``: the codes fitted to the kept
        entries (CSR matrices of the values and of the mask).

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    fit : float
    """
    held = np.random.RandomState(0).random_sample(observed.nnz) < 0.5
    kept = ~held
    n_samples = observed.shape[0]
    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    np.cumsum(np.bincount(observed.rows[kept], minlength=n_samples), out=indptr[1:])
    cols = observed.cols[kept]
    X_kept = sp.csr_matrix((observed.values[kept], cols, indptr), shape=observed.shape)
    mask_kept = sp.csr_matrix(
        (np.ones(cols.size, dtype=bool), cols, indptr), shape=observed.shape
    )
    W = codes(X_kept, mask_kept)
    prediction = sampled_product(W, H.T, observed.rows[held], observed.cols[held])
    n_held = int(np.count_nonzero(held))
    fit = masked_fit(observed.values[held], prediction) * observed.nnz
    return W, fit / max(n_held, 1)


def negative_objective(fit, penalties, W, H):
    """The score ``-(fit + penalties of W and H)`` (higher is better),
    checked finite (never NaN to a grid search)."""
    from ._validation import check_finite_output

    score = -float(fit + penalties.value_W(W) + penalties.value_H(H))
    check_finite_output(np.asarray(score), "the score")
    return score
