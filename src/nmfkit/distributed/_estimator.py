"""The NMF estimator on Dask arrays: what ``NMF.fit`` and ``transform`` call.

The estimator detects a Dask array before its own validation (which would
load X into memory) and hands over here. Parameters, penalties and the
stopping rule are the estimator's; only the data stays on the cluster.
"""

from __future__ import annotations

import numpy as np

from .._init import initialize_from_summaries, resolve_init
from .._scaling import Rescaling
from .._validation import (
    check_data,
    check_factor,
    check_n_components,
    check_summarized_values,
    warn_factors_ignored,
)
from ._solver import row_blocks

__all__ = [
    "codes_dask",
    "fit_transform_dask",
    "fit_transform_dask_batched",
    "is_dask_array",
    "transform_dask",
]

def is_dask_array(X):
    """Whether X is a ``dask.array.Array`` (without importing Dask).

    Parameters
    ----------
    X : object
        Anything.

    Returns
    -------
    is_dask : bool

    See Also
    --------
    fit_transform_dask : What ``NMF.fit_transform`` runs for such an X.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit.distributed import is_dask_array
    >>> is_dask_array(da.zeros((4, 2), chunks=2)), is_dask_array(np.zeros((4, 2)))
    (True, False)
    """
    return type(X).__module__.startswith("dask.array") and hasattr(X, "chunks")


def _summaries(X):
    """Mean and typical magnitude (the geometric mean of the positive entries)
    of X, in one pass that also runs the value checks of
    :func:`~nmfkit._validation.check_data` (finite, non-negative, dynamic
    range) from its reductions."""
    import dask
    import dask.array as da

    positive = X > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, minimum, peak, n_nan, n_inf, n_negative, log_sum, n_positive = (
            dask.compute(
                X.mean(dtype=np.float64),
                X.min(),
                X.max(),
                da.isnan(X).sum(),
                da.isinf(X).sum(),
                (X < 0).sum(),
                da.where(positive, da.log2(da.where(positive, X, 1)), 0).sum(
                    dtype=np.float64
                ),
                positive.sum(),
            )
        )
    typical = 2.0 ** (float(log_sum) / int(n_positive)) if n_positive else 1.0
    check_summarized_values(
        n_nan=n_nan,
        n_inf=n_inf,
        n_negative=n_negative,
        minimum=float(minimum),
        peak=float(peak),
        typical=typical,
        dtype=X.dtype,
    )
    return float(mean), typical


def _initial_factors(est, X, W, H, mean, rescaling):
    """Initial factors of the rescaled X (whose mean is ``mean``)."""
    n_samples, n_features = X.shape
    n_components = check_n_components(est.n_components, n_features)
    if est.init == "custom":
        if n_components == "auto":
            if H is None and W is None:
                raise ValueError(
                    "init='custom' needs initial W and H; pass them to "
                    "fit_transform(X, W=..., H=...)."
                )
            n_components = np.shape(H)[0] if H is not None else np.shape(W)[1]
        if W is not None and is_dask_array(W):
            W = W.compute()
        H = check_factor(H, (n_components, n_features), X.dtype, "H")
        W = check_factor(W, (n_samples, n_components), X.dtype, "W")
        return rescaling.to_internal(W, H)
    if W is not None or H is not None:
        warn_factors_ignored(stacklevel=5)
    if n_components == "auto":
        n_components = n_features
    init = resolve_init(est.init, n_components, X.shape)

    def svd():
        import dask
        import dask.array as da

        # Dask's randomized SVD: a different (equally valid) start than the
        # in-memory one, which uses scikit-learn's randomized_svd.
        seed = est.random_state if isinstance(est.random_state, int) else None
        U, S, V = da.linalg.svd_compressed(
            X.rechunk({1: -1}), n_components, seed=seed, compute=False
        )
        return dask.compute(U, S, V)

    return initialize_from_summaries(
        X.shape,
        X.dtype,
        n_components,
        init,
        mean=mean,
        svd=svd,
        random_state=est.random_state,
    )


