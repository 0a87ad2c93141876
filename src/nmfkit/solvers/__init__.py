"""Solvers: pure functions over validated arrays, one module per family.

Every solver has the signature of :func:`fit_mu`: data, initial factors
(not modified), :class:`~nmfkit._objective.Penalties`, then the keywords
``monitor`` (a :class:`ConvergenceMonitor`: stopping rule, history,
callbacks), ``update_H`` and its own options. It calls ``monitor.start`` with
the initial objective and ``monitor.update`` after every iteration, and
returns a :class:`SolverResult`. Solvers never validate user input.
"""

from functools import partial

import numpy as np

from ._alternating import fit_hals, fit_mu_accelerated
from ._auto import fit_auto
from ._masked_hals import fit_masked_hals
from ._masked_mu import fit_masked_mu
from ._monitor import ConvergenceMonitor, SolverResult
from ._mu import fit_mu
from ._mu_beta import fit_mu_beta

__all__ = [
    "ConvergenceMonitor",
    "SolverResult",
    "fit_masked_hals",
    "fit_masked_mu",
    "fit_mu",
    "available",
    "get_masked_solver",
    "get_solver",
    "supports_beta",
]

# (solver name, beta loss) -> solver function. Later solvers register here.
_REGISTRY = {
    ("mu", 2.0): fit_mu_accelerated,
    ("cd", 2.0): fit_hals,
    ("hals", 2.0): fit_hals,
    ("auto", 2.0): fit_auto,
}

# solver name -> solver function taking ``beta=``, used for every beta that
# has no entry in _REGISTRY.
_ANY_BETA = {
    "mu": fit_mu_beta,
}


def available():
    """List the available ``(solver, beta_loss)`` combinations.

    A beta of ``None`` means every real beta.
    """
    combos = set(_REGISTRY) | {(name, None) for name in _ANY_BETA}
    return sorted(combos, key=lambda c: (c[0], -np.inf if c[1] is None else c[1]))


def supports_beta(solver, beta):
    """Whether ``solver`` handles the numeric ``beta`` (for ``solver="auto"``)."""
    return (solver, float(beta)) in _REGISTRY or solver in _ANY_BETA


def get_solver(solver, beta):
    """Return the solver function for ``solver`` and the numeric ``beta``.

    Raises
    ------
    ValueError
        When the combination is not implemented; the message lists those that
        are.
    """
    if solver == "auto" and ("auto", float(beta)) not in _REGISTRY:
        solver = "mu"  # losses without a faster solver use the multiplicative updates
    try:
        return _REGISTRY[(solver, float(beta))]
    except (KeyError, TypeError, ValueError):
        pass
    if solver in _ANY_BETA:
        return partial(_ANY_BETA[solver], beta=float(beta))
    else:
        combos = ", ".join(
            f"solver={s!r} with "
            + ("any beta_loss" if b is None else f"beta_loss={b:g}")
            for s, b in available()
        )
        raise ValueError(
            f"solver={solver!r} with beta_loss={beta!r} is not available; "
            f"available: {combos}."
        ) from None


# Solvers for partially observed data: the same contract, with an
# ObservedEntries in place of X (see nmfkit._observed).
_MASKED_REGISTRY = {
    ("mu", 2.0): fit_masked_mu,
    ("hals", 2.0): fit_masked_hals,
}


def get_masked_solver(solver, beta):
    """Return the solver for partially observed data (``missing_values``, masks).

    Raises
    ------
    ValueError
        When the combination has no masked version; the message lists those
        that do.
    """
    try:
        return _MASKED_REGISTRY[(solver, float(beta))]
    except KeyError:
        combos = ", ".join(
            f"solver={s!r} with beta_loss={b:g}" for s, b in sorted(_MASKED_REGISTRY)
        )
        raise ValueError(
            f"solver={solver!r} with beta_loss={beta!r} has no version for "
            f"partially observed data; available: {combos}."
        ) from None
