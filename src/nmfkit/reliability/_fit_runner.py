"""Run a solver for an estimator's ``fit``, surviving interruptions.

:func:`fit_with_recovery` wraps the solver call of any nmfkit estimator:

- resume: when the estimator's ``checkpoint`` file exists (and matches the
  data and parameters), start from its factors and history instead of a
  fresh initialization;
- checkpoint: write the state every ``checkpoint_every`` seconds through a
  monitor callback, and remove the file when the fit finishes;
- interruption: with ``on_interrupt="keep"``, Ctrl-C stops the fit at the
  end of the current iteration (:class:`~nmfkit._interrupt.InterruptGuard`)
  and the estimator keeps the factors of that iteration, with a
  :class:`FitInterruptedWarning`; ``"raise"`` lets the interrupt propagate;
- unit scale: the problem is solved on ``X / s`` with rescaled penalties
  and factors (:mod:`nmfkit._scaling`), and the result is mapped back, so
  that data at any scale gets the same fit up to the scale;
- a last check that the factors are finite.

It is generic over solvers: it relies only on the solver contract (the
:class:`~nmfkit.solvers.ConvergenceMonitor`, which keeps the latest factors).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._array_api import get_namespace
from .._objective import beta_to_float
from .._scaling import Rescaling
from ..solvers import SolverResult
from ._checkpoint import Checkpoint
from ._interrupt import InterruptGuard

__all__ = ["FitInterruptedWarning", "fit_with_recovery"]


class FitInterruptedWarning(UserWarning):
    """A fit was interrupted (Ctrl-C) and kept the factors reached so far.

    See Also
    --------
    NMF : Its ``on_interrupt`` parameter.
    CheckpointWarning : A checkpoint that could not be written.

    Examples
    --------
    A UserWarning; a script that must not go on with an interrupted fit
    turns it into an error (or sets ``on_interrupt="raise"``):

    >>> import warnings
    >>> from nmfkit import FitInterruptedWarning
    >>> issubclass(FitInterruptedWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", FitInterruptedWarning)
    ...     try:
    ...         warnings.warn("interrupted at iteration 3", FitInterruptedWarning)
    ...     except FitInterruptedWarning as caught:
    ...         print(caught)
    interrupted at iteration 3
    """


def fit_with_recovery(
    estimator,
    X,
    solver_fn,
    initial_factors,
    penalties,
    *,
    masked=False,
    rescale=True,
):
    """Fit ``X`` with ``solver_fn`` for ``estimator``; see the module docstring.

    Parameters
    ----------
    estimator : BaseEstimator
        Provides ``checkpoint``, ``checkpoint_every``, ``on_interrupt``,
        ``max_iter`` and ``_solver_options(callbacks=..., history=...)``.
    X : ndarray or sparse matrix
        Validated data.
    solver_fn : callable
        A solver with the contract of :func:`nmfkit.solvers.fit_mu`.
    initial_factors : callable
        ``initial_factors(X_internal, rescaling) -> (W0, H0)``: the initial
        factors of the internal (unit-scale) problem, from the rescaled data
        (custom factors go through ``rescaling.to_internal``); not called
        when resuming.
    penalties : Penalties
    masked : bool, default=False
        Whether X is partially observed (selects the solver options).
    rescale : bool, default=True
        Solve at unit scale; False only where the rescaled problem would not
        be equivalent (offset components with penalties).

    Returns
    -------
    result : SolverResult
        ``result.info`` has ``"interrupted"`` (bool) and ``"resumed_from"``
        (the iteration the fit resumed from, or None).
    """
    beta = beta_to_float(estimator.beta_loss)
    rescaling = Rescaling.for_fit(X, beta) if rescale else Rescaling(beta=beta)
    objective_factor = rescaling.objective_factor
    X = rescaling.scale_data(X)
    penalties = rescaling.penalties(penalties)
    checkpoint = None
    state = None
    if estimator.checkpoint is not None:
        checkpoint = Checkpoint(
            estimator.checkpoint, estimator.checkpoint_every, estimator, X
        )
        state = checkpoint.load()
    if state is None:
        W0, H0 = initial_factors(X, rescaling)
        history = None
        resumed_from = None
    else:
        W0, H0, history = state
        resumed_from = int(history[-1, 0])
        if resumed_from > estimator.max_iter:
            raise ValueError(
                f"the checkpoint {checkpoint.path} is at iteration {resumed_from}, "
                f"beyond max_iter={estimator.max_iter}; raise max_iter to resume, "
                "or delete the checkpoint to start afresh."
            )
        if resumed_from == estimator.max_iter:
            checkpoint.remove()
            return _to_user(rescaling, SolverResult(
                W=W0,
                H=H0,
                n_iter=resumed_from,
                history=history,
                converged=False,
                info={"interrupted": False, "resumed_from": resumed_from},
            ))

    keep = estimator.on_interrupt == "keep"
    guard = InterruptGuard(defer=keep)
    callbacks = [guard.enter_update]
    if checkpoint is not None:
        callbacks.append(checkpoint.callback)
    callbacks.append(guard.leave_update)
    options = estimator._solver_options(
        callbacks=callbacks, history=history, masked=masked, X=X
    )
    monitor = options["monitor"]
    monitor.objective_scale = objective_factor
    try:
        with guard:
            result = solver_fn(X, W0, H0, penalties, update_H=True, **options)
    except KeyboardInterrupt:
        # Only a state at an iteration boundary is consistent: factors,
        # history and n_iter describe the same iterate. Anywhere else (a
        # second Ctrl-C, a foreign SIGINT handler) the factors may be half
        # updated, so the interrupt propagates.
        if not keep or monitor.W is None or not guard.in_update:
            raise
        result = SolverResult(
            W=np.array(monitor.W, order="C"),
            H=np.array(monitor.H, order="C"),
            n_iter=monitor.n_iter,
            history=monitor.history(),
            converged=monitor.converged,
            info={"interrupted": True},
        )
        result = _to_user(rescaling, result)
        _check_finite_factors(result)
        where = ""
        if checkpoint is not None:
            checkpoint.write(monitor)
            where = (
                f" The state is saved in {checkpoint.path}; fit again with the "
                "same data and parameters to resume."
            )
        warnings.warn(
            f"The fit was interrupted (KeyboardInterrupt) after iteration "
            f"{result.n_iter}; the estimator keeps the factors of that iteration "
            f"(objective {result.history[-1, 2]:.6g}), and n_iter_ and the "
            f"history stop there.{where} Pass on_interrupt='raise' to let the "
            "interrupt propagate instead.",
            FitInterruptedWarning,
            stacklevel=4,
        )
        result.info["resumed_from"] = resumed_from
        return result
    result = _to_user(rescaling, result)
    _check_finite_factors(result)
    if checkpoint is not None:
        checkpoint.remove()
    result.info.setdefault("interrupted", False)
    result.info["resumed_from"] = resumed_from
    return result


def _to_user(rescaling, result):
    """The result with its factors at the user's scale (the history already is)."""
    result.W, result.H = rescaling.to_user(result.W, result.H)
    return result


def _check_finite_factors(result):
    for name, factor in (("W", result.W), ("H", result.H)):
        xp = get_namespace(factor)  # a tensor stays on its device
        if not bool(xp.all(xp.isfinite(factor))):
            raise ValueError(
                f"the fit produced non-finite values in {name} (an overflow in "
                f"{factor.dtype} arithmetic); rescale X (for example X / X.max()) "
                "or convert it to float64."
            )
    if not np.isfinite(result.history[:, 2]).all():
        raise ValueError(
            "the objective overflowed during the fit; rescale X (for example "
            "X / X.max()) or convert it to float64."
        )