def fit_transform_dask(est, X, W=None, H=None):
    """``NMF.fit_transform`` for a Dask array X: returns W as a Dask array.

    The fitted ``components_`` is a NumPy array; W (the return value) is a
    persisted Dask array chunked like the rows of X. ``NMF.fit_transform``
    calls it when X is a Dask array.

    Parameters
    ----------
    est : NMF
        The estimator, fitted in place (its parameters choose the solver).
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data chunked by rows.
    W : array-like of shape (n_samples, n_components), default=None
        Initial codes for ``init="custom"``.
    H : array-like of shape (n_components, n_features), default=None
        Initial dictionary for ``init="custom"``.

    Returns
    -------
    W : dask.array.Array of shape (n_samples, n_components)
        The codes, chunked like the rows of X.

    Raises
    ------
    ValueError
        If X is not 2-D, holds negative or non-finite entries, or the
        estimator's options are not available on Dask arrays.

    See Also
    --------
    transform_dask : Codes of new data under the fitted dictionary.
    nmfkit.NMF.fit_transform : The in-memory fit, with the same result.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit import NMF
    >>> rng = np.random.default_rng(0)
    >>> X_np = rng.random((40, 2)) @ rng.random((2, 6))
    >>> X = da.from_array(X_np, chunks=(10, 6))  # four blocks of rows
    >>> from nmfkit.distributed import fit_transform_dask
    >>> model = NMF(2, solver="mu", init="nndsvda", max_iter=10, tol=0)
    >>> W = fit_transform_dask(model, X)
    >>> W.chunks
    ((10, 10, 10, 10), (2,))
    >>> in_memory = NMF(2, solver="mu", init="nndsvda", max_iter=10, tol=0)
    >>> bool(np.allclose(W.compute(), in_memory.fit_transform(X_np)))
    True
    """
    (codes,) = fit_transform_dask_batched([est], X, W, H)
    return codes


def fit_transform_dask_batched(models, X, W=None, H=None, *, max_batch=None):
    """``[model.fit_transform(X) for model in models]`` for a Dask array X, in
    one pass over X per iteration for all of them.

    The models differ at most in ``n_components`` and ``random_state``
    (restarts, replicates, rank scans; :func:`~nmfkit._batched_fits.batching_refusal`
    says why others are not batched). What the fits share is done once: the
    checks and summaries of X (one pass), the scale of the data; every
    model's start, penalties and stopping rule are its own fit's. The fits
    run through :func:`~nmfkit.distributed.fit_dask_batched`, and their
    ``reconstruction_err_`` take one more pass together. Each model ends as
    its own :func:`fit_transform_dask` would leave it (the same iterates,
    ``n_iter_`` and attributes).

    Parameters
    ----------
    models : sequence of NMF
        Unfitted estimators with ``n_init=1``; each is fitted in place.
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data chunked by rows.
    W, H : array-like, default=None
        Initial factors for ``init="custom"`` (one model only).
    max_batch : int or None, default=None
        Largest number of fits run together; None: as many as
        :data:`~nmfkit._batched_fits.BATCH_BYTES` of factors allow.

    Returns
    -------
    codes : list of dask.array.Array
        Every model's W, chunked like the rows of X.

    Raises
    ------
    ValueError
        As each model's own fit: X not 2-D, negative or non-finite entries,
        options not available on Dask arrays.

    See Also
    --------
    fit_transform_dask : One model.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit import NMF
    >>> from nmfkit.distributed import fit_transform_dask_batched
    >>> rng = np.random.default_rng(0)
    >>> X = da.from_array(rng.random((40, 3)) @ rng.random((3, 8)), chunks=(10, 8))
    >>> models = [NMF(r, solver="mu", max_iter=50, random_state=0) for r in (2, 3)]
    >>> codes = fit_transform_dask_batched(models, X)
    >>> alone = NMF(3, solver="mu", max_iter=50, random_state=0).fit(X)
    >>> bool(np.array_equal(models[1].components_, alone.components_))
    True
    """
    from .._batched_fits import default_max_batch
    from ._solver import batched_dask_solver, reconstruction_errors_dask

    models = list(models)
    specs = []
    for model in models:  # every fit's own parameter checks and warnings
        model._check_params(X=X)
        beta, spec, options = model._resolve_solver(X, warn=False)
        specs.append((spec, options))
    X = check_data(X)
    mean, typical = _summaries(X)
    # solved at unit scale, as in memory (nmfkit._scaling)
    root = float(np.sqrt(typical))
    rescaling = Rescaling(data=typical, W_scale=root, H_scale=root, beta=beta)
    X_user = X
    X = X * X.dtype.type(1.0 / typical) if typical != 1.0 else X
    starts, penalties, monitors = [], [], []
    for model, (spec, _) in zip(models, specs, strict=True):
        model.n_features_in_ = X.shape[1]
        monitor = model._monitor(solver=spec.name, kind="dask")
        monitor.objective_scale = rescaling.objective_factor
        monitors.append(monitor)
        starts.append(_initial_factors(model, X, W, H, mean / typical, rescaling))
        penalties.append(rescaling.penalties(model._penalties(X)))
    spec, options = specs[0]
    solve = batched_dask_solver(spec.solver(beta))
    if max_batch is None:
        ranks = [start[1].shape[0] for start in starts]
        max_batch = default_max_batch(X.shape, ranks, X.dtype.itemsize)
    results = []
    for begin in range(0, len(models), max_batch):
        end = begin + max_batch
        results.extend(
            solve(
                X,
                starts[begin:end],
                penalties[begin:end],
                monitors=monitors[begin:end],
                update_H=True,
                **options,
            )
        )
    for model, result in zip(models, results, strict=True):
        result.W, result.H = rescaling.to_user(result.W, result.H)
        model._store_result(result)  # the in-memory fit's attributes
        model.solver_, model.solver_options_ = spec.name, options
    errors = reconstruction_errors_dask(
        X_user, [(result.W, result.H) for result in results], beta=beta
    )
    for model, error in zip(models, errors, strict=True):
        model.reconstruction_err_ = error
    return [result.W for result in results]


