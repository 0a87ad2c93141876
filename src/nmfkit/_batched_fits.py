"""Many NMF estimator fits of one X as one batched computation.

:func:`fit_transform_batched` is ``[model.fit_transform(X) for model in
models]`` for estimators that differ only in ``n_components`` and
``random_state`` (restarts, replicates, rank scans), done once for what they
share and batched for the rest:

- the parameters are checked for every model (the same errors and warnings
  as its own fit), X is validated once, rescaled to unit scale once
  (:mod:`nmfkit._scaling`: all the fits solve ``X / s``);
- every model's start is computed as its own fit computes it (the same seed
  gives the same ``W0, H0``), and so are its penalties and solver options;
- the fits run through the batched driver
  (:func:`~nmfkit.solvers.fit_alternating_batched`), which shares every pass
  over X between them, in batches of at most ``max_batch`` fits;
- every model is finished as its own fit finishes it: factors back to the
  user's scale and checked finite, ``components_``, ``n_iter_``,
  ``history_``, ``loss_``, ``reconstruction_err_``, ``solver_`` and the
  ConvergenceWarning of a fit that used ``max_iter``.

It returns None where batching does not apply, and the caller fits the
models one after another (:func:`batching_refusal` says why): partially
observed data (``missing_values``, a mask, ``sparse_unobserved="missing"``),
other beta-divergences in memory (``beta_loss`` != 2: their multiplicative
updates have their own loop), a solver other than the built-in HALS and MU,
custom starts, ``checkpoint``, ``max_time`` (each fit's seconds would
include the others'), ``verbose`` (the fits' lines would interleave), and
models whose other parameters differ.

A Dask X batches for every solver of the solver table's Dask rows, the
Kullback-Leibler MU included: :func:`~nmfkit.distributed.fit_transform_dask_batched`
runs the fits through :func:`~nmfkit.distributed.fit_dask_batched`, whose
passes read each block of X once for all the fits (the workers hold every
fit's W blocks, ``R x n_samples x n_components`` numbers).

Memory: the fits of a batch are alive together, about ``R x (n_samples +
n_features) x n_components`` numbers per copy of the factors (module text of
:mod:`nmfkit.solvers._batched`); by default a batch holds as many fits as
:data:`BATCH_BYTES` allows, and for a sparse X no more than one stacked
product takes (:func:`default_max_batch`).

Ctrl-C (``on_interrupt="keep"``) stops the fits of the running batch, each
keeping its last iteration (as an interrupted single fit does, with a
:class:`~nmfkit.FitInterruptedWarning`); the later batches still run, as
the later fits of a sequential loop do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import solvers
from ._array_api import numpy_dtype
from ._objective import beta_to_float, reconstruction_error
from ._scaling import Rescaling
from ._validation import check_data_for_beta
from .reliability._fit_runner import (
    FitInterruptedWarning,
    _check_finite_factors,
    _to_user,
)
from .reliability._interrupt import InterruptGuard
from .solvers._batched import batched_rule, fit_alternating_batched
from .solvers._data_terms import CompleteData

__all__ = [
    "BATCH_BYTES",
    "batching_refusal",
    "default_max_batch",
    "fit_transform_batched",
]

#: Bytes of factors a default batch may hold (``max_batch=None``).
BATCH_BYTES = 1 << 30
#: Copies of its factors a fit of the alternating driver holds at once
#: (iterates, extrapolated, previous and accepted points, products, Gram).
_COPIES = 8
#: The parameters in which the models of one batch may differ.
_PER_FIT = ("n_components", "random_state")


def default_max_batch(
    shape: tuple[int, int], ranks: Sequence[int], itemsize: int, *, sparse: bool = False
) -> int:
    """Fits per batch so that a batch holds at most :data:`BATCH_BYTES` of factors.

    For a sparse X, also no more fits than one stacked product takes
    (:meth:`~nmfkit.solvers._data_terms.CompleteData.max_stacked_rows`, at
    the largest rank): the products of more fits are cut into several
    stacked products anyway, so a larger batch shares nothing more of the
    passes over X, while every fit it adds is one more set of factors that
    the lockstep rounds cycle through, pushing the others' out of the cache.

    Parameters
    ----------
    shape : (int, int)
        ``(n_samples, n_features)``.
    ranks : sequence of int
        The ranks of the fits (the largest one counts).
    itemsize : int
        Bytes per number (8 for float64).
    sparse : bool, default=False
        Whether X is a sparse matrix.

    Returns
    -------
    max_batch : int
        At least 1.
    """
    per_fit = _COPIES * (shape[0] + shape[1]) * max(ranks) * itemsize
    fits = BATCH_BYTES // max(1, per_fit)
    if sparse:
        rows = CompleteData.sparse_stacked_rows(min(shape), itemsize)
        fits = min(fits, rows // max(ranks))
    return max(1, fits)


def _shared_params(model):
    return {k: v for k, v in model.get_params(deep=False).items() if k not in _PER_FIT}


def batching_refusal(models: Sequence[Any], X: Any) -> str | None:
    """Why :func:`fit_transform_batched` would not batch these fits (None: it would).

    Parameters
    ----------
    models : sequence of NMF
        Unfitted estimators with ``n_init=1``.
    X : array-like, sparse matrix or Dask array
        The data, not validated yet.

    Returns
    -------
    reason : str or None
    """
    from ._nmf import _is_dask_array

    if not models:
        return "there are no fits"
    first = models[0]
    shared = _shared_params(first)
    if any(_shared_params(model) != shared for model in models[1:]):
        return "the models differ in more than n_components and random_state"
    if first.n_init != 1:
        return "n_init is not 1"
    if first.checkpoint is not None:
        return "checkpoint is set"
    if first.max_time is not None:
        return "max_time is set"
    if first.verbose:
        return "verbose is set"
    if first.init == "custom":
        return "init='custom'"
    if _is_dask_array(X):
        return _dask_refusal(first, X)
    if first.bias or first._is_masked(X, None):
        return "X is partially observed"
    if beta_to_float(first.beta_loss) != 2.0:
        return "beta_loss is not the Frobenius loss"
    with warnings.catch_warnings():  # the fits themselves warn, once each
        warnings.simplefilter("ignore")
        beta, spec = first._check_params(X=X)
    if batched_rule(spec.fit) is None:
        return f"solver {spec.name!r} on this data has no batched driver"
    if solvers.data_kind_of(X) not in ("dense", "sparse", "array_api"):
        return "X is not complete data in memory"
    return None


def _dask_refusal(first, X):
    """Why fits of a Dask array would not batch (None: they would): every
    solver of the table's Dask rows batches, whatever the loss."""
    from .distributed._solver import batched_dask_solver

    with warnings.catch_warnings():  # the fits themselves warn, once each
        warnings.simplefilter("ignore")
        beta, spec = first._check_params(X=X)
    if batched_dask_solver(spec.solver(beta)) is None:
        return f"solver {spec.name!r} on Dask arrays has no batched driver"
    return None


