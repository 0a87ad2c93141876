"""Block coordinate descent for ratings: mean, signed biases and non-negative tastes.

The model of the observed ratings ``x_ij`` is

    x_ij ~ mu + u_i + v_j + sum_k W_ik H_kj,

with a global mean ``mu``, signed user and item biases ``u`` and ``v`` and
non-negative taste factors ``W``, ``H``. The objective, over the observed
entries only, is

    1/2 sum_{(i, j) observed} (x_ij - mu - u_i - v_j - (W H)_ij)^2
        + l1_W ||W||_1 + l2_W / 2 ||W||_F^2 + l1_H ||H||_1 + l2_H / 2 ||H||_F^2
        + l2_bias / 2 (||u||^2 + ||v||^2).

The biases are shrunk towards 0 by ``l2_bias`` (so a user or item with few
ratings is predicted near the mean, as by a baseline predictor), the mean is
not penalized.

Layout (the solver contract carries two factors only). The biases and the
mean travel inside the factors as three extra components, so that
checkpoints, interruptions and the unit-scale rescaling of
:mod:`nmfkit._scaling` handle them like any factor. With ``r`` taste
components, ``W`` has ``r + 3`` columns and ``H`` ``r + 3`` rows:

    W = [W_taste | u / a | c | d],     H = [H_taste ; a | v / c | mu / d],

where ``a``, ``c``, ``d`` are positive constants (the row ``H[r]`` and the
columns ``W[:, r + 1]``, ``W[:, r + 2]``, equal to 1 when a fit starts, to
``sqrt(s)`` once mapped to the user's scale): ``W H`` is then the model
above, the biases are ``u = W[:, r] H[r, 0]``, ``v = H[r + 1] W[0, r + 1]``
and ``mu = H[r + 2, 0] W[0, r + 2]`` (:func:`split_ratings_factors`). At any
scale ``s`` of the ratings, the biases and the mean scale like ``s``, the
taste factors like ``sqrt(s)``, and ``l2_bias`` is unchanged (its term
scales like ``s^2``, as the data fit does), so the rescaled problem is
exactly equivalent.

Each iteration minimizes the objective exactly over one block at a time:

- the mean: ``mu += mean of the residual`` (when ``update_H``);
- the user biases, each ``u_i = sum_j (R_ij + u_i) / (n_i + l2_bias)`` over
  the ``n_i`` ratings of user ``i``;
- the item biases likewise (when ``update_H``);
- each row of ``H_taste`` and each column of ``W_taste`` in turn, the HALS
  update of :mod:`nmfkit.solvers._masked_hals` on the residual.

Every update is the exact minimizer over its block (under non-negativity
for the taste factors), so the objective never increases. Each step is a
pass over the observed entries (gathers and ``np.bincount``): an iteration
costs O(|observed| x rank + (n + p) x rank) time and O(|observed| + n + p)
extra memory; the objective comes from the residual the updates maintain,
recomputed from the factors every ten iterations. A user (item) without
ratings gets bias 0 and taste 0, so their predictions fall back to the mean
plus the known biases.

With ``update_H=False`` only the user side (user biases, ``W_taste``) is
fitted: the codes of new users under fixed items and mean.
"""

from __future__ import annotations

import numpy as np

from .._objective import masked_fit, sampled_product
from ._monitor import SolverResult

__all__ = [
    "fit_ratings_bcd",
    "ratings_factors",
    "split_ratings_factors",
    "N_EXTRA_COMPONENTS",
    "SIGNED_H_ROWS",
    "SIGNED_W_COLUMNS",
]

#: Extra components of the layout: user bias, item bias, mean.
N_EXTRA_COMPONENTS = 3
#: The parts of the layout that may be negative: the user bias column of W,
#: the item bias and mean rows of H (negative indices).
SIGNED_W_COLUMNS = (-3,)
SIGNED_H_ROWS = (-2, -1)
#: Iterations between two residuals computed afresh from the factors (in
#: between, the residual the updates maintain gives the objective).
_REFRESH_EVERY = 10