def _transform_block(X_b, H, mean, penalties, options):
    """Codes of one block under a fixed H, by the in-memory solver."""
    return _solve_block(X_b, H, mean, penalties, options).W


def _codes_block(X_b, H, mean, penalties, options):
    """:func:`_transform_block` and the iterations its solver ran."""
    result = _solve_block(X_b, H, mean, penalties, options)
    return result.W, int(result.n_iter)


def _solve_block(X_b, H, mean, penalties, options):
    """The in-memory solver's result for one block under a fixed H."""
    from .._objective import constant_start
    from ..solvers import NEUTRAL_OPTIONS, ConvergenceMonitor, resolve_solver

    options = dict(options)  # the task may run again (recomputation)
    X_b = np.asarray(X_b)
    value = constant_start(mean, H.shape[0])
    W0 = np.full((X_b.shape[0], H.shape[0]), value, dtype=X_b.dtype)
    beta = options.pop("beta")
    # the estimator's options only: the in-memory row sets its own schedule
    chosen = {
        k: v for k, v in options.pop("options").items() if k in NEUTRAL_OPTIONS
    }
    spec, solver_options = resolve_solver(
        options.pop("solver"), beta, "dense", warn=False, **chosen
    )
    monitor = ConvergenceMonitor(**options.pop("monitor"))
    result = spec.solver(beta)(
        X_b, W0, H, penalties, update_H=False, monitor=monitor, **solver_options
    )
    return result


