"""The distributed solver: row blocks on the workers, H on the driver.

For X (n x p) split into row blocks ``X_b`` and W split the same way, one
iteration is one pass over X:

1. the driver broadcasts ``H^T`` (p x r) and ``H H^T`` (r x r): one graph key
   each, fetched once by every worker that needs them;
2. every block task reads ``X_b`` once, updates its rows of W (row-local) and
   returns the new ``W_b``, which stays on its worker (persisted), and its
   summaries: for the Frobenius loss (MU and HALS) ``W_b^T X_b`` (r x p),
   ``W_b^T W_b`` (r x r), ``sum(W_b)``; for a beta-divergence (KL) the
   numerator (and, beta != 1, the denominator) of H's update (p x r), the
   column sums of ``W_b`` and the divergence's parts;
3. the summaries are added in a tree (``split_every`` at a time), and only the
   total comes back to the driver;
4. the driver updates H from the totals and evaluates the objective from
   them; the stopping rule is the in-memory solvers' :class:`ConvergenceMonitor`.

The sums are the same as the in-memory products (``X^T W`` and ``W^T W`` are
sums over rows), so the fit equals the in-memory fit from the same start up to
rounding. The graph runs on the current ``dask.distributed`` client when there
is one, else on Dask's default scheduler.

Worker loss: a lost ``W_b`` is recomputed by Dask from its lineage (the
previous ``W_b``, ``X_b`` and the broadcast H, all kept in the graph). Every
``checkpoint_every`` iterations W is gathered to the driver and the blocks are
restarted from that copy, which bounds the lineage (and the work redone after
a loss) without holding more than one copy of W (n x r, small next to X).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import dask
import numpy as np
from dask import delayed

from ..solvers._monitor import SolverResult
from ._blocks import FrobeniusMURule, add_summaries, block_step, residual_block

__all__ = [
    "batched_dask_solver",
    "fit_dask",
    "fit_dask_batched",
    "reconstruction_error_dask",
    "reconstruction_errors_dask",
    "row_blocks",
]


def _distributed_client():
    """The ``dask.distributed`` client that Dask would use now, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        client = default_client()
    except ValueError:  # no client
        return None
    return client if dask.base.get_scheduler() == client.get else None