def fit_transform_batched(
    models: Sequence[Any], X: Any, *, max_batch: int | None = None
) -> list | None:
    """``[model.fit_transform(X) for model in models]``, batched (module text).

    Parameters
    ----------
    models : sequence of NMF
        Unfitted estimators with ``n_init=1`` whose parameters differ only
        in ``n_components`` and ``random_state``; each is fitted in place.
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The data of every fit.
    max_batch : int or None, default=None
        Largest number of fits run together; None: as many as
        :data:`BATCH_BYTES` of factors allow, and for a sparse X as one
        stacked product takes (:func:`default_max_batch`).

    Returns
    -------
    codes : list of ndarray, or None
        The codes ``W`` of every model, in order; None when batching does
        not apply (:func:`batching_refusal`), and nothing was fitted.

    Raises
    ------
    ValueError
        For what each model's own fit refuses (parameters, data).
    """
    if batching_refusal(models, X) is not None:
        return None
    from ._nmf import _is_dask_array

    models = list(models)
    if _is_dask_array(X):
        from .distributed import fit_transform_dask_batched

        return fit_transform_dask_batched(models, X, max_batch=max_batch)
    first = models[0]
    checked = None
    specs = []
    for model in models:  # every fit's own checks and warnings
        model._check_bias_needs_masked()
        beta, spec = model._check_params(X=X)
        specs.append(spec)
        if checked is None:
            checked = first._validate_X(X, reset=True)
        else:
            model._validate_X(X, reset=True, checked=checked)
    X = checked
    check_data_for_beta(X, beta)
    rescaling = Rescaling.for_fit(X, beta)
    X_internal = rescaling.scale_data(X)
    starts, penalties = [], []
    for model in models:
        starts.append(model._initial_factors(X_internal, None, None, rescaling))
        penalties.append(rescaling.penalties(model._penalties(X)))
    if max_batch is None:
        ranks = [H.shape[0] for _, H in starts]
        max_batch = default_max_batch(
            X.shape, ranks, numpy_dtype(X).itemsize, sparse=sp.issparse(X)
        )
    rule = batched_rule(specs[0].fit)
    results = []
    for begin in range(0, len(models), max_batch):
        end = begin + max_batch
        results.extend(
            _fit_batch(
                models[begin:end],
                X_internal,
                starts[begin:end],
                penalties[begin:end],
                rescaling,
                rule,
            )
        )
    codes = []
    for model, spec, result in zip(models, specs, results, strict=True):
        model._store_result(result)
        model._store_solver(spec, X)
        model.reconstruction_err_ = reconstruction_error(
            X, result.W, result.H, beta=beta
        )
        codes.append(result.W)
    return codes


