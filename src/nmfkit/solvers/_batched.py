"""Many alternating fits of one X that share every pass over X.

Restarts, rank scans and consensus NMF fit the same X many times. Each fit
of the alternating driver reads X only through its data products, ``H X^T``
(for ``W^T``) and ``W^T X`` (for ``H``): tall-skinny products of ``r`` rows
that run far below the machine's peak. :func:`fit_alternating_batched` runs
``R`` fits in lockstep: every fit is an
:func:`~nmfkit.solvers._alternating.alternating_steps` coroutine; each round
advances every unfinished one to its next product request, stacks the
factors of the requests for the same product (rows of different ranks
stack as well), computes ONE wide product (``[H_1; ...; H_R] X^T`` or
``[W_1^T; ...; W_R^T] X``, dense BLAS or sparse CSR times dense) and hands
each fit its rows. X is read once per round instead of ``R`` times.

For sparse X the saving is smaller: each stored entry reads a row of the
stacked factor at a random position, so the product's cost grows with the
stacked rows whatever the stacking, and only the pass over X's own arrays
is shared. A stacked factor that outgrows the cache makes those reads
slower than ``R`` separate products; the rows of one sparse product stop
at :meth:`~nmfkit.solvers._data_terms.CompleteData.max_stacked_rows`
(consecutive requests form groups below it).

Each fit keeps its own state: inner loops, extrapolation with restarts (a
rejected step only makes that fit request the other product next round),
its monitor and stopping rule, ``n_iter``. A fit that stops leaves the
batch, and costs nothing from then on. The results are those of ``R``
calls of :func:`~nmfkit.solvers.fit_alternating` to rounding: a row of a
sparse product is the same sum in the same order, bit for bit; a row of a
stacked dense product may differ from the separate product by BLAS's
blocking, in the last bits.

Memory: the fits are alive together, so their factors and iterates are
held at once, about ``R x (n + p) x r`` numbers per copy (each fit holds a
few copies: iterates, extrapolated and accepted points, its products), plus
one stacked factor and one stacked product (``sum_i r_i`` rows) per round.
Each fit gets a copy of its rows of the stacked product (O(r m), small
beside the product's O(nnz(X) r)): a reduction over a view starting inside
the stacked array could sum in another order, by its alignment.
``max_batch`` bounds how many fits run together: the fits run in batches
of at most that many, one batch after the other.

Partially observed data (:class:`~nmfkit._observed.ObservedEntries`) is not
batched: its rules derive the products from the observed entries
themselves, so the fits run one after another.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._objective import Penalties
from ._alternating import (
    _QUIET,
    alternating_steps,
    fit_alternating,
    fit_hals,
    fit_mu_accelerated,
)
from ._data_terms import data_term
from ._monitor import ConvergenceMonitor, SolverResult

__all__ = ["batched_rule", "fit_alternating_batched"]

#: The solvers whose fits the batched driver runs, and their rule.
_BATCHED_RULES = {fit_hals: "hals", fit_mu_accelerated: "mu"}


def batched_rule(solver: Any) -> str | None:
    """The rule name under which :func:`fit_alternating_batched` runs ``solver``.

    ``"hals"`` for :func:`fit_hals`, ``"mu"`` for
    :func:`fit_mu_accelerated`, None for any other solver (those are not
    batched).
    """
    return _BATCHED_RULES.get(solver)


def _check_max_batch(max_batch):
    if max_batch is None:
        return None
    if (
        isinstance(max_batch, (bool, np.bool_))
        or not isinstance(max_batch, numbers.Integral)
        or max_batch < 1
    ):
        raise ValueError(
            f"max_batch={max_batch!r} is not valid; give a positive integer "
            "(fits run together) or None (all at once)."
        )
    return int(max_batch)


def _per_fit(value, n_fits, name, kind):
    """One value per fit: a sequence of ``n_fits``, or one value for all."""
    if isinstance(value, kind):
        return [value] * n_fits
    value = list(value)
    if len(value) != n_fits:
        raise ValueError(
            f"{name} has {len(value)} entries for {n_fits} starts; give one "
            "per start (or one for all)."
        )
    return value


def _check_starts(X, starts):
    n_samples, n_features = X.shape
    dtypes = set()
    for i, (W, H) in enumerate(starts):
        r = H.shape[0]
        if H.shape != (r, n_features) or W.shape != (n_samples, r):
            raise ValueError(
                f"start {i} has W of shape {tuple(W.shape)} and H of shape "
                f"{tuple(H.shape)}; for X of shape {tuple(X.shape)} give W of "
                f"shape ({n_samples}, r) and H of shape (r, {n_features})."
            )
        dtypes.add((W.dtype, H.dtype))
    if len(dtypes) > 1:
        raise ValueError(
            f"the starts have different dtypes {sorted(map(str, dtypes))}; the "
            "stacked products need one: convert them all to X's dtype."
        )


def fit_alternating_batched(
    X: Any,
    starts: Sequence[tuple[Any, Any]],
    penalties: Penalties | Sequence[Penalties],
    *,
    monitors: Sequence[ConvergenceMonitor],
    max_batch: int | None = None,
    fit_options: Sequence[Mapping[str, Any]] | None = None,
    **options: Any,
) -> list[SolverResult]:
    """Run many :func:`fit_alternating` fits of one X, sharing its products.

    The fits run in lockstep and every round computes one stacked product
    with X for all the fits that need it (module text); each fit keeps its
    own iterations, restarts and stopping rule, and its result is that of
    ``fit_alternating(X, W0, H0, penalties, monitor=monitor, **options)``
    to rounding.

    Parameters
    ----------
    X : ndarray, sparse matrix, array-API array or ObservedEntries
        The data, of shape (n_samples, n_features), shared by every fit.
        Partially observed data is not batched (its fits run one after
        another).
    starts : sequence of (W0, H0)
        The initial factors of every fit, ``W0`` of shape (n_samples, r)
        and ``H0`` of shape (r, n_features), one dtype for all; the ranks
        ``r`` may differ. Not modified.
    penalties : Penalties or sequence of Penalties
        The penalties of all fits, or of each.
    monitors : sequence of ConvergenceMonitor
        One per fit (its stopping rule, history and callbacks). A monitor's
        clock runs from its fit's start, so its seconds include the time of
        the other fits of its batch.
    max_batch : int or None, default=None
        Largest number of fits run together (memory: module text); None
        runs all together.
    fit_options : sequence of mapping or None, default=None
        Options of each fit (for example its own ``random_state``), over
        ``options``.
    **options
        Options of :func:`fit_alternating` shared by every fit (``rule``,
        ``update_order``, ``inner_iter``, ``inner_tol``, ``extrapolate``,
        ``shuffle``, ``random_state``, ``l1_placement``, ``update_H``).

    Returns
    -------
    results : list of SolverResult
        The result of every fit, in the order of ``starts``.

    Raises
    ------
    ValueError
        If the numbers of starts, monitors, penalties or options differ, a
        start's shape does not fit X, the starts have different dtypes, or
        ``max_batch`` is not a positive integer; and for what
        :func:`fit_alternating` refuses.

    See Also
    --------
    fit_alternating : One fit.
    nmfkit.NMF : ``n_init`` runs its restarts through this driver.

    Examples
    --------
    Three fits of ranks 2, 2 and 3, and the same fits one at a time:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import (
    ...     ConvergenceMonitor, fit_alternating, fit_alternating_batched,
    ... )
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 3)) @ rng.random((3, 20))
    >>> starts = [(rng.random((30, r)), rng.random((r, 20))) for r in (2, 2, 3)]
    >>> def monitor():
    ...     return ConvergenceMonitor(tol=1e-6, max_iter=300)
    >>> batched = fit_alternating_batched(
    ...     X, starts, Penalties(), monitors=[monitor() for _ in starts],
    ...     extrapolate=True,
    ... )
    >>> alone = [
    ...     fit_alternating(X, W0, H0, Penalties(), monitor=monitor(),
    ...                     extrapolate=True)
    ...     for W0, H0 in starts
    ... ]
    >>> [res.n_iter for res in batched] == [res.n_iter for res in alone]
    True
    >>> all(np.allclose(a.W, b.W, rtol=1e-10, atol=0)
    ...     for a, b in zip(batched, alone))
    True
    """
    starts = [tuple(start) for start in starts]
    n_fits = len(starts)
    monitors = list(monitors)
    if len(monitors) != n_fits:
        raise ValueError(
            f"monitors has {len(monitors)} entries for {n_fits} starts; give "
            "one ConvergenceMonitor per start."
        )
    per_fit_penalties = _per_fit(penalties, n_fits, "penalties", Penalties)
    fit_options = [{}] * n_fits if fit_options is None else list(fit_options)
    if len(fit_options) != n_fits:
        raise ValueError(
            f"fit_options has {len(fit_options)} entries for {n_fits} starts; "
            "give one mapping per start (or None)."
        )
    max_batch = _check_max_batch(max_batch)
    _check_starts(X, starts)
    fits = [
        (W0, H0, per_fit_penalties[i], monitors[i], {**options, **fit_options[i]})
        for i, (W0, H0) in enumerate(starts)
    ]
    from .._observed import ObservedEntries

    if isinstance(X, ObservedEntries):  # not batched (module text)
        return [
            fit_alternating(X, W0, H0, p, monitor=m, **opts)
            for W0, H0, p, m, opts in fits
        ]
    if n_fits == 0:
        return []
    data = data_term(X)
    size = n_fits if max_batch is None else max_batch
    results: list[SolverResult] = []
    for begin in range(0, n_fits, size):
        batch = fits[begin : begin + size]
        steps = [
            alternating_steps(data.replica(), X, W0, H0, p, monitor=m, **opts)
            for W0, H0, p, m, opts in batch
        ]
        results.extend(run_lockstep(steps, data))
    return results


def run_lockstep(steps: Sequence[Any], data: Any) -> list[SolverResult]:
    """Drive :func:`alternating_steps` coroutines of one data term together.

    Each round sends every unfinished coroutine the product it requested,
    the requests for the same product served by one stacked product
    (:func:`stacked_products`). When one raises (an interrupt from a
    monitor callback, an error), all are closed and the exception
    propagates; their monitors keep the last iteration each recorded.

    Parameters
    ----------
    steps : sequence of generator
        Coroutines made with the same ``data``.
    data : CompleteData
        The data term of X (each coroutine holds a
        :meth:`~nmfkit.solvers._data_terms.CompleteData.replica` of it: the
        objective keeps state per fit).

    Returns
    -------
    results : list of SolverResult
        What every coroutine returned, in order.
    """
    results: list[Any] = [None] * len(steps)
    pending: dict[int, Any] = {}

    def advance(i, product, start=False):
        try:
            request = next(steps[i]) if start else steps[i].send(product)
        except StopIteration as done:
            results[i] = done.value
        else:
            pending[i] = request

    try:
        for i in range(len(steps)):
            advance(i, None, start=True)
        while pending:
            requests, pending = pending, {}
            groups: dict[bool, list[int]] = {}
            for i, request in requests.items():
                groups.setdefault(bool(request.is_W), []).append(i)
            for is_W, members in groups.items():
                products = stacked_products(data, [requests[i] for i in members], is_W)
                for i, product in zip(members, products, strict=True):
                    advance(i, product)
    except BaseException:
        for coroutine in steps:
            coroutine.close()
        raise
    return results


def stacked_products(data: Any, requests: Sequence[Any], is_W: bool) -> list[Any]:
    """The products of several requests of one kind, from one stacked product.

    Parameters
    ----------
    data : CompleteData
        The data term of X.
    requests : sequence of ProductRequest
        Requests with the same ``is_W``; their factors (``r_i x m'``) are
        stacked into one ``(sum r_i) x m'`` factor.
    is_W : bool
        Which product (``H X^T`` when True, ``W^T X`` otherwise).

    Returns
    -------
    products : list of array
        ``products[i]``: the rows of request ``i`` (``r_i x m``, copied
        out of the stacked product, C-contiguous).
    """
    others = [request.other for request in requests]
    quiet = any(request.quiet for request in requests)
    limit = data.max_stacked_rows(others[0])
    products: list[Any] = []
    for chunk in _chunks(others, limit):
        with np.errstate(**(_QUIET if quiet else {})):
            products.extend(data.products(chunk, is_W))
    return products


def _chunks(others, limit):
    """Consecutive groups of ``others`` of at most ``limit`` rows in all (a
    factor of more rows forms a group alone); one group when no limit."""
    if limit is None:
        return [others]
    chunks: list[list[Any]] = [[]]
    rows = 0
    for other in others:
        r = int(other.shape[0])
        if chunks[-1] and rows + r > limit:
            chunks.append([])
            rows = 0
        chunks[-1].append(other)
        rows += r
    return chunks
