"""Solvers: pure functions over validated arrays, one module per family.

Every solver has the signature of :func:`fit_mu`: data, initial factors
(not modified), :class:`~nmfkit._objective.Penalties`, then the keywords
``monitor`` (a :class:`ConvergenceMonitor`: stopping rule, history,
callbacks), ``update_H`` and its own options. It calls ``monitor.start`` with
the initial objective and ``monitor.update`` after every iteration, and
returns a :class:`SolverResult`. Solvers never validate user input.
"""

from ._alternating import fit_hals, fit_mu_accelerated
from ._auto import fit_auto
from ._monitor import ConvergenceMonitor, SolverResult

__all__ = ["ConvergenceMonitor", "SolverResult", "available", "get_solver"]

# (solver name, beta loss) -> solver function. Later solvers register here.
_REGISTRY = {
    ("mu", 2.0): fit_mu_accelerated,
    ("cd", 2.0): fit_hals,
    ("hals", 2.0): fit_hals,
    ("auto", 2.0): fit_auto,
}


def available():
    """List the available ``(solver, beta_loss)`` combinations."""
    return sorted(_REGISTRY)


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
    except KeyError:
        combos = ", ".join(f"solver={s!r} with beta_loss={b:g}" for s, b in available())
        raise ValueError(
            f"solver={solver!r} with beta_loss={beta!r} is not available; "
            f"available: {combos}."
        ) from None