def _fit_batch(models, X_internal, starts, penalties, rescaling, rule):
    """One batch of fits at unit scale, with Ctrl-C handling; user-scale results."""
    keep = models[0].on_interrupt == "keep"
    guard = InterruptGuard(defer=keep)
    monitors, fit_options = [], []
    for model in models:
        options = model._solver_options(
            callbacks=[guard.enter_update, guard.leave_update], X=X_internal
        )
        monitor = options.pop("monitor")
        monitor.objective_scale = rescaling.objective_factor
        monitors.append(monitor)
        fit_options.append(options)
    try:
        with guard:
            results = fit_alternating_batched(
                X_internal,
                starts,
                penalties,
                monitors=monitors,
                fit_options=fit_options,
                rule=rule,
            )
        interrupted = False
    except KeyboardInterrupt:
        # as for one fit: only a state at an iteration boundary is kept
        if not keep or not guard.in_update or any(m.W is None for m in monitors):
            raise
        results = [_result_of(monitor) for monitor in monitors]
        interrupted = True
    for result in results:
        _to_user(rescaling, result)
        _check_finite_factors(result)
        result.info.setdefault("interrupted", False)
        result.info["resumed_from"] = None
    if interrupted:
        warnings.warn(
            f"The fits were interrupted (KeyboardInterrupt); the {len(models)} "
            "fits that ran together keep the factors of their last iteration "
            "(their n_iter_ and histories stop there), the next ones run. Pass "
            "on_interrupt='raise' to let the interrupt propagate instead.",
            FitInterruptedWarning,
            stacklevel=5,
        )
    return results


def _result_of(monitor):
    """The result of a fit stopped by an interrupt: its monitor's last iterate."""
    return solvers.SolverResult(
        W=np.array(monitor.W, order="C"),
        H=np.array(monitor.H, order="C"),
        n_iter=monitor.n_iter,
        history=monitor.history(),
        converged=monitor.converged,
        info={"interrupted": not monitor.stopping},
    )
