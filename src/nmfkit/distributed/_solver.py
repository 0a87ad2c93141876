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

import dask
import numpy as np
from dask import delayed

from ..solvers._monitor import SolverResult
from ._blocks import FrobeniusMURule, add_summaries, block_step, residual_block

__all__ = ["fit_dask", "reconstruction_error_dask", "row_blocks"]


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


def _tree_sum(parts, split_every):
    """Add delayed summaries in a tree of fan-in ``split_every``."""
    level = list(parts)
    while len(level) > 1:
        level = [
            delayed(add_summaries, pure=False)(*level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    return level[0]


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


class _Pass:
    """One pass over the blocks: new W blocks (persisted) and the totals."""

    def __init__(self, rule, X_blocks, split_every):
        self.rule = rule
        self.X_blocks = X_blocks
        self.split_every = split_every

    def __call__(self, W_blocks, Ht, HHt, *, update, with_data=False, obj_at="after"):
        Ht_key = delayed(Ht, pure=True)  # one key: the broadcast of H
        HHt_key = delayed(HHt, pure=True)
        steps = [
            delayed(block_step, pure=False, nout=2)(
                self.rule, X_b, W_b, Ht_key, HHt_key, update, with_data, obj_at
            )
            for X_b, W_b in zip(self.X_blocks, W_blocks, strict=True)
        ]
        new_W = [step[0] for step in steps]
        total = _tree_sum([step[1] for step in steps], self.split_every)
        client = _distributed_client()
        if client is not None:
            # one graph: the W blocks stay on the workers as futures, only the
            # total comes back
            futures = client.compute([*new_W, total])
            return futures[:-1], futures[-1].result()
        *new_W, total = dask.persist(*new_W, total)
        return list(new_W), total.compute()


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
    if not update_H:
        raise ValueError("fit_dask updates H; use transform_dask for a fixed H.")
    rule = rule(penalties, l1_placement)
    dtype = X.dtype
    X_blocks = row_blocks(X)
    chunks = X.chunks[0]
    run_pass = _Pass(rule, X_blocks, split_every)
    Ht = np.array(np.asarray(H).T, dtype=dtype, order="C", copy=True)
    HHt = Ht.T @ Ht
    W_blocks = _split_rows(np.asarray(W, dtype=dtype), chunks)
    n_components = Ht.shape[1]

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
        W_blocks, totals = run_pass(W_blocks, Ht, HHt, update=False, with_data=True)
        data = {key: totals.pop(key) for key in rule.data_keys}
        monitor.start(objective(), as_array(W_blocks), Ht.T)
        stop = monitor.max_iter <= 0
        while not stop:
            if update_order == "HW":
                update_columns()
            W_blocks, totals = run_pass(W_blocks, Ht, HHt, update=True)
            if update_order != "HW":
                update_columns()
            stop = report()
            if not stop and not pending[0]:
                W_blocks = checkpoint(W_blocks)
    else:
        # W first, objective from a pass over X: each pass evaluates the
        # state it starts from, updates W and sums H's products at the new W.
        W_next, totals = run_pass(
            W_blocks, Ht, HHt, update=True, with_data=True, obj_at="before"
        )
        data = {key: totals.pop(key) for key in rule.data_keys}
        monitor.start(objective(), as_array(W_blocks), Ht.T)
        stop = monitor.max_iter <= 0
        while not stop:
            W_blocks = W_next
            update_columns()
            if last_iteration():
                _, totals = run_pass(W_blocks, Ht, HHt, update=False)
                report()
                break
            W_next, totals = run_pass(W_blocks, Ht, HHt, update=True, obj_at="before")
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
    parts = [
        delayed(residual_block, pure=True)(X_b, W_b, H, beta)
        for X_b, W_b in zip(row_blocks(X), W.to_delayed()[:, 0], strict=True)
    ]
    while len(parts) > 1:
        parts = [
            delayed(sum, pure=True)(parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    return float(np.sqrt(max(parts[0].compute(), 0.0)))
