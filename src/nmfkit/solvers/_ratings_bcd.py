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

Each iteration minimizes the objective exactly over one block at a time,
in two halves:

- users' half, on the residual in row-major (CSR) order: the mean (``mu +=
  mean of the residual``, when ``update_H``), every user bias ``u_i =
  sum_j (R_ij + u_i) / (n_i + l2_bias)`` over the ``n_i`` ratings of user
  ``i``, then each column of ``W_taste`` in turn (the HALS update on the
  residual);
- items' half (when ``update_H``), on the residual permuted to
  column-major (CSC) order: every item bias likewise, then each row of
  ``H_taste`` in turn.

Every update is the exact minimizer over its block (under non-negativity
for the taste factors), so the objective never increases. In each half the
sums over a user's (an item's) ratings are ``np.add.reduceat`` over
contiguous segments and a user (item) vector reaches its entries by
``np.repeat``; only the other side's taste component is gathered
(``np.take``), once per component and half, and the residual is permuted
twice per iteration, with orders and scratch arrays precomputed once. An
iteration costs O(|observed| x rank + (n + p) x rank) time and O(|observed|
+ n + p + rank x (n + p)) memory; the objective comes from the residual the
updates maintain, recomputed from the factors every ten iterations. A user
(item) without ratings gets bias 0 and taste 0, so their predictions fall
back to the mean plus the known biases.

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


class _Orders:
    """The observed entries in row-major and column-major order, precomputed once.

    Each half of an iteration works on the residual in one order: in the
    row-major (CSR) order the sums over each user's ratings are
    ``np.add.reduceat`` over contiguous segments and a user vector expands
    to the entries by ``np.repeat``; the column-major (CSC) order does the
    same for items. Only the other side's vector is gathered (one
    ``np.take`` per taste component and half iteration), and the residual
    is permuted between the orders twice per iteration.
    """

    def __init__(self, X):
        self.n_users, self.n_items = X.shape
        self.rows = X.rows
        self.cols = X.cols
        self.user_counts = X.count_per_row()
        self.item_counts = X.count_per_column()
        self.to_csc = X.csc_order
        self.to_csr = np.argsort(self.to_csc, kind="stable")
        self.rows_csc = X.rows[self.to_csc]
        self._user_segments = _Segments(X.indptr)
        self._item_segments = _Segments(X.indptr_t)

    def user_sums(self, values):
        """Sum over each user's ratings of ``values`` (CSR order)."""
        return self._user_segments.sums(values)

    def item_sums(self, values):
        """Sum over each item's ratings of ``values`` (CSC order)."""
        return self._item_segments.sums(values)


class _Segments:
    """Sums over the contiguous segments ``indptr[i]:indptr[i + 1]`` (0 if empty)."""

    def __init__(self, indptr):
        counts = np.diff(indptr)
        self.size = counts.size
        self.nonempty = np.flatnonzero(counts)
        self.starts = indptr[:-1][self.nonempty]
        self.all_nonempty = self.nonempty.size == self.size

    def sums(self, values):
        totals = np.add.reduceat(values, self.starts)
        if self.all_nonempty:
            return totals
        out = np.zeros(self.size)
        out[self.nonempty] = totals
        return out


def _nonnegative_ratio(numerator, denominator):
    """``max(numerator, 0) / denominator``, 0 where the denominator is 0."""
    numerator = np.maximum(numerator, 0.0)
    return np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0
    )


def _bias_update(bias, R, sums, counts, l2_bias):
    """Exact minimization over every bias of one side; returns the change."""
    total = sums(R) + counts * bias
    denominator = counts + l2_bias
    new = np.divide(total, denominator, out=np.zeros_like(total), where=denominator > 0)
    change = new - bias
    bias[:] = new
    return np.repeat(change, counts)