def transform_dask(est, X):
    """``NMF.transform`` for a Dask array X: a lazy Dask array chunked like X's rows.

    Each block of rows is solved by the in-memory solver with the fitted H:
    the codes of different rows are independent problems. The start is the
    same constant as in memory (from the mean of all of X, a lazy reduction),
    and each block applies ``tol`` to its own objective, so the result equals
    the in-memory ``transform`` exactly when ``max_iter`` ends the runs
    (``tol=0``) and up to the stopping tolerance otherwise.

    Parameters
    ----------
    est : NMF
        A fitted estimator.
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data chunked by rows.

    Returns
    -------
    W : dask.array.Array of shape (n_samples, n_components)
        The codes, lazy, chunked like the rows of X.

    Raises
    ------
    ValueError
        If X has another number of features than the fitted data.

    See Also
    --------
    fit_transform_dask : Fit on a Dask array.
    nmfkit.NMF.transform : The in-memory codes, with the same result.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit import NMF
    >>> rng = np.random.default_rng(0)
    >>> X_np = rng.random((40, 2)) @ rng.random((2, 6))
    >>> X = da.from_array(X_np, chunks=(10, 6))  # four blocks of rows
    >>> from nmfkit.distributed import transform_dask
    >>> model = NMF(2, solver="mu", init="nndsvda", max_iter=10, tol=0).fit(X_np)
    >>> W = transform_dask(model, X)
    >>> bool(np.allclose(W.compute(), model.transform(X_np)))
    True
    """
    import dask.array as da

    X, tasks, k = _block_tasks(est, X, _transform_block)
    blocks = [
        da.from_delayed(task, shape=(rows, k), dtype=X.dtype)
        for task, rows in zip(tasks, X.chunks[0], strict=True)
    ]
    return da.concatenate(blocks, axis=0)


def codes_dask(est, X):
    """:func:`transform_dask` computed: the codes in memory, and the most
    iterations any block's solver ran.

    For callers that need the codes as NumPy (they are ``n_samples x
    n_components``, small next to X) and the iterations that a lazy
    :func:`transform_dask` cannot report, such as
    ``non_negative_factorization(update_H=False)`` (which warns, as in
    memory, when a block used all ``max_iter`` iterations).

    Parameters
    ----------
    est : NMF
        A fitted estimator (or one with ``components_`` and
        ``n_features_in_`` set).
    X : dask.array.Array of shape (n_samples, n_features)
        Non-negative data chunked by rows.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
        The codes, equal to ``transform_dask(est, X).compute()``.
    n_iter : int
        The most iterations a block's solver ran (``max_iter``: some block
        did not meet ``tol``).

    Raises
    ------
    ValueError
        If X has another number of features than the fitted data.

    See Also
    --------
    transform_dask : The lazy codes.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from nmfkit import NMF
    >>> from nmfkit.distributed import codes_dask, transform_dask
    >>> rng = np.random.default_rng(0)
    >>> X = da.from_array(rng.random((40, 2)) @ rng.random((2, 6)), chunks=(10, 6))
    >>> model = NMF(2, solver="mu", max_iter=10, tol=0).fit(X)
    >>> W, n_iter = codes_dask(model, X)
    >>> bool(np.array_equal(W, transform_dask(model, X).compute())), n_iter
    (True, 10)
    """
    import dask

    X, tasks, _ = _block_tasks(est, X, _codes_block)
    parts = dask.compute(*tasks)
    W = np.concatenate([W_b for W_b, _ in parts], axis=0)
    return W, max(n_iter for _, n_iter in parts)


def _block_tasks(est, X, block_fn):
    """The checked X, one ``block_fn`` task per block of its rows, and the rank."""
    from dask import delayed

    beta, _ = est._check_params()
    X = check_data(X)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is "
            f"expecting {est.n_features_in_} features as input."
        )
    H = np.asarray(est.components_, dtype=X.dtype)
    mean = X.mean(dtype=np.float64).to_delayed().item()
    # each block runs the in-memory solver the estimator resolves for dense X
    # ("auto" options resolved as in memory, for the solver that runs there)
    _, spec, solver_options = est._resolve_solver(None, warn=False)
    options = dict(
        solver=spec.name,
        beta=beta,
        monitor=dict(tol=est.tol, max_iter=est.max_iter, max_time=est.max_time),
        options=solver_options,
    )
    penalties = est._penalties(X)
    H_key = delayed(H, pure=True)
    tasks = [
        delayed(block_fn, pure=True)(X_b, H_key, mean, penalties, dict(options))
        for X_b in row_blocks(X)
    ]
    return X, tasks, H.shape[0]
