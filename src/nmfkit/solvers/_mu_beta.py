"""Multiplicative updates for the penalized beta-divergence objective.

In scikit-learn's notation (``X ~ W H``, ``Y = W H``) the objective is
``D_beta(X | W H)`` (see :mod:`nmfkit._objective`) plus the four penalties
``l1_W ||W||_1 + l2_W / 2 ||W||^2 + l1_H ||H||_1 + l2_H / 2 ||H||^2``. One
update of W is, elementwise (Fevotte and Idier, "Algorithms for nonnegative
matrix factorization with the beta-divergence", Neural Computation 2011),

    W <- W * ( [(X * Y^(beta-2)) H^T] / [Y^(beta-1) H^T + l1_W + l2_W W] )^gamma

and the same for H with ``W^T`` on the left. Each update is the exact
minimizer of a separable majorizer of the objective, so the objective never
increases, when the exponent is

    gamma = 1 / (2 - beta)     beta < 1
    gamma = 1                  1 <= beta <= 2
    gamma = 1 / (beta - 1)     beta > 2

(the data term: its convex part is majorized by Jensen's inequality, its
concave part by its tangent). The penalties enter the denominator: the L1
term is linear like the tangent part, so nothing changes. The L2 term
``l2 / 2 w^2`` has a derivative of power 1 in ``w``; for beta >= 2 the data
majorizer already has a larger power and the term is absorbed (by
``t^2 <= (2 t^q + q - 2) / q`` for ``t = w / w_old``, ``q >= 2``). For
beta < 2 both parts are majorized together by the power ``q = 2``, which
gives ``gamma = 1 / (3 - beta)`` whenever ``l2 > 0``. (scikit-learn keeps
``gamma(beta)`` with an L2 penalty; that step can overshoot the majorizer's
minimum and is not guaranteed monotone. ``gamma_rule="scikit-learn"``
reproduces it.)

For beta > 2 the data majorizer's gradient has a constant term, so the L1
weight can also be subtracted from the numerator, ``max(num - l1, 0)``
(``l1_placement="numerator"``, exact zeros, still an exact MM step). For
beta < 2 that placement is not a majorization step, so the L1 weight always
goes into the denominator.

scikit-learn's safeguards are kept so that the iterates agree with it: model
values below the float32 epsilon are raised to it where they are divided or
raised to a negative power, a zero denominator becomes that epsilon, and for
beta < 1 (W) and beta <= 1 (H) factor entries below the float64 epsilon are
set to zero after each update.

Work per iteration: dense X is visited a block of rows at a time (no n x p
temporary); one pass over a block updates its rows of W and accumulates the
products that the H update needs. Sparse X with KL costs O(nnz(X) r): the
model is evaluated at the stored entries only and the denominators are column
sums. Sparse X with other betas needs ``Y^(beta-1)`` everywhere, computed in
row blocks (O(n p r) time, no n x p matrix).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._objective import (
    EPSILON,
    FIT_RTOL,
    ZERO_BELOW,
    BlockDivergence,
    divergence_from_ratio,
    fast_power,
    pointwise_divergence,
    row_blocks,
    sampled_product,
)
from ._monitor import SolverResult

__all__ = [
    "BetaKernel",
    "fit_mu_beta",
    "kl_h_denominator",
    "mm_exponent",
    "mu_beta_factor",
]


def mm_exponent(beta, l2=0.0, gamma_rule="mm"):
    """The exponent of the multiplicative update.

    Parameters
    ----------
    beta : float
    l2 : float
        L2 weight of the factor being updated.
    gamma_rule : {"mm", "scikit-learn"}
        ``"mm"``: the exponent that makes the step a majorization-minimization
        step, penalties included; ``"scikit-learn"``: Fevotte and Idier's
        ``gamma(beta)`` whatever the penalty.
    """
    if beta > 2:
        return 1.0 / (beta - 1.0)
    if l2 > 0 and gamma_rule == "mm":
        return 1.0 / (3.0 - beta)
    if beta < 1:
        return 1.0 / (2.0 - beta)
    return 1.0


def mu_beta_factor(num, den, F, l1, l2, gamma, numerator_l1=False):
    """The multiplicative factor of one update, computed in place in ``num``.

    ``(num / (den + l1 + l2 F))^gamma`` with a zero denominator replaced by
    ``EPSILON``; with ``numerator_l1``: ``(max(num - l1, 0) / (den + l2
    F))^gamma``.

    Parameters
    ----------
    num : ndarray of shape (m, r)
        Numerator (overwritten).
    den : ndarray of shape (m, r) or (1, r)
        Denominator (may be modified).
    F : ndarray of shape (m, r)
        The factor before the update.
    """
    dtype = F.dtype.type
    if l1:
        if numerator_l1:
            num -= dtype(l1)
            np.maximum(num, 0, out=num)
        else:
            den = den + dtype(l1)
    if l2:
        den = den + dtype(l2) * F
    den = np.array(den, copy=True) if not den.flags.writeable else den
    np.putmask(den, den == 0, dtype(EPSILON))
    num /= den
    if gamma != 1:
        num **= gamma
    return num


class BetaKernel:
    """Products of X with the factors for the beta-divergence updates.

    Holds X (dense C-contiguous, or CSR) and the row blocks it is visited in.
    For a block of rows and its codes ``W_b`` it returns the weights

        A = X_b * Y_b^(beta - 2)     (numerators: ``A H^T`` and ``A^T W_b``)
        B = Y_b^(beta - 1)           (denominators; None for KL, where B = 1)

    with scikit-learn's clipping, and on request the block's parts of the
    divergence (:class:`~nmfkit._objective.BlockDivergence`), taken from the
    same powers so that the objective costs almost nothing extra.
    """

    def __init__(self, X, beta, block_values=1 << 16):
        self.beta = float(beta)
        self.sparse = sp.issparse(X)
        n_samples, n_features = X.shape
        self.shape = X.shape
        if self.sparse:
            X = X.tocsr()
            if not X.has_sorted_indices:
                X = X.sorted_indices()
            self.X = X
            values = X.data
            self.rows = np.repeat(np.arange(n_samples), np.diff(X.indptr))
            # KL needs the model at stored entries only: blocks by stored count
            if self.beta == 1:
                self.blocks = _blocks_by_nnz(X.indptr, 1 << 21)
            else:
                self.blocks = _wide_blocks(n_samples, n_features, block_values)
        else:
            self.X = np.ascontiguousarray(X)
            values = self.X
            self.blocks = _wide_blocks(n_samples, n_features, block_values)
        self.divergence = BlockDivergence(self.X, self.beta, self.blocks, values=values)
        self._data_sums = {}

    def _data_sum(self, block, Xb):
        """``sum X_b`` when every entry of the dense block is above
        ``EPSILON`` (the divergence is then a function of the ratio), else
        None; computed once per block."""
        if block.start not in self._data_sums:
            full = bool(Xb.size) and float(Xb.min()) > EPSILON
            self._data_sums[block.start] = (
                float(np.sum(Xb, dtype=np.float64)) if full else None
            )
        return self._data_sums[block.start]

    def _ratio_divergence(self, block, Xb, ratio, y_sum):
        """The block's divergence from the ratio (KL, IS), or None where
        that is not accurate (:func:`divergence_from_ratio`)."""
        x_sum = self._data_sum(block, Xb)
        rtol = FIT_RTOL.get(np.dtype(Xb.dtype), FIT_RTOL[np.dtype(np.float32)])
        return divergence_from_ratio(Xb, ratio, y_sum, x_sum, self.beta, rtol=rtol)

    # ---------------------------------------------------------------- weights
    def _dense_weights(self, block, Xb, M, want_obj):
        """Weights of a dense block; with ``want_obj`` its divergence, summed
        entry by entry (:func:`~nmfkit._objective.pointwise_divergence`: no
        cancellation near an exact fit) in the ``direct`` part."""
        beta = self.beta
        cross = model = direct = 0.0
        if beta in (0, 1):
            # KL and IS: the divergence is a function of the ratio X / Y
            # that the weights need anyway (divergence_from_ratio); where it
            # is not accurate, or X has entries <= EPSILON, entry by entry
            # from the model before it is overwritten.
            fast = want_obj and self._data_sum(block, Xb) is not None
            if want_obj and not fast:
                direct = float(pointwise_divergence(Xb, M, beta).sum())
            y_sum = float(np.sum(M, dtype=np.float64)) if fast and beta == 1 else 0.0
            # only the clipped model is needed: clip the fresh product in place
            Mc = np.maximum(M, EPSILON, out=M)
            if beta == 1:
                A = Xb / Mc
                if fast:
                    value = self._ratio_divergence(block, Xb, A, y_sum)
                    if value is None:  # the model term takes the raw model
                        value = float(pointwise_divergence(Xb, Mc, beta).sum())
                        value += y_sum - float(np.sum(Mc, dtype=np.float64))
                    direct = value
                return A, None, (cross, model, direct)
            np.reciprocal(Mc, out=Mc)
            A = Xb * Mc
            if fast:
                value = self._ratio_divergence(block, Xb, A, 0.0)
                direct = (
                    value
                    if value is not None
                    else float(pointwise_divergence(Xb, 1.0 / Mc, beta).sum())
                )
            A *= Mc
            return A, Mc, (cross, model, direct)
        direct = float(pointwise_divergence(Xb, M, beta).sum()) if want_obj else 0.0
        want_obj = False  # the parts below are not needed for a dense block
        Mc = np.maximum(M, EPSILON) if beta < 2 else M
        P = fast_power(Mc, beta - 2)
        A = Xb * P
        if want_obj:
            cross = self.divergence.cross(block, Xb, M, Mc, A)
        if beta < 1:
            P *= Mc
        else:
            P *= M
            if beta < 2 and M.size and M.min() < EPSILON:
                tiny = M < EPSILON
                P[tiny] = M[tiny] ** (beta - 1)
        if want_obj:
            model = self.divergence.model_sum(M, P)
        return A, P, (cross, model, direct)

    def block_weights(self, block, Wb, Ht, H, want_obj):
        """Weights ``A`` (dense or CSR), ``B`` (dense or None) and the parts
        ``(cross, model, direct)`` of the divergence on this block."""
        beta = self.beta
        if not self.sparse:
            return self._dense_weights(block, self.X[block], Wb @ H, want_obj)
        X = self.X
        lo, hi = X.indptr[block.start], X.indptr[block.stop]
        indptr = X.indptr[block.start : block.stop + 1] - lo
        cols = X.indices[lo:hi]
        x = X.data[lo:hi]
        local_rows = self.rows[lo:hi] - block.start
        cross = model = 0.0
        B = None
        if beta == 1:
            y = sampled_product(Wb, Ht, local_rows, cols)
            y_hat = np.maximum(y, EPSILON)
            if want_obj:
                cross = self.divergence.cross(block, x, y, y_hat, None)
            np.divide(x, y_hat, out=y_hat)
            a = y_hat
        else:
            M = Wb @ H
            y = M[local_rows, cols]
            y_hat = np.maximum(y, EPSILON) if beta < 2 else y
            if beta == 0:
                r = 1.0 / y_hat
                a = x * r
                if want_obj:
                    cross = self.divergence.cross(block, x, y, r, a)
                a *= r
            else:
                a = x * fast_power(y_hat, beta - 2)
                if want_obj:
                    cross = self.divergence.cross(block, x, y, y_hat, a)
            if beta < 1:
                B = fast_power(np.maximum(M, EPSILON), beta - 1)
            else:
                B = fast_power(M, beta - 1)
            if want_obj and beta != 0:
                model = self.divergence.model_sum(M, B)
        A = sp.csr_matrix((a, cols, indptr), shape=(Wb.shape[0], self.shape[1]))
        return A, B, (cross, model, 0.0)

    @property
    def constant(self):
        """The data-only part of the divergence (computed once, on demand)."""
        return self.divergence.constant

    def objective(self, parts, W, Ht):
        """The divergence from the accumulated block parts."""
        return self.divergence.objective(parts, W, Ht)


def kl_h_denominator(W_col_sum):
    """Denominator of the KL update of H: the column sums of W, zeros as 1."""
    W_sum = np.array(W_col_sum, copy=True)
    W_sum[W_sum == 0] = 1.0
    return W_sum[np.newaxis, :]


def _wide_blocks(n_rows, n_cols, budget):
    """Row blocks of about ``budget`` dense values, at least 64 rows each."""
    step = max(64, budget // max(1, n_cols))
    return row_blocks(n_rows, 1, budget=step)


def _blocks_by_nnz(indptr, budget):
    n_rows = len(indptr) - 1
    blocks, start = [], 0
    while start < n_rows:
        stop = int(np.searchsorted(indptr, indptr[start] + budget, side="right")) - 1
        stop = min(max(stop, start + 1), n_rows)
        blocks.append(slice(start, stop))
        start = stop
    return blocks


class _Updater:
    """One fused pass over the row blocks of X per iteration.

    ``kernel`` may be None (give ``beta``) where only :meth:`update_H` is
    used, as on the driver of a distributed fit.
    """

    def __init__(self, kernel, penalties, l1_placement, gamma_rule, *, beta=None):
        self.k = kernel
        self.p = penalties
        beta = kernel.beta if kernel is not None else float(beta)
        self.beta = beta
        self.numerator_l1 = l1_placement == "numerator" and beta > 2
        self.gamma_W = mm_exponent(beta, penalties.l2_W, gamma_rule)
        self.gamma_H = mm_exponent(beta, penalties.l2_H, gamma_rule)

    def run_pass(self, W, Ht, *, update_W, h_stats, obj_at):
        """Visit every block once.

        Returns the new W (a new array when ``update_W``), the objective at
        ``(W, H)`` (``obj_at="before"``) or at ``(W_new, H)`` (``"after"``),
        and the numerator and denominator of the H update (at ``W_new``)
        when ``h_stats``.
        """
        W_new, parts, num_H, den_H = self.accumulate(
            W, Ht, update_W=update_W, h_stats=h_stats, obj_at=obj_at
        )
        k, p = self.k, self.p
        obj = None
        if obj_at is not None:
            W_obj = W if obj_at == "before" else W_new
            obj = k.objective(parts, W_obj, Ht) + p.value_W(W_obj) + p.value_H(Ht.T)
        if h_stats and den_H is None:
            den_H = kl_h_denominator(W_new.sum(axis=0))
        return W_new, obj, (num_H, den_H)

    def accumulate(self, W, Ht, *, update_W, h_stats, obj_at):
        """The sums of one pass over the blocks, before they are combined.

        The same sums over the rows of a larger matrix are the sums of these
        over its blocks of rows (the distributed solver adds them in a tree).

        Returns
        -------
        W_new : ndarray
            The new W (a new array when ``update_W``, else W).
        parts : ndarray of shape (3,)
            The divergence parts at ``(W, H)`` (``obj_at="before"``) or
            ``(W_new, H)`` (``"after"``); zeros when ``obj_at`` is None.
        num_H, den_H : ndarray of shape (n_features, n_components) or None
            Numerator and denominator of the H update at ``W_new`` when
            ``h_stats``; ``den_H`` is None for KL (see
            :func:`kl_h_denominator`).
        """
        k, p = self.k, self.p
        H = np.ascontiguousarray(Ht.T)
        W_new = np.empty_like(W) if update_W else W
        parts = np.zeros(3)
        num_H = np.zeros_like(Ht) if (h_stats and not k.sparse) else None
        den_H = None
        if h_stats and k.beta != 1:
            den_H = np.zeros_like(Ht)
        if h_stats and k.sparse:
            a_data = np.empty(k.X.nnz, dtype=W.dtype)
        H_sum = Ht.sum(axis=0)[np.newaxis, :] if k.beta == 1 else None
        for block in k.blocks:
            Wb = W[block]
            if update_W:
                A, B, o = k.block_weights(block, Wb, Ht, H, obj_at == "before")
                parts += o
                num = np.asarray(A @ Ht)
                den = H_sum if B is None else B @ Ht
                factor = mu_beta_factor(
                    num, den, Wb, p.l1_W, p.l2_W, self.gamma_W, self.numerator_l1
                )
                Wn = W_new[block]
                np.multiply(Wb, factor, out=Wn)
                if k.beta < 1:
                    Wn[Wn < ZERO_BELOW] = 0.0
                Wb = Wn
            if h_stats or obj_at == "after":
                A, B, o = k.block_weights(block, Wb, Ht, H, obj_at == "after")
                parts += o
                if h_stats:
                    if k.sparse:
                        X = k.X
                        a_data[X.indptr[block.start] : X.indptr[block.stop]] = A.data
                    else:
                        num_H += A.T @ Wb
                    if B is not None:
                        den_H += B.T @ Wb
        if h_stats and k.sparse:
            X = k.X
            A = sp.csr_matrix((a_data, X.indices, X.indptr), shape=X.shape)
            num_H = np.asarray(A.T @ W_new)
        return W_new, parts, num_H, den_H

    def update_H(self, Ht, stats):
        num_H, den_H = stats
        p = self.p
        factor = mu_beta_factor(
            num_H, den_H, Ht, p.l1_H, p.l2_H, self.gamma_H, self.numerator_l1
        )
        Ht_new = Ht * factor
        if self.beta <= 1:
            Ht_new[Ht_new < ZERO_BELOW] = 0.0
        return Ht_new


def fit_mu_beta(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    beta,
    update_H=True,
    l1_placement="numerator",
    update_order="HW",
    gamma_rule="mm",
    objective_every=1,
):
    """Minimize the penalized beta-divergence with multiplicative updates.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Non-negative data (positive where ``beta <= 0``).
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
    monitor : ConvergenceMonitor
    beta : float
        The divergence; any real number (2 is better served by
        :func:`~nmfkit.solvers.fit_mu`, but works here too).
    update_H : bool
        If False, only W is fitted (``transform``).
    l1_placement : {"numerator", "denominator"}
        Where the L1 weights enter; ``"numerator"`` applies to beta > 2 only
        (see the module text).
    update_order : {"HW", "WH"}
        Which factor an iteration updates first (``"WH"`` is scikit-learn's).
    gamma_rule : {"mm", "scikit-learn"}
        Exponent with an L2 penalty and beta < 2 (see :func:`mm_exponent`).
    objective_every : int, default=1
        Evaluate the objective (and record a history row, apply ``tol``,
        ``max_time`` and the callbacks) after every ``objective_every``-th
        iteration, and after the last. The iterates do not depend on it.
        On dense data the objective costs a logarithm per entry (KL, IS),
        more than the update's products for small ranks; scikit-learn
        evaluates it every 10 iterations. With ``m > 1`` the ``tol`` rule
        compares the mean decrease per iteration over the ``m`` iterations
        (:class:`~nmfkit.solvers.ConvergenceMonitor`).

    Returns
    -------
    result : SolverResult
        Its history has a row for iteration 0, every ``objective_every``-th
        iteration and the last one.

    Raises
    ------
    ValueError
        For an ``objective_every`` that is not a positive integer.

    See Also
    --------
    mm_exponent : The exponent of each update.
    BetaKernel : The products of X with the factors.

    References
    ----------
    Fevotte, C. and Idier, J. (2011). Algorithms for nonnegative matrix
    factorization with the beta-divergence. Neural Computation 23(9),
    2421-2456.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit._objective import Penalties, beta_divergence
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_mu_beta
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15)) + 0.1
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> res = fit_mu_beta(X, W0, H0, Penalties(), beta=1.0, objective_every=10,
    ...                   monitor=ConvergenceMonitor(tol=0, max_iter=25))
    >>> res.history[:, 0].tolist()
    [0.0, 10.0, 20.0, 25.0]
    >>> bool(np.isclose(res.history[-1, 2], beta_divergence(X, res.W, res.H, 1.0)))
    True
    """
    every = _check_objective_every(objective_every)
    kernel = BetaKernel(X, beta)
    upd = _Updater(kernel, penalties, l1_placement, gamma_rule)
    W = np.array(W, order="C", copy=True)
    Ht = np.array(H.T, order="C", copy=True)
    schedule = _Schedule(monitor, every)

    if monitor.max_iter <= 0:
        _, obj, _ = upd.run_pass(W, Ht, update_W=False, h_stats=False, obj_at="after")
        monitor.start(obj, W, Ht.T)
    elif update_H and update_order == "HW":
        # A pass updates W with the current H, then evaluates the objective
        # and gathers the H products at the new W: the state after a full
        # iteration (H, then W).
        W, obj, stats = upd.run_pass(
            W, Ht, update_W=False, h_stats=True, obj_at="after"
        )
        monitor.start(obj, W, Ht.T)
        stop = False
        while not stop:
            Ht = upd.update_H(Ht, stats)
            last = schedule.next_is_last()
            W, obj, stats = upd.run_pass(
                W,
                Ht,
                update_W=True,
                h_stats=not last,
                obj_at="after" if schedule.wants_next() else None,
            )
            stop = schedule.step(obj, W, Ht.T)
    else:
        # W first: a pass evaluates the objective of the state it starts
        # from, updates W and gathers the H products at the new W.
        W_next, obj, stats = upd.run_pass(
            W, Ht, update_W=True, h_stats=update_H, obj_at="before"
        )
        monitor.start(obj, W, Ht.T)
        stop = False
        while not stop:
            W = W_next
            if update_H:
                Ht = upd.update_H(Ht, stats)
            if schedule.next_is_last():
                _, obj, _ = upd.run_pass(
                    W, Ht, update_W=False, h_stats=False, obj_at="after"
                )
                schedule.step(obj, W, Ht.T)
                break
            W_next, obj, stats = upd.run_pass(
                W,
                Ht,
                update_W=True,
                h_stats=update_H,
                obj_at="before" if schedule.wants_next() else None,
            )
            stop = schedule.step(obj, W, Ht.T)
    return SolverResult.from_monitor(monitor, W, np.ascontiguousarray(Ht.T))


def _check_objective_every(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"objective_every={value!r} is not valid; give a positive integer "
            "(1 evaluates the objective after every iteration)."
        )
    return int(value)


class _Schedule:
    """Which iterations evaluate the objective, and the monitor's rows.

    The iteration that is about to run (``done + 1``) evaluates the
    objective when it is a multiple of ``every`` or the last one
    (``max_iter``); :meth:`step` counts it and, when it evaluated, reports
    the iterations since the last row to the monitor.
    """

    def __init__(self, monitor, every):
        self.monitor = monitor
        self.every = every
        self.pending = 0  # iterations done since the last row

    @property
    def done(self):
        return self.monitor.n_iter + self.pending

    def next_is_last(self):
        return self.done + 1 >= self.monitor.max_iter

    def wants_next(self):
        return (self.done + 1) % self.every == 0 or self.next_is_last()

    def step(self, obj, W, H):
        """Count one iteration; True when the run stops."""
        self.pending += 1
        if obj is None:
            return False
        steps, self.pending = self.pending, 0
        return self.monitor.update(obj, W, H, steps=steps)