def _factor_update(F, G, R, sums, counts, gather, l1, l2, buffers):
    """Exact updates of the rows of ``F`` (one side's tastes), one at a time.

    ``R`` is the residual in this side's order (updated in place), ``F`` is
    (r, this side's size) and ``G`` (r, other side's size); ``gather``
    takes the other side's values to this order. The update of ``F[k]`` is
    the exact minimizer of the objective over it (HALS on the residual):
    ``max(sum (R + F[k] g) g - l1, 0) / (sum g^2 + l2)`` per user (item).
    ``buffers`` are two scratch arrays of R's size (no allocation per
    component).
    """
    g, scratch = buffers
    for k in range(F.shape[0]):
        G[k].take(gather, out=g, mode="clip")  # indices are within bounds
        squares = sums(np.multiply(g, g, out=scratch))
        old = F[k]
        new = _nonnegative_ratio(
            sums(np.multiply(R, g, out=scratch)) + old * squares - l1, squares + l2
        )
        R -= np.multiply(np.repeat(new - old, counts), g, out=scratch)
        F[k] = new


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
    n_users, n_items = X.shape
    W = np.array(W, order="C", copy=True)
    H = np.array(H, order="C", copy=True)
    r = W.shape[1] - N_EXTRA_COMPONENTS
    values = X.values.astype(np.float64)
    orders = _Orders(X)
    p = penalties
    l2_bias = float(l2_bias)
    # The constants of the layout, and the biases and mean they carry.
    a = float(H[r, 0])
    c = float(W[0, r + 1])
    d = float(W[0, r + 2])
    user_bias = W[:, r].astype(np.float64) * a
    item_bias = H[r + 1].astype(np.float64) * c
    mean = float(H[r + 2, 0]) * d
    # The tastes as rows (component k of W is W_taste[k]), in float64.
    W_taste = np.array(W[:, :r].T, dtype=np.float64, order="C")
    H_taste = np.array(H[:r], dtype=np.float64, order="C")

    if weighting == "count":
        user_weight = orders.user_counts.astype(np.float64)
        item_weight = orders.item_counts.astype(np.float64)
    else:
        user_weight, item_weight = np.ones(n_users), np.ones(n_items)

    def write_back():
        """The factors the monitor holds: the state after a whole iteration."""
        W[:, :r] = W_taste.T
        H[:r] = H_taste
        W[:, r] = user_bias / a
        H[r + 1] = item_bias / c
        H[r + 2] = mean / d

    def penalty(F, weight, l1, l2):
        total = 0.0
        if l1:
            total += l1 * float(F.sum(axis=0) @ weight)
        if l2:
            total += 0.5 * l2 * float(np.einsum("ki,ki->i", F, F) @ weight)
        return total

    def objective(fit):
        return (
            fit
            + penalty(W_taste, user_weight, p.l1_W, p.l2_W)
            + penalty(H_taste, item_weight, p.l1_H, p.l2_H)
            + 0.5
            * l2_bias
            * (float(user_bias @ user_bias) + float(item_bias @ item_bias))
        )

    def residual_and_objective():
        predictions = sampled_product(W, H.T, X.rows, X.cols).astype(np.float64)
        return values - predictions, objective(masked_fit(values, predictions))

    user_l1, user_l2 = p.l1_W * user_weight, p.l2_W * user_weight
    item_l1, item_l2 = p.l1_H * item_weight, p.l2_H * item_weight
    R, value = residual_and_objective()
    buffers = (np.empty_like(R), np.empty_like(R))
    R_csc = np.empty_like(R)
    monitor.start(value, W, H)
    stop = monitor.max_iter <= 0
    while not stop:
        # users' half, on the residual in row-major order
        if update_H:
            shift = float(R.mean())
            mean += shift
            R -= shift
        R -= _bias_update(
            user_bias, R, orders.user_sums, orders.user_counts, l2_bias
        )
        _factor_update(
            W_taste, H_taste, R, orders.user_sums, orders.user_counts,
            orders.cols, user_l1, user_l2, buffers,
        )
        if update_H:
            # items' half, on the residual in column-major order
            R_csc = R.take(orders.to_csc, out=R_csc, mode="clip")
            R_csc -= _bias_update(
                item_bias, R_csc, orders.item_sums, orders.item_counts, l2_bias
            )
            _factor_update(
                H_taste, W_taste, R_csc, orders.item_sums, orders.item_counts,
                orders.rows_csc, item_l1, item_l2, buffers,
            )
            R_csc.take(orders.to_csr, out=R, mode="clip")
        write_back()
        if monitor.n_iter % _REFRESH_EVERY == _REFRESH_EVERY - 1:
            # a fresh residual now and then keeps rounding from accumulating
            R, value = residual_and_objective()
        else:
            value = objective(0.5 * float(R @ R))
        stop = monitor.update(value, W, H)
    return SolverResult(
        W=W,
        H=H,
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
    )
