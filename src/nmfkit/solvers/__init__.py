"""Solvers: pure functions over validated arrays, one module per family.

Every solver has the signature of :func:`fit_hals`: data, initial factors
(not modified), :class:`~nmfkit._objective.Penalties`, then the keywords
``monitor`` (a :class:`ConvergenceMonitor`: stopping rule, history,
callbacks), ``update_H`` and its own options. It calls ``monitor.start`` with
the initial objective and ``monitor.update`` after every iteration, and
returns a :class:`SolverResult`. Solvers never validate user input.

Which solver runs, on which data and with which options, is declared once in
the solver table (:mod:`nmfkit.solvers._table`): :func:`resolve_solver`
answers for the estimators, the Dask path and the command line, and
:func:`register_solver` adds a solver (see ``docs/adding_a_solver.md``).
"""

from ._alternating import (
    FactorRule,
    fit_alternating,
    fit_hals,
    fit_mu,
    fit_mu_accelerated,
)
from ._batched import fit_alternating_batched
from ._masked_hals import fit_masked_hals
from ._masked_mu import fit_masked_mu
from ._monitor import ConvergenceMonitor, SolverResult
from ._mu_beta import fit_mu_beta
from ._table import (
    AUTO_RULES,
    DATA_KINDS,
    NEUTRAL_OPTIONS,
    SolverSpec,
    available,
    data_kind_of,
    get_solver,
    register_solver,
    resolve_solver,
    solver_specs,
    unregister_solver,
)

__all__ = [
    "AUTO_RULES",
    "DATA_KINDS",
    "NEUTRAL_OPTIONS",
    "ConvergenceMonitor",
    "FactorRule",
    "SolverResult",
    "SolverSpec",
    "available",
    "data_kind_of",
    "fit_alternating",
    "fit_alternating_batched",
    "fit_hals",
    "fit_masked_hals",
    "fit_masked_mu",
    "fit_mu",
    "fit_mu_accelerated",
    "fit_mu_beta",
    "get_solver",
    "register_solver",
    "resolve_solver",
    "solver_specs",
    "unregister_solver",
]