def ratings_factors(W_taste, H_taste, user_bias, item_bias, mean):
    """Pack taste factors, biases and mean into the solver's layout.

    Parameters
    ----------
    W_taste : ndarray of shape (n_users, r)
    H_taste : ndarray of shape (r, n_items)
    user_bias : ndarray of shape (n_users,)
    item_bias : ndarray of shape (n_items,)
    mean : float

    Returns
    -------
    W : ndarray of shape (n_users, r + 3)
    H : ndarray of shape (r + 3, n_items)
        With the constants ``a = c = d = 1`` (module docstring).
    """
    n_users, r = W_taste.shape
    n_items = H_taste.shape[1]
    dtype = np.result_type(W_taste, H_taste, np.float32)
    W = np.ones((n_users, r + N_EXTRA_COMPONENTS), dtype=dtype)
    H = np.ones((r + N_EXTRA_COMPONENTS, n_items), dtype=dtype)
    W[:, :r] = W_taste
    H[:r] = H_taste
    W[:, r] = user_bias
    H[r + 1] = item_bias
    H[r + 2] = mean
    return W, H


def split_ratings_factors(W, H):
    """Inverse of :func:`ratings_factors`, at any scale of the constants.

    Returns
    -------
    W_taste, H_taste, user_bias, item_bias, mean
        ``mean`` a float, the others new arrays.
    """
    r = W.shape[1] - N_EXTRA_COMPONENTS
    user_bias = W[:, r] * H[r, 0]
    item_bias = H[r + 1] * W[0, r + 1]
    mean = float(H[r + 2, 0]) * float(W[0, r + 2])
    return (
        np.array(W[:, :r], order="C"),
        np.array(H[:r], order="C"),
        np.array(user_bias),
        np.array(item_bias),
        mean,
    )


def _nonnegative_ratio(numerator, l1, denominator):
    """``max(numerator - l1, 0) / denominator``, 0 where the denominator is 0."""
    numerator = np.maximum(numerator - l1, 0.0)
    return np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0
    )


def _taste_update(W, Ht, R, X, pattern, weights, penalties, n_taste, update_H):
    """One pass of exact updates over the taste components, in place.

    For each component k (CCD++ order): take it out of the residual, update
    ``W[:, k]`` exactly, then ``H[k]`` exactly, put it back. The sums over
    the observed entries are sparse matrix-vector products on the residual
    (CSR) and its transpose (a CSC view), so no entry is gathered twice.
    """
    rows, cols = X.rows, X.cols
    user_weight, item_weight = weights
    p = penalties
    pattern, pattern_t = pattern
    residual = X.with_values(R)  # shares R's memory: follows its updates
    if not np.shares_memory(residual.data, R):  # pragma: no cover (SciPy copied)
        raise RuntimeError("the residual matrix does not share the residual")
    residual_t = residual.T
    for k in range(n_taste):
        w = np.ascontiguousarray(W[:, k], dtype=np.float64)
        h = np.ascontiguousarray(Ht[:, k], dtype=np.float64)
        R += w[rows] * h[cols]
        w = _nonnegative_ratio(
            residual @ h,
            p.l1_W * user_weight,
            pattern @ np.square(h) + p.l2_W * user_weight,
        )
        W[:, k] = w
        if update_H:
            h = _nonnegative_ratio(
                residual_t @ w,
                p.l1_H * item_weight,
                pattern_t @ np.square(w) + p.l2_H * item_weight,
            )
            Ht[:, k] = h
        R -= w[rows] * h[cols]


def _bias_update(bias, R, index, size, l2_bias):
    """Exact minimization over every bias of one side, in place (R too)."""
    counts = np.bincount(index, minlength=size).astype(np.float64)
    total = np.bincount(index, weights=R, minlength=size) + counts * bias
    denominator = counts + l2_bias
    new = np.divide(total, denominator, out=np.zeros(size), where=denominator > 0)
    R -= (new - bias)[index]
    bias[:] = new


