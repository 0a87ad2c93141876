"""Alternating solvers with accelerated inner loops and extrapolation.

Both HALS and the multiplicative updates alternate between the two factors.
Updating one factor needs the other's product with the data (``X H^T`` or
``W^T X``: O(nnz(X) r) flops) and its Gram matrix, after which one update of
the factor costs only O(m r^2). Two accelerations build on that:

- **Inner loops** (Gillis and Glineur, "Accelerated multiplicative updates
  and hierarchical ALS algorithms for nonnegative matrix factorization",
  Neural Computation 24(4), 2012): the products are reused for several cheap
  updates of the same factor. The budget for the factor ``F`` with ``m`` rows
  (the other has ``m'``) is ``floor(1 + alpha * rho)`` with
  ``rho = 1 + floor((K + m' r) / (m (r + 1)))`` (``K = nnz(X)``, or
  ``n_samples * n_features`` for dense X): the cost of the products in units
  of one update. The loop stops early once an update changes ``F`` by less
  than ``inner_tol`` times the change made by the first one (Frobenius
  norms). ``alpha = 0.5`` for HALS and ``2`` for MU, ``inner_tol = 0.1``.
- **Extrapolation with restarts** (Ang and Gillis, "Accelerating nonnegative
  matrix factorization algorithms using extrapolation", Neural Computation
  31(2), 2019): after each update the factor is pushed along its last step,
  ``Y = F_k + beta (F_k - F_{k-1})`` (projected onto the non-negative
  orthant), and the next updates start from, and use, ``Y``. The pair that is
  evaluated, ``(Y_first, F_second)``, is always feasible and its objective
  costs nothing extra. When it is higher than the last accepted one the step
  is rejected: the solver returns to the accepted pair, divides ``beta`` by
  ``eta = 1.5``, caps its growth at the old value, and takes one plain step
  (which cannot increase the objective). Accepted steps grow ``beta`` by
  ``gamma = 1.01`` up to the cap, which itself grows by ``gamma_bar =
  1.005`` up to 1; ``beta`` starts at 0.5. So the objectives reported to the
  monitor (the accepted pairs) never increase; rejected steps are counted in
  ``info["n_restarts"]`` and are not iterations of the history.

For the multiplicative updates an entry that reaches zero can never grow
again, so their extrapolated point is kept at no less than a tenth of the
plain iterate (``MURule.keep``) instead of being clipped at zero.

Factors are held component-major (``W^T`` and ``H``, both ``r x m``,
C-contiguous), so every product with X and every row of a HALS sweep runs on
contiguous memory.

The iterations are a coroutine (:func:`alternating_steps`): its only passes
over X are the data products, which it requests (a :class:`ProductRequest`)
instead of computing. :func:`fit_alternating` serves each request at once
(:func:`run_steps`), and where X allows it takes W's update and its two
products in one pass (a :class:`FusedRequest`, :mod:`~nmfkit.solvers._fused`);
the batched driver
(:func:`~nmfkit.solvers._batched.fit_alternating_batched`) runs many fits of
one X in lockstep and serves their requests with one stacked product.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from .._array_api import (
    accumulation_dtype,
    contiguous_copy,
    device_of,
    get_namespace,
    is_numpy,
    to_numpy,
)
from .._objective import penalty_change_of_rescaling
from ._data_terms import data_term
from ._hals import HALSRule
from ._monitor import SolverResult
from ._mu import MURule
from ._rule import FactorRule

__all__ = [
    "FactorRule",
    "FusedRequest",
    "ProductRequest",
    "alternating_steps",
    "fit_alternating",
    "fit_hals",
    "fit_mu",
    "fit_mu_accelerated",
    "inner_budget",
    "run_steps",
]

#: Ang and Gillis's extrapolation parameters.
EXTRAPOLATION = {"beta0": 0.5, "eta": 1.5, "gamma": 1.01, "gamma_bar": 1.005}
_QUIET: dict[str, Any] = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}
#: The built-in rules by name, for ``fit_alternating(rule="hals" | "mu")``.
_RULES = {"hals": HALSRule, "mu": MURule}


def inner_budget(nnz, n_rows, n_other, rank, alpha):
    """Gillis and Glineur's largest number of inner updates of one factor.

    Parameters
    ----------
    nnz : int
        Entries of X that cost a multiply-add in its products (``nnz(X)``, or
        ``n_samples * n_features`` when dense).
    n_rows : int
        Rows of the factor being updated (``n_samples`` for W).
    n_other : int
        Rows of the other factor (``n_features`` for W).
    rank : int
    alpha : float

    Returns
    -------
    budget : int
        ``floor(1 + alpha * rho)``, ``rho = 1 + floor((nnz + n_other rank) /
        (n_rows (rank + 1)))``.
    """
    rho = 1 + (nnz + n_other * rank) // max(1, n_rows * (rank + 1))
    return int(1 + alpha * rho)


def _gram(F):
    return F @ F.T


class _FactorUpdate:
    """Update one component-major factor from its data product and Gram matrix.

    Runs up to ``max_inner`` updates of the rule, stopping early by Gillis
    and Glineur's rule.
    """

    def __init__(self, rule, l1, l2, max_inner, inner_tol, xp):
        self.rule = rule
        self.xp = xp
        self.l1 = l1
        self.l2 = l2
        self.max_inner = max(1, int(max_inner))
        self.inner_tol_sq = float(inner_tol) ** 2
        self.n_updates = 0
        self.n_calls = 0

    def __call__(self, F, P, G):
        rule, l1, l2, xp = self.rule, self.l1, self.l2, self.xp
        prepared = rule.prepare(P, G, l1, l2, xp)
        need_change = self.max_inner > 1
        self.n_calls += 1
        first = None
        for i in range(self.max_inner):
            change = rule.update(F, P, G, prepared, l1, l2, xp, need_change)
            self.n_updates += 1
            if i == 0:
                first = change
                if first == 0.0:
                    break
            elif change <= self.inner_tol_sq * first:
                break
        return F

    def rows(self, F_block, P_block, G):
        """The update of a block of the factor's columns (a rule whose
        ``rows_independent`` is True, one update per factor update); the
        driver counts it with :meth:`count_fused`."""
        rule = self.rule
        prepared = rule.prepare(P_block, G, self.l1, self.l2, self.xp)
        rule.update(F_block, P_block, G, prepared, self.l1, self.l2, self.xp, False)

    def count_fused(self):
        """Count one factor update made block by block (:meth:`rows`)."""
        self.n_calls += 1
        self.n_updates += 1


class _Block(NamedTuple):
    update: _FactorUpdate
    penalty: Callable  # (factor, gram) -> penalty value
    is_W: bool


class ProductRequest(NamedTuple):
    """A data product that :func:`alternating_steps` asks its driver for.

    Attributes
    ----------
    other : array of shape (r, m')
        The fixed factor, component-major (``H`` when ``is_W``, else ``W^T``).
    is_W : bool
        Whether the product is for ``W^T`` (``H X^T``) or for H (``W^T X``).
    quiet : bool
        Whether floating-point warnings of the product are silenced (an
        extrapolated factor may overflow; the step is then rejected).
    """

    other: object
    is_W: bool
    quiet: bool


class FusedRequest(NamedTuple):
    """W's update and both its data products in one pass over X.

    Asked for instead of the two :class:`ProductRequest` of an iteration
    when :func:`alternating_steps` runs with ``fuse=True`` and the data term
    is ``fusable`` (see :mod:`~nmfkit.solvers._fused`); the driver sends
    back ``data.fused_w_pass(H, Wt, update_rows)``.

    Attributes
    ----------
    H : array of shape (r, p)
        The fixed factor of W's update.
    Wt : array of shape (r, n)
        ``W^T``, updated in place block by block.
    update_rows : callable
        ``update_rows(F_block, P_block)``: the rule's update of a block of
        W's rows, component-major, in place.
    """

    H: object
    Wt: object
    update_rows: Callable


def _builtin_rule(name, X, shuffle, random_state, l1_placement):
    """The rule ``"hals"`` or ``"mu"`` for the kind of X (partially observed
    data has its own rules)."""
    from .._observed import ObservedEntries

    if isinstance(X, ObservedEntries):
        from ._masked_hals import MaskedHALSRule
        from ._masked_mu import MaskedMURule

        return MaskedHALSRule() if name == "hals" else MaskedMURule(l1_placement)
    if name == "hals":
        return HALSRule(check_random_state(random_state) if shuffle else None)
    return MURule(l1_placement)


def _extrapolate(new, prev, beta, rule):
    if beta == 0.0:
        return new
    return rule.project(new + float(beta) * (new - prev), new)


def _rebalance(Wt, H, Wt_prev, H_prev, penalties, fixed=()):
    """Rescale each component pair ``(W[:, k] s, H[k] / s)`` in place.

    The product ``W H`` does not change, so the data fit does not either;
    extrapolation otherwise lets the scales drift without bound (momentum
    along a direction the objective cannot see) until they overflow. The
    scale equalizes the norms of the two components, and is applied only
    where it does not raise the penalties. The same scales are applied to
    the previous iterates so that the extrapolation direction stays
    consistent. Components listed in ``fixed`` keep their scale.

    Returns
    -------
    decrease : float
        How much the penalties, hence the objective, went down.
    """
    xp = get_namespace(Wt, H)
    a_sq, sums_W = _row_norms_and_sums(xp, Wt)
    b_sq, sums_H = _row_norms_and_sums(xp, H)
    a, b = np.sqrt(a_sq), np.sqrt(b_sq)
    ok = (a > 0) & (b > 0)
    s = np.ones_like(a)
    s[ok] = np.sqrt(b[ok] / a[ok])
    change = penalty_change_of_rescaling(penalties, sums_W, sums_H, s, a_sq, b_sq)
    s[change > 0] = 1.0
    s[list(fixed)] = 1.0
    if np.all(s == 1.0):
        return 0.0
    seen = set()
    for array, scale in ((Wt, s), (H, 1 / s), (Wt_prev, s), (H_prev, 1 / s)):
        if id(array) not in seen:
            seen.add(id(array))
            array *= _to_device_column(xp, scale, array)
    return float(-np.sum(change[s != 1.0]))


def _row_norms_and_sums(xp, F):
    """``||F[k]||^2`` and ``sum F[k]`` of every component, on the host (float64)."""
    if is_numpy(xp):
        return np.einsum("ij,ij->i", F, F, dtype=np.float64), F.sum(
            axis=1, dtype=np.float64
        )
    wide = F if F.dtype == accumulation_dtype(xp, F) else xp.astype(
        F, accumulation_dtype(xp, F)
    )
    both = xp.stack([xp.sum(wide * wide, axis=1), xp.sum(wide, axis=1)])
    host = np.asarray(to_numpy(both), dtype=np.float64)  # one transfer
    return host[0], host[1]


def _to_device_column(xp, scale, like):
    """``scale[:, None]`` in ``like``'s dtype, on its device."""
    column = scale.astype(np.float64)[:, None]
    if is_numpy(xp):
        return column.astype(like.dtype)
    return xp.asarray(column, dtype=like.dtype, device=device_of(like))


def fit_alternating(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    rule="hals",
    update_order="HW",
    inner_iter=1,
    inner_tol=0.1,
    extrapolate=False,
    shuffle=False,
    random_state=None,
    l1_placement="numerator",
    fixed_W_columns=(),
    fixed_H_rows=(),
):
    """Alternate HALS or MU updates, with optional inner loops and extrapolation.

    Parameters
    ----------
    X : ndarray, sparse matrix, array-API array or ObservedEntries
        The data, of shape (n_samples, n_features); its data term
        (:mod:`~nmfkit.solvers._data_terms`) gives the rule its subproblem.
        Partially observed data (:class:`~nmfkit._observed.ObservedEntries`)
        needs a rule of that kind (:class:`MaskedMURule`,
        :class:`MaskedHALSRule`).
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
        The L1 and L2 weights of W and H.
    monitor : ConvergenceMonitor
        The stopping rule, history and callbacks.
    update_H : bool
        If False, only W is fitted (H fixed).
    rule : {"hals", "mu"} or FactorRule
        The update of one factor: a built-in rule by name (configured by
        ``shuffle``, ``random_state`` and ``l1_placement``; the masked rules
        for partially observed X) or a rule object
        (:class:`~nmfkit.solvers._rule.FactorRule`).
    update_order : {"HW", "WH"}
        Which factor each iteration updates first.
    inner_iter : int or "auto"
        Largest number of updates of a factor per iteration; ``"auto"`` is
        Gillis and Glineur's budget (:func:`inner_budget`).
    inner_tol : float
        Inner loop stops when an update changes the factor by less than
        ``inner_tol`` times the first update's change.
    extrapolate : bool
        Ang and Gillis's extrapolation with restarts.
    shuffle : bool
        HALS only: visit the components in a random order at every sweep.
    random_state : int, RandomState instance or None
        Seeds ``shuffle``.
    l1_placement : {"numerator", "denominator"}
        MU only: where the L1 weight enters (see :func:`mu_step`).
    fixed_W_columns, fixed_H_rows : sequence of int
        Partially observed data only: components of W and H that the rules
        keep at their initial values (and that rebalancing leaves alone).

    Returns
    -------
    result : SolverResult
        ``info`` holds ``n_restarts`` and ``mean_inner_W`` / ``mean_inner_H``
        (updates per factor update).

    Raises
    ------
    ValueError
        If the monitor's ``rule="violation"`` is combined with anything but
        plain HALS, or if a NumPy-only rule (``array_api`` False) is given
        the arrays of another array-API library.

    See Also
    --------
    fit_hals : HALS (coordinate descent) through this driver.
    fit_mu_accelerated : Multiplicative updates through this driver.
    nmfkit.solvers.FactorRule : The protocol of a rule object.

    Examples
    --------
    Three MU updates of each factor per iteration, reusing the products:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_alternating
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> res = fit_alternating(X, W0, H0, Penalties(), rule="mu", inner_iter=3,
    ...                       monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> res.n_iter, round(res.info["mean_inner_H"], 1)
    (50, 3.0)
    >>> objective = res.history[:, 2]  # 1/2 ||X - W H||_F^2 (no penalty)
    >>> bool(np.isclose(objective[-1], 0.5 * np.sum((X - res.W @ res.H) ** 2)))
    True
    >>> bool(np.all(np.diff(objective) <= 0))  # never increases
    True
    """
    data = data_term(
        X, W.dtype, fixed_W_columns=fixed_W_columns, fixed_H_rows=fixed_H_rows
    )
    steps = alternating_steps(
        data,
        X,
        W,
        H,
        penalties,
        monitor=monitor,
        update_H=update_H,
        rule=rule,
        update_order=update_order,
        inner_iter=inner_iter,
        inner_tol=inner_tol,
        extrapolate=extrapolate,
        shuffle=shuffle,
        random_state=random_state,
        l1_placement=l1_placement,
        fixed_W_columns=fixed_W_columns,
        fixed_H_rows=fixed_H_rows,
        fuse=True,
    )
    return run_steps(steps, data)


def run_steps(steps, data):
    """Drive one :func:`alternating_steps` coroutine to its end.

    Every product it requests is computed by ``data.product`` at once, with
    the floating-point warnings the request asks to silence silenced.

    Parameters
    ----------
    steps : generator
        From :func:`alternating_steps`.
    data : CompleteData or ObservedData
        The data term the coroutine was made with.

    Returns
    -------
    result : SolverResult
        What the coroutine returns.
    """
    try:
        request = next(steps)
        while True:
            if isinstance(request, FusedRequest):
                product = data.fused_w_pass(*request)
            else:
                with np.errstate(**(_QUIET if request.quiet else {})):
                    product = data.product(request.other, request.is_W)
            request = steps.send(product)
    except StopIteration as done:
        return done.value


def alternating_steps(
    data,
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    rule="hals",
    update_order="HW",
    inner_iter=1,
    inner_tol=0.1,
    extrapolate=False,
    shuffle=False,
    random_state=None,
    l1_placement="numerator",
    fixed_W_columns=(),
    fixed_H_rows=(),
    fuse=False,
):
    """The iterations of :func:`fit_alternating` as a coroutine.

    A generator that never reads X itself: each time a factor update needs a
    data product it yields a :class:`ProductRequest` and expects the product
    ``data.product(request.other, request.is_W)`` to be sent back;
    everything else (inner loops, extrapolation and restarts, the monitor)
    runs inside. It returns (``StopIteration.value``) the
    :class:`SolverResult`. :func:`run_steps` drives one;
    :func:`~nmfkit.solvers._batched.fit_alternating_batched` drives many in
    lockstep and serves their requests with stacked products.

    Parameters
    ----------
    data : CompleteData or ObservedData
        The data term of X (:func:`~nmfkit.solvers._data_terms.data_term`).
    X, W, H, penalties
        As for :func:`fit_alternating`.
    monitor, update_H, rule, update_order, inner_iter, inner_tol, \
extrapolate, shuffle, random_state, l1_placement, fixed_W_columns, \
fixed_H_rows
        As for :func:`fit_alternating`.
    fuse : bool
        Whether the driver serves :class:`FusedRequest`: then, where the data
        term is ``fusable`` and the iterations allow it (both factors
        updated, W once per iteration by a rule whose ``rows_independent`` is
        True, no extrapolation), every iteration asks for one
        :class:`FusedRequest` instead of the two product requests around W's
        update: the same iterates up to the order of the sums. (With
        ``update_order="HW"`` the last iteration's pass also computes a
        ``W^T X`` that no update uses.)

    Yields
    ------
    request : ProductRequest or FusedRequest
        The factor ``other`` (component-major, ``r x m'``) whose product with
        X is needed, and which one (``is_W``); or W's fused update.

    Returns
    -------
    result : SolverResult
        As :func:`fit_alternating`'s.
    """
    xp = get_namespace(X, W, H)
    if isinstance(rule, str):
        rule = _builtin_rule(rule, X, shuffle, random_state, l1_placement)
    if monitor.rule == "violation":
        # scikit-learn's coordinate descent test: the sweeps measure it
        if not isinstance(rule, HALSRule) or inner_iter != 1:
            raise ValueError(
                "The monitor's rule='violation' (scikit-learn's coordinate "
                "descent test) needs plain HALS on complete data: rule='hals', "
                "inner_iter=1."
            )
        monitor.violation_source = rule.track_violation()
    if not is_numpy(xp) and not rule.array_api:
        raise ValueError(
            f"The rule {type(rule).__name__} runs on NumPy arrays only; on arrays "
            "of other array-API libraries (PyTorch, CuPy) use rule='hals' or "
            "rule='mu', or a rule whose array_api is True."
        )
    fixed = set(fixed_W_columns) | set(fixed_H_rows)
    n_samples, n_features = X.shape
    rank = H.shape[0]

    def factor_update(l1, l2, n_rows, n_other):
        if inner_iter == "auto":
            budget = inner_budget(data.nnz, n_rows, n_other, rank, rule.inner_alpha)
        else:
            budget = int(inner_iter)
        return _FactorUpdate(rule, l1, l2, budget, inner_tol, xp)

    p = penalties
    block_W = _Block(
        factor_update(p.l1_W, p.l2_W, n_samples, n_features), p.value_W, True
    )
    block_H = _Block(
        factor_update(p.l1_H, p.l2_H, n_features, n_samples), p.value_H, False
    )
    Wt = contiguous_copy(xp, W.T)
    Ht = contiguous_copy(xp, H)
    fused = (
        fuse
        and update_H
        and not extrapolate
        and block_W.update.max_inner == 1
        and rule.rows_independent
        and is_numpy(xp)
        and data.fusable(rank)
    )

    if update_H:
        first, second = (
            (block_H, block_W) if update_order == "HW" else (block_W, block_H)
        )
        F1, F2 = (Ht, Wt) if update_order == "HW" else (Wt, Ht)
    else:
        first, second = None, block_W
        F1, F2 = Ht, Wt  # H is fixed: it plays the role of a first factor

    # the fused pass (FusedRequest) serves W's update: at the start of an
    # iteration when W is updated first, in its middle when second
    fuse_first = fused and first is block_W
    fuse_second = fused and second is block_W

    def objective(P2, F2_, G1, G2_, F1_):
        return (
            data.fit(P2, F2_, G1, G2_, *as_W_H(F1_, F2_))
            + second.penalty(F2_, G2_)
            + (first or block_H).penalty(F1_, G1)
        )

    def as_W_H(A1, A2):
        Wt_, Ht_ = (A2, A1) if second.is_W else (A1, A2)
        return Wt_.T, Ht_

    def subproblem(block, other, quiet=False):
        """The data product and subproblem of ``block``'s factor, and the
        Gram matrix of ``other``: requests the product (module text)."""
        with np.errstate(**(_QUIET if quiet else {})):
            gram = _gram(other)
        product = yield ProductRequest(other, block.is_W, quiet)
        return product, data.subproblem(other, gram, block.is_W), gram

    P2, S2, G1 = yield from subproblem(second, F1)
    acc_obj = objective(P2, F2, G1, _gram(F2), F1)
    acc1, acc2 = F1, F2
    monitor.start(acc_obj, *as_W_H(acc1, acc2))

    ex = EXTRAPOLATION
    beta, beta_bar = (ex["beta0"], 1.0) if extrapolate else (0.0, 0.0)
    plain = not extrapolate
    n_restarts = 0
    Y1, Y2, prev1, prev2 = F1, F2, F1, F2
    del Wt, Ht, F1, F2  # held as the iterates from here on, and released with them
    if first is not None and not fuse_first:
        P1, S1, G2 = yield from subproblem(first, Y2)
    stop = monitor.max_iter <= 0
    while not stop:
        step_beta = 0.0 if plain else beta
        # An extrapolated point can make a subproblem nearly singular and
        # overflow; such a step is simply rejected below (a plain step from
        # an accepted pair cannot increase the objective).
        quiet = {} if plain else _QUIET
        if fuse_first:  # W's update and both products in one pass (module text)
            G2 = _gram(Y2)
            S1 = data.subproblem(Y2, G2, True)
            new1 = Y1 = contiguous_copy(xp, Y1)
            P1, P2 = yield FusedRequest(Y2, Y1, partial(first.update.rows, G=S1))
            first.update.count_fused()
            G1 = _gram(Y1)
            S2 = data.subproblem(Y1, G1, False)
        elif first is not None:
            with np.errstate(**quiet):
                new1 = first.update(contiguous_copy(xp, Y1), P1, S1)
                Y1 = _extrapolate(new1, prev1, step_beta, rule)
            if fuse_second:  # as above, in the middle of the iteration
                G1 = _gram(Y1)
                S2 = data.subproblem(Y1, G1, True)
                new2 = contiguous_copy(xp, Y2)
                P2, P1_next = yield FusedRequest(
                    Y1, new2, partial(second.update.rows, G=S2)
                )
                second.update.count_fused()
            else:
                P2, S2, G1 = yield from subproblem(second, Y1, not plain)
        else:
            new1 = Y1  # the fixed H
        with np.errstate(**quiet):
            if not fuse_second:
                new2 = second.update(contiguous_copy(xp, Y2), P2, S2)
            G2_new = _gram(new2)
            obj = objective(P2, new2, G1, G2_new, Y1)
        if not plain and not obj <= acc_obj:  # higher, or not a number
            # Reject: back to the accepted pair, smaller beta, one plain step.
            n_restarts += 1
            beta_bar, beta = beta, beta / ex["eta"]
            Y1, Y2, prev1, prev2 = acc1, acc2, acc1, acc2
            if first is not None:
                P1, S1, G2 = yield from subproblem(first, Y2)
            plain = True
            continue
        if extrapolate and step_beta > 0.0:
            beta = min(beta_bar, ex["gamma"] * beta)
            beta_bar = min(1.0, ex["gamma_bar"] * beta_bar)
        plain = not extrapolate
        acc1, acc2, acc_obj = Y1, new2, obj
        if extrapolate and first is not None:
            Wt_acc, H_acc = (acc2, acc1) if second.is_W else (acc1, acc2)
            Wt_prev, H_prev = (new2, new1) if second.is_W else (new1, new2)
            acc_obj -= _rebalance(Wt_acc, H_acc, Wt_prev, H_prev, penalties, fixed)
        stop = monitor.update(acc_obj, *as_W_H(acc1, acc2))
        with np.errstate(**_QUIET):
            Y2 = _extrapolate(new2, prev2, beta if extrapolate else 0.0, rule)
        prev1, prev2 = new1, new2
        if not stop and fuse_second:
            P1, G2 = P1_next, G2_new  # Y2 is new2 (no extrapolation)
            S1 = data.subproblem(Y2, G2, False)
        elif not stop and first is not None and not fuse_first:
            P1, S1, G2 = yield from subproblem(first, Y2, True)
        if (
            extrapolate
            and not stop
            and first is not None
            and not bool(xp.all(xp.isfinite(G2)))
        ):
            Y2 = new2  # the extrapolated point overflowed: start plain
            P1, S1, G2 = yield from subproblem(first, Y2)

    W_out, H_out = as_W_H(acc1, acc2)
    info = {
        "n_restarts": n_restarts,
        "mean_inner_W": block_W.update.n_updates / max(1, block_W.update.n_calls),
        "mean_inner_H": block_H.update.n_updates / max(1, block_H.update.n_calls),
    }
    return SolverResult.from_monitor(
        monitor, contiguous_copy(xp, W_out), contiguous_copy(xp, H_out), info
    )


def fit_hals(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    update_order="HW",
    inner_iter=1,
    inner_tol=0.1,
    extrapolate=False,
    shuffle=False,
    random_state=None,
):
    """Minimize the penalized Frobenius objective by HALS (``solver="cd"``).

    With ``inner_iter=1`` and no extrapolation this is scikit-learn's
    coordinate descent (one sweep over the components of each factor per
    iteration; ``update_order="WH"`` is its order).

    Parameters
    ----------
    X : ndarray, sparse matrix or array-API array
        The data, of shape (n_samples, n_features), non-negative.
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
        The L1 and L2 weights of W and H.
    monitor : ConvergenceMonitor
        The stopping rule, history and callbacks.
    update_H : bool
        If False, only W is fitted (H fixed).
    update_order : {"HW", "WH"}
        Which factor each iteration updates first.
    inner_iter : int or "auto"
        Largest number of updates of a factor per iteration (see
        :func:`fit_alternating`).
    inner_tol : float
        Relative change that ends the inner loop early.
    extrapolate : bool
        Ang and Gillis's extrapolation with restarts.
    shuffle : bool
        Visit the components in a random order at every sweep.
    random_state : int, RandomState instance or None
        Seeds ``shuffle``.

    Returns
    -------
    result : SolverResult
        The fitted W and H, the history and ``info`` (``n_restarts``,
        ``mean_inner_W``, ``mean_inner_H``).

    Raises
    ------
    ValueError
        For options the data's array library does not support (see
        :func:`fit_alternating`).

    See Also
    --------
    fit_alternating : The driver, with all its options.
    fit_mu : Multiplicative updates of the same objective.
    fit_masked_hals : HALS on partially observed data.
    nmfkit.NMF : ``solver="cd"`` runs it.

    References
    ----------
    .. [1] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Transactions on
       Fundamentals E92-A(3), 708-721, 2009.
    .. [2] N. Gillis and F. Glineur, "Accelerated multiplicative updates and
       hierarchical ALS algorithms for nonnegative matrix factorization",
       Neural Computation 24(4), 1085-1105, 2012.
    .. [3] A. M. S. Ang and N. Gillis, "Accelerating nonnegative matrix
       factorization algorithms using extrapolation", Neural Computation
       31(2), 417-439, 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_hals
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> res = fit_hals(X, W0, H0, Penalties(),
    ...                monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> res.n_iter
    50
    >>> objective = res.history[:, 2]  # 1/2 ||X - W H||_F^2 (no penalty)
    >>> bool(np.isclose(objective[-1], 0.5 * np.sum((X - res.W @ res.H) ** 2)))
    True
    >>> bool(np.all(np.diff(objective) <= 0))  # never increases
    True
    """
    rng = check_random_state(random_state) if shuffle else None
    return fit_alternating(
        X,
        W,
        H,
        penalties,
        monitor=monitor,
        update_H=update_H,
        rule=HALSRule(rng),
        update_order=update_order,
        inner_iter=inner_iter,
        inner_tol=inner_tol,
        extrapolate=extrapolate,
        shuffle=shuffle,
    )


def fit_mu_accelerated(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    l1_placement="numerator",
    update_order="HW",
    inner_iter=1,
    inner_tol=0.1,
    extrapolate=False,
):
    """Multiplicative updates, with optional inner loops and extrapolation.

    With ``inner_iter=1`` and no extrapolation these are Lee and Seung's
    updates, one of each factor per iteration (:func:`fit_mu`).

    Parameters
    ----------
    X : ndarray, sparse matrix or array-API array
        The data, of shape (n_samples, n_features), non-negative.
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
        The L1 and L2 weights of W and H.
    monitor : ConvergenceMonitor
        The stopping rule, history and callbacks.
    update_H : bool
        If False, only W is fitted (H fixed).
    l1_placement : {"numerator", "denominator"}
        Where the L1 weight enters the update (see :func:`mu_step`).
    update_order : {"HW", "WH"}
        Which factor each iteration updates first.
    inner_iter : int or "auto"
        Largest number of updates of a factor per iteration (see
        :func:`fit_alternating`).
    inner_tol : float
        Relative change that ends the inner loop early.
    extrapolate : bool
        Ang and Gillis's extrapolation with restarts.

    Returns
    -------
    result : SolverResult
        The fitted W and H, the history and ``info`` (``n_restarts``,
        ``mean_inner_W``, ``mean_inner_H``).

    Raises
    ------
    ValueError
        For options the data's array library does not support (see
        :func:`fit_alternating`).

    See Also
    --------
    fit_mu : The plain updates.
    fit_alternating : The driver, with all its options.
    fit_hals : HALS, usually faster on the Frobenius objective.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", Advances in Neural Information Processing Systems 13,
       556-562, 2001.
    .. [2] N. Gillis and F. Glineur, "Accelerated multiplicative updates and
       hierarchical ALS algorithms for nonnegative matrix factorization",
       Neural Computation 24(4), 1085-1105, 2012.
    .. [3] A. M. S. Ang and N. Gillis, "Accelerating nonnegative matrix
       factorization algorithms using extrapolation", Neural Computation
       31(2), 417-439, 2019.

    Examples
    --------
    Gillis and Glineur's inner budget and Ang and Gillis's extrapolation:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_mu_accelerated
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> res = fit_mu_accelerated(X, W0, H0, Penalties(), inner_iter="auto",
    ...                          extrapolate=True,
    ...                          monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> bool(res.info["mean_inner_H"] > 1)
    True
    >>> objective = res.history[:, 2]  # 1/2 ||X - W H||_F^2 (no penalty)
    >>> bool(np.isclose(objective[-1], 0.5 * np.sum((X - res.W @ res.H) ** 2)))
    True
    >>> bool(np.all(np.diff(objective) <= 0))  # never increases
    True
    """
    return fit_alternating(
        X,
        W,
        H,
        penalties,
        monitor=monitor,
        update_H=update_H,
        rule=MURule(l1_placement),
        update_order=update_order,
        inner_iter=inner_iter,
        inner_tol=inner_tol,
        extrapolate=extrapolate,
    )


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
    """Minimize the penalized Frobenius objective by multiplicative updates.

    Lee and Seung's updates (see :mod:`nmfkit.solvers._mu`), one of each
    factor per iteration, on NumPy arrays, SciPy sparse matrices or (with
    array-API dispatch on) PyTorch tensors and CuPy arrays on their device.

    Parameters
    ----------
    X : ndarray, sparse matrix or array-API array
        The data, of shape (n_samples, n_features), non-negative.
    W : ndarray of shape (n_samples, n_components)
        Initial codes; not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary; not modified.
    penalties : Penalties
        The L1 and L2 weights of W and H.
    monitor : ConvergenceMonitor
        The stopping rule, history and callbacks.
    update_H : bool
        If False, only W is fitted (H fixed).
    l1_placement : {"numerator", "denominator"}
        Where the L1 weight enters the update (see :func:`mu_step`).
    update_order : {"HW", "WH"}
        Which factor each iteration updates first.

    Returns
    -------
    result : SolverResult
        The fitted W and H, the history and ``info`` (``n_restarts``,
        ``mean_inner_W``, ``mean_inner_H``).

    Raises
    ------
    ValueError
        For options the data's array library does not support (see
        :func:`fit_alternating`).

    See Also
    --------
    fit_mu_accelerated : With inner loops and extrapolation.
    fit_mu_beta : Multiplicative updates of any beta-divergence.
    fit_masked_mu : On partially observed data.
    nmfkit.NMF : ``solver="mu"`` with the Frobenius loss runs it.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", Advances in Neural Information Processing Systems 13,
       556-562, 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_mu
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)) @ rng.random((3, 15))
    >>> W0, H0 = rng.random((20, 3)) + 0.1, rng.random((3, 15)) + 0.1
    >>> res = fit_mu(X, W0, H0, Penalties(),
    ...              monitor=ConvergenceMonitor(tol=0, max_iter=50))
    >>> res.n_iter
    50
    >>> objective = res.history[:, 2]  # 1/2 ||X - W H||_F^2 (no penalty)
    >>> bool(np.isclose(objective[-1], 0.5 * np.sum((X - res.W @ res.H) ** 2)))
    True
    >>> bool(np.all(np.diff(objective) <= 0))  # never increases
    True
    """
    return fit_mu_accelerated(
        X,
        W,
        H,
        penalties,
        monitor=monitor,
        update_H=update_H,
        l1_placement=l1_placement,
        update_order=update_order,
    )