def _tree_sum(parts, split_every, add):
    """Add delayed parts with ``add`` in a tree of fan-in ``split_every``."""
    level = list(parts)
    while len(level) > 1:
        level = [
            delayed(add, pure=False)(*level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    return level[0]


def _add_summary_lists(*parts):
    """Sum lists of summaries (one per fit) fit by fit: one node of the one
    reduction tree that a pass builds for all its fits."""
    return [add_summaries(*sums) for sums in zip(*parts, strict=True)]


def row_blocks(X):
    """X as a list of delayed row blocks (the columns in one chunk)."""
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return list(X.to_delayed()[:, 0])


def _split_rows(W, chunks):
    """Split a NumPy W by the row chunks of X into graph literals."""
    bounds = np.cumsum((0,) + tuple(chunks))
    return [
        delayed(np.array(W[a:b], order="C"), pure=True)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


@dataclass(frozen=True)
class _PassRequest:
    """What a fit asks of its next pass over X (see :func:`block_step`)."""

    W_blocks: list
    Ht: np.ndarray
    HHt: np.ndarray
    update: bool
    with_data: bool = False
    obj_at: str = "after"


def _block_steps(X_b, W_bs, fits, Hts, HHts):
    """Every fit's :func:`block_step` on one read of ``X_b``: one task per
    block and pass, whatever the number of fits.

    ``W_bs`` holds each fit's rows of W, ``fits`` its ``(rule, (update,
    with_data, obj_at))``, ``Hts`` and ``HHts`` its broadcast ``H^T`` and
    ``H H^T``; the result is every fit's new rows, then the list of their
    summaries (summed for all fits by one tree).
    """
    X_b = np.asarray(X_b)  # a memory map or a chunk read from storage: once
    rows, summaries = [], []
    for (rule, flags), W_b, Ht, HHt in zip(fits, W_bs, Hts, HHts, strict=True):
        W_new, sums = block_step(rule, X_b, W_b, Ht, HHt, *flags)
        rows.append(W_new)
        summaries.append(sums)
    return (*rows, summaries)


class _Pass:
    """One pass over the blocks for one or more fits: for each, its new W
    blocks (persisted) and its totals.

    The graph of a pass has a fixed number of keys besides the fits' W
    blocks, whatever the number of fits: one broadcast of every fit's H, one
    task per block and one reduction tree of the summaries of all fits (a
    key per fit and per tree node made the scheduling of a round of 20 fits
    cost several passes of one fit).
    """

    def __init__(self, X_blocks, split_every):
        self.X_blocks = X_blocks
        self.split_every = split_every

    def __call__(self, rules, requests):
        n_fits = len(requests)
        fits = tuple(
            (rule, (r.update, r.with_data, r.obj_at))
            for rule, r in zip(rules, requests, strict=True)
        )
        # one key each: the broadcast of every fit's H and H H^T, and the
        # rules (new keys: hashing every fit's H for a key cost more than the
        # rest of the driver's work of a round)
        Hts = delayed(tuple(r.Ht for r in requests), pure=False)
        HHts = delayed(tuple(r.HHt for r in requests), pure=False)
        fits_key = delayed(fits, pure=False)
        steps = [
            delayed(_block_steps, pure=False, nout=n_fits + 1)(
                X_b, [r.W_blocks[b] for r in requests], fits_key, Hts, HHts
            )
            for b, X_b in enumerate(self.X_blocks)
        ]
        flat_W = [step[i] for i in range(n_fits) for step in steps]
        total = _tree_sum(
            [step[n_fits] for step in steps], self.split_every, _add_summary_lists
        )
        client = _distributed_client()
        if client is not None:
            # one graph: the W blocks stay on the workers as futures, only the
            # totals come back
            futures = client.compute([*flat_W, total])
            flat_W, totals = futures[:-1], client.gather(futures[-1])
        else:
            persisted = dask.persist(*flat_W, total)
            flat_W = list(persisted[:-1])
            (totals,) = dask.compute(persisted[-1])
        n_blocks = len(self.X_blocks)
        return [
            (list(flat_W[i * n_blocks : (i + 1) * n_blocks]), totals[i])
            for i in range(n_fits)
        ]


def _gather(W_blocks):
    client = _distributed_client()
    if client is not None:
        return np.concatenate(client.gather(list(W_blocks)), axis=0)
    return np.concatenate(dask.compute(*W_blocks), axis=0)


def _persist(blocks):
    client = _distributed_client()
    if client is not None:
        return client.compute(list(blocks))
    return list(dask.persist(*blocks))


def _iterations(
    rule,
    chunks,
    dtype,
    W,
    H,
    monitor,
    *,
    update_order,
    checkpoint_every,
    objective_every,
):
    """One fit as a generator of its passes over X.

    It yields a :class:`_PassRequest` for every pass it needs, takes back
    the new W blocks and the summed summaries of that pass, and returns its
    :class:`~nmfkit.solvers.SolverResult`. Everything between two passes
    (H's update, the objective, the monitor, checkpoints) runs on the
    driver, inside the generator; :func:`fit_dask` serves one generator and
    :func:`fit_dask_batched` several in lockstep, with the same iterates.
    """
    Ht = np.array(np.asarray(H).T, dtype=dtype, order="C", copy=True)
    HHt = Ht.T @ Ht
    W_blocks = _split_rows(np.asarray(W, dtype=dtype), chunks)
    n_components = Ht.shape[1]
    totals = data = None

    def run_pass(blocks, **flags):
        return _PassRequest(blocks, Ht, HHt, **flags)

    def as_array(blocks):
        import dask.array as da

        return da.concatenate(
            [
                da.from_delayed(b, shape=(rows, n_components), dtype=dtype)
                for b, rows in zip(blocks, chunks, strict=True)
            ],
            axis=0,
        )

    def update_columns():
        # a new array each time: the previous one may still be held by the
        # scheduler under its key (an in-process worker holds the object
        # itself), so it must not change
        nonlocal Ht, HHt
        Ht = Ht.copy()
        rule.update_columns(Ht, totals)
        HHt = Ht.T @ Ht

    def objective():
        return rule.objective(data, totals, Ht, HHt)

    pending = [0]

    def last_iteration():
        return monitor.n_iter + pending[0] + 1 >= monitor.max_iter

    def report():
        """Record the objective every ``objective_every`` iterations and at
        the last one (as the in-memory beta MU does); True to stop."""
        pending[0] += 1
        iteration = monitor.n_iter + pending[0]
        if pending[0] < objective_every and iteration < monitor.max_iter:
            return False
        steps, pending[0] = pending[0], 0
        return monitor.update(objective(), as_array(W_blocks), Ht.T, steps=steps)

    def checkpoint(blocks):
        if checkpoint_every and monitor.n_iter % checkpoint_every == 0:
            return _persist(_split_rows(_gather(blocks), chunks))
        return blocks

    if update_order == "HW" or rule.objective_from_totals:
        W_blocks, totals = yield run_pass(W_blocks, update=False, with_data=True)
        data = {key: totals.pop(key) for key in rule.data_keys}
        monitor.start(objective(), as_array(W_blocks), Ht.T)
        stop = monitor.max_iter <= 0
        while not stop:
            if update_order == "HW":
                update_columns()
            W_blocks, totals = yield run_pass(W_blocks, update=True)
            if update_order != "HW":
                update_columns()
            stop = report()
            if not stop and not pending[0]:
                W_blocks = checkpoint(W_blocks)
    else:
        # W first, objective from a pass over X: each pass evaluates the
        # state it starts from, updates W and sums H's products at the new W.
        W_next, totals = yield run_pass(
            W_blocks, update=True, with_data=True, obj_at="before"
        )
        data = {key: totals.pop(key) for key in rule.data_keys}
        monitor.start(objective(), as_array(W_blocks), Ht.T)
        stop = monitor.max_iter <= 0
        while not stop:
            W_blocks = W_next
            update_columns()
            if last_iteration():
                _, totals = yield run_pass(W_blocks, update=False)
                report()
                break
            W_next, totals = yield run_pass(W_blocks, update=True, obj_at="before")
            stop = report()
            if not stop and not pending[0]:
                W_next = checkpoint(W_next)
    return SolverResult(
        W=as_array(W_blocks),
        H=np.ascontiguousarray(Ht.T),
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
        info={"W_blocks": W_blocks},
    )


def _run_lockstep(fits, rules, run_pass):
    """Serve generators of :func:`_iterations` in lockstep until all return.

    Every round sends one pass to every running fit: the fits that asked
    for a pass share its reads of X; a fit that has returned (stopped)
    leaves the round and costs nothing more.
    """
    results = [None] * len(fits)
    running = {}
    for i, fit in enumerate(fits):
        try:
            running[i] = next(fit)
        except StopIteration as done:
            results[i] = done.value
    while running:
        order = list(running)
        answers = run_pass([rules[i] for i in order], [running[i] for i in order])
        for i, answer in zip(order, answers, strict=True):
            try:
                running[i] = fits[i].send(answer)
            except StopIteration as done:
                results[i] = done.value
                del running[i]
    return results


def _check_update_H(update_H):
    if not update_H:
        raise ValueError("fit_dask updates H; use transform_dask for a fixed H.")


def fit_dask(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    rule=FrobeniusMURule,
    l1_placement="numerator",
    update_order="HW",
    split_every=8,
    checkpoint_every=10,
    objective_every=1,
):
    """Fit ``X ~ W H`` for a Dask array X chunked by rows.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data, float32 or float64, chunked by rows (column chunks
        are merged).
    W : ndarray of shape (n_samples, n_components)
        Initial codes (NumPy); not modified.
    H : ndarray of shape (n_components, n_features)
        Initial dictionary (NumPy); not modified.
    penalties : Penalties
    monitor : ConvergenceMonitor
    update_H : bool
        Must be True here; fixed-H fits (``transform``) run block by block
        with the in-memory solver instead.
    rule : callable
        Makes the row rule from ``(penalties, l1_placement)``:
        :class:`~nmfkit.distributed.FrobeniusMURule` (the default),
        :class:`~nmfkit.distributed.HALSRule`, or
        ``functools.partial(BetaMURule, beta=beta)``.
    l1_placement : {"numerator", "denominator"}
    update_order : {"HW", "WH"}
    split_every : int
        Fan-in of the reduction tree.
    checkpoint_every : int
        Gather W to the driver every this many iterations (bounds the lineage);
        0 keeps the whole lineage instead.
    objective_every : int, default=1
        Record the objective (and apply ``tol``, ``max_time`` and the
        callbacks) every this many iterations and at the last one, with the
        monitor's rule over several iterations: the in-memory beta MU's
        schedule, which the estimator's KL row follows so that both give the
        same history and the same ``n_iter_``.

    Returns
    -------
    result : SolverResult
        ``W`` is a persisted Dask array chunked like the rows of X; ``H`` a
        NumPy array. ``info["W_blocks"]`` holds the persisted blocks.

    Raises
    ------
    ValueError
        If ``update_H`` is False.

    See Also
    --------
    fit_dask_batched : Several fits of one X sharing every pass over it.
    fit_transform_dask : The estimator's path to this solver.
    nmfkit.solvers.fit_mu : The in-memory multiplicative updates it equals.

    Notes
    -----
    The monitor (and its callbacks) sees W as a Dask array over the persisted
    blocks and H as a NumPy array (a transposed view).

    With a beta-divergence and ``update_order="WH"`` the objective after H's
    update needs the model at every entry, i.e. a pass over X: as in memory,
    each pass evaluates the state it starts from and updates W, so the
    objective of an iteration comes with the next iteration's pass (and the
    last iteration takes one pass of its own).

    Examples
    --------
    The default rule gives the iterates of the in-memory multiplicative
    updates:

    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.distributed import fit_dask
    >>> from nmfkit.solvers import ConvergenceMonitor, fit_mu
    >>> rng = np.random.default_rng(0)
    >>> X_np = rng.random((40, 2)) @ rng.random((2, 6))
    >>> X = da.from_array(X_np, chunks=(10, 6))
    >>> W0, H0 = rng.random((40, 2)), rng.random((2, 6))
    >>> ours = fit_dask(X, W0, H0, Penalties(), monitor=ConvergenceMonitor(0, 10))
    >>> builtin = fit_mu(X_np, W0, H0, Penalties(), monitor=ConvergenceMonitor(0, 10))
    >>> bool(np.allclose(ours.W.compute(), builtin.W))
    True
    >>> bool(np.allclose(ours.H, builtin.H))
    True
    """
    _check_update_H(update_H)
    (result,) = fit_dask_batched(
        X,
        [(W, H)],
        [penalties],
        monitors=[monitor],
        rule=rule,
        l1_placement=l1_placement,
        update_order=update_order,
        split_every=split_every,
        checkpoint_every=checkpoint_every,
        objective_every=objective_every,
    )
    return result


def fit_dask_batched(
    X,
    starts,
    penalties,
    *,
    monitors,
    update_H=True,
    rule=FrobeniusMURule,
    l1_placement="numerator",
    update_order="HW",
    split_every=8,
    checkpoint_every=10,
    objective_every=1,
):
    """Several fits of one Dask array X, sharing every pass over its blocks.

    ``[fit_dask(X, W, H, p, monitor=m, ...) for (W, H), p, m in ...]`` in one
    computation: every pass runs one task per block of X, which reads the
    block once and applies every running fit's row update to it, and one
    reduction tree adds the sums of all the fits. Each fit keeps its own H,
    W blocks, sums, stopping rule and checkpoints, so the results equal the
    separate fits' (the same sums in the same order: the same iterates and
    ``n_iter_``); a fit that has stopped leaves the later passes.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data chunked by rows (column chunks are merged).
    starts : sequence of (ndarray, ndarray)
        Every fit's initial ``(W, H)`` (NumPy; ranks may differ); not
        modified.
    penalties : sequence of Penalties
        Every fit's penalties.
    monitors : sequence of ConvergenceMonitor
        Every fit's stopping rule (one each; they must be distinct objects).
    update_H : bool
        Must be True.
    rule, l1_placement, update_order, split_every, checkpoint_every, objective_every
        As in :func:`fit_dask`, shared by the fits.

    Returns
    -------
    results : list of SolverResult
        One per fit, in order, as :func:`fit_dask` returns it.

    Raises
    ------
    ValueError
        If ``update_H`` is False, or ``starts``, ``penalties`` and
        ``monitors`` differ in length or share a monitor.

    See Also
    --------
    fit_dask : One fit.
    nmfkit.solvers.fit_alternating_batched : The in-memory batched driver.

    Notes
    -----
    Memory: a block task holds its block of X and every running fit's rows
    of W (``R x n_b x r`` numbers for R fits); the workers keep every fit's
    W blocks (``R x n_samples x r`` numbers in all) and the driver every
    fit's H.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.distributed import fit_dask, fit_dask_batched
    >>> from nmfkit.solvers import ConvergenceMonitor
    >>> rng = np.random.default_rng(0)
    >>> X = da.from_array(rng.random((40, 2)) @ rng.random((2, 6)), chunks=(10, 6))
    >>> starts = [(rng.random((40, r)), rng.random((r, 6))) for r in (2, 3)]
    >>> both = fit_dask_batched(X, starts, [Penalties()] * 2,
    ...     monitors=[ConvergenceMonitor(0, 10), ConvergenceMonitor(0, 10)])
    >>> alone = fit_dask(X, *starts[1], Penalties(), monitor=ConvergenceMonitor(0, 10))
    >>> bool(np.array_equal(both[1].H, alone.H))
    True
    """
    _check_update_H(update_H)
    starts, penalties, monitors = list(starts), list(penalties), list(monitors)
    if not len(starts) == len(penalties) == len(monitors):
        raise ValueError(
            f"fit_dask_batched got {len(starts)} starts, {len(penalties)} "
            f"penalties and {len(monitors)} monitors; give one of each per fit."
        )
    if len({id(monitor) for monitor in monitors}) != len(monitors):
        raise ValueError(
            "fit_dask_batched got one monitor for several fits; give each fit "
            "its own ConvergenceMonitor."
        )
    rules = [rule(p, l1_placement) for p in penalties]
    fits = [
        _iterations(
            fit_rule,
            X.chunks[0],
            X.dtype,
            W,
            H,
            monitor,
            update_order=update_order,
            checkpoint_every=checkpoint_every,
            objective_every=objective_every,
        )
        for fit_rule, (W, H), monitor in zip(rules, starts, monitors, strict=True)
    ]
    return _run_lockstep(fits, rules, _Pass(row_blocks(X), split_every))


def batched_dask_solver(solver):
    """:func:`fit_dask_batched` with the options of a Dask solver-table row,
    or None when ``solver`` is not :func:`fit_dask` (possibly with bound
    options, as the table's rows are)."""
    if solver is fit_dask:
        return fit_dask_batched
    if isinstance(solver, partial) and solver.func is fit_dask:
        return partial(fit_dask_batched, *solver.args, **solver.keywords)
    return None


def reconstruction_error_dask(X, W, H, split_every=8, beta=2.0):
    """``sqrt(2 D_beta(X | W H))`` (``||X - W H||_F`` for beta 2) for a Dask X
    and W chunked alike, one more pass over X: the in-memory
    :func:`~nmfkit._objective.reconstruction_error`.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        The data, chunked by rows.
    W : dask.array.Array of shape (n_samples, n_components)
        The codes, chunked like the rows of X.
    H : ndarray of shape (n_components, n_features)
        The dictionary.
    split_every : int, default=8
        Fan-in of the reduction tree.
    beta : float, default=2.0
        The beta-divergence (2 is Frobenius).

    Returns
    -------
    error : float

    See Also
    --------
    fit_transform_dask : Sets ``reconstruction_err_`` with it.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit.distributed import reconstruction_error_dask
    >>> X_np, W_np, H = np.ones((4, 3)), np.full((4, 1), 0.5), np.ones((1, 3))
    >>> X, W = da.from_array(X_np, chunks=(2, 3)), da.from_array(W_np, chunks=(2, 1))
    >>> reconstruction_error_dask(X, W, H)  # ||X - W H|| = sqrt(12 * 0.25)
    1.7320508075688772
    """
    (error,) = reconstruction_errors_dask(X, [(W, H)], split_every, beta)
    return error


def _residual_blocks(X_b, models, beta):
    """Every model's :func:`residual_block` on one read of ``X_b``."""
    X_b = np.asarray(X_b)
    return [residual_block(X_b, W_b, H, beta) for W_b, H in models]


def _add_lists(*parts):
    return [sum(values) for values in zip(*parts, strict=True)]


def reconstruction_errors_dask(X, models, split_every=8, beta=2.0):
    """:func:`reconstruction_error_dask` of several models in one pass over X.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        The data, chunked by rows.
    models : sequence of (dask.array.Array, ndarray)
        Every model's ``(W, H)``: W chunked like the rows of X.
    split_every : int, default=8
        Fan-in of the reduction tree.
    beta : float, default=2.0
        The beta-divergence (2 is Frobenius).

    Returns
    -------
    errors : list of float
        One per model, in order.

    See Also
    --------
    reconstruction_error_dask : One model.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit.distributed import reconstruction_errors_dask
    >>> X = da.from_array(np.ones((4, 3)), chunks=(2, 3))
    >>> W = da.from_array(np.full((4, 1), 0.5), chunks=(2, 1))
    >>> reconstruction_errors_dask(X, [(W, np.ones((1, 3))), (W, np.full((1, 3), 2.0))])
    [1.7320508075688772, 0.0]
    """
    blocks = [W.to_delayed()[:, 0] for W, _ in models]
    H_keys = [delayed(np.asarray(H), pure=True) for _, H in models]
    parts = [
        delayed(_residual_blocks, pure=True)(
            X_b,
            [(W_blocks[b], H) for W_blocks, H in zip(blocks, H_keys, strict=True)],
            beta,
        )
        for b, X_b in enumerate(row_blocks(X))
    ]
    total = _tree_sum(parts, split_every, _add_lists)
    return [float(np.sqrt(max(value, 0.0))) for value in total.compute()]