def fit_ratings_bcd(
    X, W, H, penalties, *, monitor, update_H=True, l2_bias=0.0, weighting="none"
):
    """Fit mean, signed biases and non-negative tastes by block coordinate descent.

    Parameters
    ----------
    X : ObservedEntries
        The observed ratings (any sign).
    W : ndarray of shape (n_users, r + 3)
        Initial factors in the layout of the module docstring; not modified.
    H : ndarray of shape (r + 3, n_items)
        Likewise.
    penalties : Penalties
        Penalties of the taste factors ``W_taste`` and ``H_taste``.
    monitor : ConvergenceMonitor
    update_H : bool, default=True
        If False, only the user biases and ``W_taste`` are fitted.
    l2_bias : float, default=0.0
        Weight of ``1/2 (||u||^2 + ||v||^2)``.
    weighting : {"none", "count"}, default="none"
        ``"count"`` multiplies the penalties of each row of ``W_taste`` (each
        column of ``H_taste``) by its number of ratings (weighted-lambda
        regularization, Zhou et al. 2008).

    Returns
    -------
    result : SolverResult
        Factors in the same layout, the constants kept.
    """
    rows, cols = X.rows, X.cols
    n_users, n_items = X.shape
    W = np.array(W, order="C", copy=True)
    Ht = np.array(H.T, order="C", copy=True)
    r = W.shape[1] - N_EXTRA_COMPONENTS
    values = X.values.astype(np.float64)
    p = penalties
    l2_bias = float(l2_bias)
    # The constants of the layout, and the biases and mean they carry.
    a = float(Ht[0, r])
    c = float(W[0, r + 1])
    d = float(W[0, r + 2])
    user_bias = W[:, r].astype(np.float64) * a
    item_bias = Ht[:, r + 1].astype(np.float64) * c
    mean = float(Ht[0, r + 2]) * d

    def write_back():
        W[:, r] = user_bias / a
        Ht[:, r + 1] = item_bias / c
        Ht[:, r + 2] = mean / d

    if weighting == "count":
        user_weight = X.count_per_row().astype(np.float64)
        item_weight = X.count_per_column().astype(np.float64)
    else:
        user_weight, item_weight = np.ones(n_users), np.ones(n_items)

    pattern = X.with_values(np.ones(X.nnz))
    pattern = (pattern, pattern.T.tocsr())

    def penalty(F, weight, l1, l2):
        total = 0.0
        if l1:
            total += l1 * float(weight @ F[:, :r].sum(axis=1, dtype=np.float64))
        if l2:
            squares = np.einsum("ij,ij->i", F[:, :r], F[:, :r], dtype=np.float64)
            total += 0.5 * l2 * float(weight @ squares)
        return total

    def objective(fit):
        return (
            fit
            + penalty(W, user_weight, p.l1_W, p.l2_W)
            + penalty(Ht, item_weight, p.l1_H, p.l2_H)
            + 0.5
            * l2_bias
            * (float(user_bias @ user_bias) + float(item_bias @ item_bias))
        )

    def residual_and_objective():
        predictions = sampled_product(W, Ht, rows, cols).astype(np.float64)
        return values - predictions, objective(masked_fit(values, predictions))

    R, value = residual_and_objective()
    monitor.start(value, W, Ht.T)
    stop = monitor.max_iter <= 0
    while not stop:
        if update_H:
            shift = float(R.mean())
            mean += shift
            R -= shift
        _bias_update(user_bias, R, rows, n_users, l2_bias)
        if update_H:
            _bias_update(item_bias, R, cols, n_items, l2_bias)
        write_back()
        if r:
            _taste_update(
                W, Ht, R, X, pattern, (user_weight, item_weight), p, r, update_H
            )
        if monitor.n_iter % _REFRESH_EVERY == _REFRESH_EVERY - 1:
            # a fresh residual now and then keeps rounding from accumulating
            R, value = residual_and_objective()
        else:
            value = objective(0.5 * float(R @ R))
        stop = monitor.update(value, W, Ht.T)
    return SolverResult(
        W=W,
        H=np.ascontiguousarray(Ht.T),
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
    )
