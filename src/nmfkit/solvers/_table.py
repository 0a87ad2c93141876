"""The solver table: every solver nmfkit runs, declared once, and its resolver.

Each row (:class:`SolverSpec`) names one implementation: the solver's name and
aliases, the losses (beta values) it handles, the kinds of data it runs on,
the function that runs it and the options it uses with their defaults.
:func:`resolve_solver` turns the estimator's ``solver``, ``beta_loss``, the
kind of data and the user's options into the row that runs and the options
it gets; the estimators, the Dask path, the parameter checks and
:func:`get_solver` all call it, so a solver is known in one place.

Data kinds:

- ``"dense"``: a NumPy array;
- ``"sparse"``: a SciPy sparse matrix whose unstored entries are zeros;
- ``"observed"``: partially observed data (:class:`~nmfkit._observed.ObservedEntries`);
- ``"array_api"``: an array of another array-API library (PyTorch, CuPy);
- ``"dask"``: a Dask array chunked by rows.

Options are the estimator's parameters ``update_order``, ``inner_iter``,
``inner_tol``, ``extrapolate``, ``shuffle`` and ``l1_placement``. An option
left at its neutral value (:data:`NEUTRAL_OPTIONS`) takes the row's default;
an option set to anything else that the row does not use raises a
:class:`UserWarning` naming the option and the solver, and is dropped.

``solver="auto"`` is declared as data too (:data:`AUTO_RULES`): the first rule
whose losses and data kinds match names the solver and the defaults it runs
with.

Adding a solver is one module plus one :func:`register_solver` call (or one
row in :func:`_load_builtin`); see ``docs/adding_a_solver.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

__all__ = [
    "AUTO_RULES",
    "DATA_KINDS",
    "NEUTRAL_OPTIONS",
    "SolverSpec",
    "available",
    "get_solver",
    "register_solver",
    "resolve_solver",
    "solver_specs",
    "unregister_solver",
]

#: The kinds of data a solver can run on (see the module docstring).
DATA_KINDS = ("dense", "sparse", "observed", "array_api", "dask")
_IN_MEMORY = frozenset({"dense", "sparse"})

#: The estimator's value of each option meaning "not set by the user".
NEUTRAL_OPTIONS: Mapping[str, Any] = {
    "update_order": "HW",
    "inner_iter": None,
    "inner_tol": 0.1,
    "extrapolate": None,
    "shuffle": False,
    "l1_placement": "numerator",
}
#: Values that switch an option off: a solver without the option runs as if
#: given them, so setting them explicitly never warns.
_OFF_VALUES: Mapping[str, tuple] = {
    "inner_iter": (1,),
    "extrapolate": (False,),
    "shuffle": (False,),
}
#: Passed to the solvers that list them, never warned about (they have other
#: uses in the estimator: ``random_state`` also seeds the initialization).
_CONTEXT = frozenset({"random_state"})


@dataclass(frozen=True)
class SolverSpec:
    """One row of the solver table.

    Attributes
    ----------
    name : str
        The name ``solver=`` selects, and ``solver_`` reports.
    fit : callable
        The solver: ``fit(X, W, H, penalties, *, monitor, update_H, **options)``
        returning a :class:`~nmfkit.solvers.SolverResult`.
    losses : frozenset of float or None
        The betas it handles; None means every real beta (then ``fit`` gets
        ``beta=`` as well).
    kinds : frozenset of str
        The data kinds it runs on (:data:`DATA_KINDS`).
    options : mapping
        The options it uses and their defaults.
    aliases : tuple of str
        Other names selecting it (``"cd"`` is ``"hals"``).

    See Also
    --------
    register_solver : Add a row to the table.
    resolve_solver : The row that runs for a solver, loss and data kind.

    Examples
    --------
    >>> from nmfkit.solvers import SolverSpec, fit_mu
    >>> spec = SolverSpec("my_mu", fit_mu, frozenset({2.0}), frozenset({"dense"}))
    >>> spec.name, spec.handles(2.0, "dense"), spec.handles(2.0, "sparse")
    ('my_mu', True, False)
    """

    name: str
    fit: Callable
    losses: frozenset | None
    kinds: frozenset
    options: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple = ()

    def handles(self, beta: float, kind: str) -> bool:
        """Whether this row runs loss ``beta`` on data of kind ``kind``.

        Parameters
        ----------
        beta : float
            The numeric beta of the loss (2 is Frobenius).
        kind : str
            One of :data:`DATA_KINDS`.

        Returns
        -------
        handles : bool

        See Also
        --------
        resolve_solver : Picks the first row that handles a request.

        Examples
        --------
        >>> from nmfkit.solvers import resolve_solver
        >>> spec, _ = resolve_solver("hals", 2.0)
        >>> spec.handles(2.0, "sparse"), spec.handles(1.0, "dense")
        (True, False)
        """
        return kind in self.kinds and (self.losses is None or beta in self.losses)

    def solver(self, beta: float) -> Callable:
        """The function to call for ``beta`` (``beta=`` bound for any-beta rows).

        Parameters
        ----------
        beta : float
            The numeric beta of the loss.

        Returns
        -------
        fit : callable
            ``fit``, or ``functools.partial(fit, beta=beta)`` for a row that
            handles every beta (``losses=None``).

        See Also
        --------
        get_solver : The same with the row's default options bound.

        Examples
        --------
        >>> from nmfkit.solvers import resolve_solver
        >>> spec, _ = resolve_solver("mu", 1.0)  # Kullback-Leibler
        >>> spec.solver(1.0).keywords
        {'beta': 1.0}
        """
        if self.losses is None:
            return partial(self.fit, beta=float(beta))
        return self.fit


#: ``solver="auto"``: (losses or None, data kinds, solver name, defaults). The
#: first matching rule wins. For the Frobenius loss in memory ``auto`` is HALS
#: with Gillis and Glineur's inner loops and Ang and Gillis's extrapolation: in
#: ``benchmarks/bench_solvers.py`` it reached the target first, or tied, on
#: Olivetti faces, the synthetic matrix and 20 Newsgroups at rank 10 (at rank
#: 50 on 20 Newsgroups HALS with extrapolation alone did better: the
#: solvers settle on different stationary points, and two initializations
#: cannot separate the configurations). Arrays of other array-API libraries
#: (PyTorch, CuPy) run the same HALS: the driver's inner loops and
#: extrapolation are written with array-API operations. Options the user sets
#: are kept. Partially observed and Dask data run plain HALS; every other
#: loss the multiplicative updates.
AUTO_RULES: tuple = (
    (
        frozenset({2.0}),
        _IN_MEMORY | {"array_api"},
        "hals",
        {"inner_iter": "auto", "extrapolate": True},
    ),
    (frozenset({2.0}), frozenset({"observed", "dask"}), "hals", {}),
    (None, frozenset(DATA_KINDS), "mu", {}),
)

_TABLE: list[SolverSpec] = []
#: How messages name each data kind.
_WHERE = {
    "dense": "",
    "sparse": " on sparse X",
    "observed": " for partially observed data",
    "array_api": " on arrays of other array-API libraries",
    "dask": " on Dask arrays",
}


def register_solver(spec: SolverSpec) -> SolverSpec:
    """Add a row to the solver table (a new solver, or a new data kind of one).

    Parameters
    ----------
    spec : SolverSpec

    Returns
    -------
    spec : SolverSpec

    Raises
    ------
    ValueError
        When a row with the same name already covers one of its losses on one
        of its data kinds, or a data kind is unknown. A row for every beta
        (``losses=None``) may share its name with rows for given betas; the
        row registered first wins where both apply.

    See Also
    --------
    unregister_solver : Remove it again.
    SolverSpec : What a row holds.

    Examples
    --------
    A copy of the multiplicative updates under a new name, used by the
    estimator, then removed:

    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> from nmfkit.solvers import SolverSpec, fit_mu, register_solver
    >>> from nmfkit.solvers import unregister_solver
    >>> _ = register_solver(
    ...     SolverSpec("my_mu", fit_mu, frozenset({2.0}), frozenset({"dense"}))
    ... )
    >>> X = np.random.default_rng(0).random((6, 4))
    >>> NMF(2, solver="my_mu", max_iter=20, tol=0).fit(X).solver_
    'my_mu'
    >>> unregister_solver("my_mu")
    """
    _load_builtin()
    unknown = set(spec.kinds) - set(DATA_KINDS)
    if unknown:
        raise ValueError(
            f"unknown data kinds {sorted(unknown)} for solver {spec.name!r}; "
            f"choose among {DATA_KINDS}."
        )
    for row in _TABLE:
        same_name = row.name == spec.name or spec.name in row.aliases
        # a row for every beta may share its name with rows for given
        # betas: those, registered first, take precedence
        overlap_losses = row.losses is spec.losses is None or (
            row.losses is not None
            and spec.losses is not None
            and bool(row.losses & spec.losses)
        )
        if same_name and overlap_losses and row.kinds & spec.kinds:
            raise ValueError(
                f"solver {spec.name!r} is already registered for "
                f"{sorted(row.kinds & spec.kinds)}; unregister it first."
            )
    _TABLE.append(spec)
    return spec


def unregister_solver(name: str) -> None:
    """Remove every row named ``name`` from the solver table.

    Parameters
    ----------
    name : str
        The solver's name; nothing happens when no row has it.

    See Also
    --------
    register_solver : Add a row.

    Examples
    --------
    >>> from nmfkit.solvers import SolverSpec, fit_mu, register_solver
    >>> from nmfkit.solvers import solver_specs, unregister_solver
    >>> _ = register_solver(
    ...     SolverSpec("my_mu", fit_mu, frozenset({2.0}), frozenset({"dense"}))
    ... )
    >>> unregister_solver("my_mu")
    >>> "my_mu" in {spec.name for spec in solver_specs()}
    False
    """
    _load_builtin()
    _TABLE[:] = [row for row in _TABLE if row.name != name]


def solver_specs() -> tuple:
    """The rows of the solver table, in registration order.

    Returns
    -------
    specs : tuple of SolverSpec

    See Also
    --------
    available : The (solver, loss) combinations, for messages and docs.

    Examples
    --------
    >>> from nmfkit.solvers import solver_specs
    >>> sorted({spec.name for spec in solver_specs()})
    ['hals', 'mu']
    """
    _load_builtin()
    return tuple(_TABLE)


def _canonical(name):
    for row in _TABLE:
        if name == row.name or name in row.aliases:
            return row.name
    return name


def _describe(rows):
    parts = ["solver='auto'"]
    for row in rows:
        losses = (
            "any beta_loss"
            if row.losses is None
            else "beta_loss=" + "/".join(f"{b:g}" for b in sorted(row.losses))
        )
        parts.append(f"solver={row.name!r} with {losses}")
    return ", ".join(dict.fromkeys(parts))


def resolve_solver(
    solver: str,
    beta: float,
    data_kind: str = "dense",
    *,
    warn: bool = True,
    **options: Any,
) -> tuple[SolverSpec, dict]:
    """The row of the solver table that runs, and the options it gets.

    Parameters
    ----------
    solver : str
        The estimator's ``solver``: a name, an alias or ``"auto"``.
    beta : float
        The numeric beta of the loss (2 is Frobenius).
    data_kind : str
        One of :data:`DATA_KINDS`.
    warn : bool
        Whether to warn about options the solver does not use (False when
        the same options were resolved, and warned about, before).
    **options
        The user's option values (the estimator's parameters); values equal
        to :data:`NEUTRAL_OPTIONS` count as unset.

    Returns
    -------
    spec : SolverSpec
        What runs (``spec.name`` is never ``"auto"``).
    options : dict
        The options ``spec.fit`` gets: the row's defaults, overridden by the
        options the user set.

    Raises
    ------
    ValueError
        When no row runs that solver with that loss on that kind of data; the
        message lists those that do.
    TypeError
        When an option is not one of the solver options
        (:data:`NEUTRAL_OPTIONS`).

    Warns
    -----
    UserWarning
        For each option the user set that the chosen solver does not use.

    See Also
    --------
    get_solver : The function, with the options bound.
    available : What the table holds.

    Examples
    --------
    >>> from nmfkit.solvers import resolve_solver
    >>> spec, options = resolve_solver("auto", 2.0)
    >>> spec.name, options["inner_iter"], options["extrapolate"]
    ('hals', 'auto', True)
    >>> resolve_solver("cd", 2.0, "observed")[0].name
    'hals'
    """
    _load_builtin()
    beta = float(beta)
    if data_kind not in DATA_KINDS:
        raise ValueError(
            f"data_kind={data_kind!r} is unknown; choose among {DATA_KINDS}."
        )
    defaults: dict = {}
    if solver == "auto":
        for losses, kinds, name, auto_defaults in AUTO_RULES:
            if data_kind in kinds and (losses is None or beta in losses):
                solver, defaults = name, dict(auto_defaults)
                break
    name = _canonical(solver)
    spec = next(
        (row for row in _TABLE if row.name == name and row.handles(beta, data_kind)),
        None,
    )
    if spec is None:
        rows = [row for row in _TABLE if data_kind in row.kinds]
        where = _WHERE[data_kind]
        raise ValueError(
            f"solver={solver!r} with beta_loss={beta:g} is not available{where}; "
            f"available: {_describe(rows)} ('cd' is 'hals'; 'auto' picks one)."
        )
    chosen = {
        **spec.options,
        **{k: v for k, v in defaults.items() if k in spec.options},
    }
    for key, value in options.items():
        if key in _CONTEXT:
            if key in spec.options:
                chosen[key] = value
            continue
        if key not in NEUTRAL_OPTIONS:
            raise TypeError(
                f"{key!r} is not a solver option; choose among "
                f"{tuple(NEUTRAL_OPTIONS)}."
            )
        if _is_neutral(key, value):
            continue
        if key in spec.options:
            chosen[key] = bool(value) if key == "extrapolate" else value
        elif warn and not _is_off(key, value):
            where = _WHERE[data_kind]
            uses = sorted(set(spec.options) - _CONTEXT) or "no options"
            warnings.warn(
                f"{key}={value!r} has no effect with solver {spec.name!r}{where} "
                f"(it uses {uses}); leave {key} at {NEUTRAL_OPTIONS[key]!r} or "
                "choose a solver that uses it.",
                UserWarning,
                stacklevel=3,
            )
    return spec, chosen


def _same(a, b):
    """``a == b`` for option values, without ``True == 1`` or ``"1" == 1``."""
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, (bool, np.bool_)) or isinstance(b, bool):
        return isinstance(a, (bool, np.bool_)) == isinstance(b, bool) and bool(
            a
        ) == bool(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _is_neutral(key, value):
    return _same(value, NEUTRAL_OPTIONS[key])


def _is_off(key, value):
    """Whether ``value`` switches the option off (what a solver without it does)."""
    return any(_same(value, off) for off in _OFF_VALUES.get(key, ()))


def data_kind_of(X: Any, *, masked: bool = False) -> str:
    """The data kind of X for :func:`resolve_solver` (X may be unvalidated).

    Parameters
    ----------
    X : array-like, sparse matrix, Dask array or None
        The data.
    masked : bool, default=False
        Whether X is fitted as partially observed data.

    Returns
    -------
    kind : str
        One of :data:`DATA_KINDS`.

    See Also
    --------
    resolve_solver : Takes the kind.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from nmfkit.solvers import data_kind_of
    >>> data_kind_of(np.eye(2)), data_kind_of(sp.csr_matrix(np.eye(2)))
    ('dense', 'sparse')
    >>> data_kind_of(np.eye(2), masked=True)
    'observed'
    """
    import scipy.sparse as sp

    from .._array_api import get_namespace, is_numpy

    if masked:
        return "observed"
    if X is None:
        return "dense"
    if type(X).__module__.startswith("dask.array") and hasattr(X, "chunks"):
        return "dask"
    if sp.issparse(X):
        return "sparse"
    try:
        numpy = is_numpy(get_namespace(X))
    except (TypeError, ValueError):
        numpy = True
    return "dense" if numpy else "array_api"


def get_solver(solver: str, beta: float, data_kind: str = "dense") -> Callable:
    """The function that runs ``solver`` for ``beta`` on ``data_kind``, with
    the row's default options bound (keywords still override them).

    Parameters
    ----------
    solver : str
        A name, an alias or ``"auto"``.
    beta : float
        The numeric beta of the loss (2 is Frobenius).
    data_kind : str, default="dense"
        One of :data:`DATA_KINDS`.

    Returns
    -------
    fit : callable
        Called as ``fit(X, W, H, penalties, monitor=..., update_H=...)``.

    Raises
    ------
    ValueError
        When no row runs that solver with that loss on that kind of data.

    See Also
    --------
    resolve_solver : The row and the options, separately.

    Examples
    --------
    >>> from nmfkit.solvers import get_solver
    >>> fit = get_solver("mu", 1.0)
    >>> fit.func.__name__, fit.keywords["beta"]
    ('fit_mu_beta', 1.0)
    """
    spec, options = resolve_solver(solver, beta, data_kind)
    return partial(spec.solver(beta), **options)


def available(data_kind: str | None = None) -> list:
    """The ``(solver, beta_loss)`` combinations of the table (None: any beta).

    Parameters
    ----------
    data_kind : str or None
        Only the rows running on that kind; None: every row.

    Returns
    -------
    combinations : list of tuple
        Sorted ``(solver, beta)`` pairs, ``beta`` None for every beta.

    See Also
    --------
    solver_specs : The rows themselves.

    Examples
    --------
    >>> from nmfkit.solvers import available
    >>> available("dask")
    [('auto', None), ('cd', 2.0), ('hals', 2.0), ('mu', 1.0), ('mu', 2.0)]
    """
    _load_builtin()
    combos = set()
    for row in _TABLE:
        if data_kind is None or data_kind in row.kinds:
            for alias in (row.name, *row.aliases):
                if row.losses is None:
                    combos.add((alias, None))
                else:
                    combos.update((alias, b) for b in row.losses)
    combos.add(("auto", None))
    return sorted(combos, key=lambda c: (c[0], -np.inf if c[1] is None else c[1]))


_LOADED: list[bool] = []


def _load_builtin():
    """Fill the table with nmfkit's own solvers (once, on first use)."""
    if _LOADED:
        return
    _LOADED.append(True)
    from ..distributed._blocks import BetaMURule, FrobeniusMURule, HALSRule
    from ..distributed._solver import fit_dask
    from ._alternating import fit_hals, fit_mu_accelerated
    from ._masked_hals import fit_masked_hals
    from ._masked_mu import fit_masked_mu
    from ._mu_beta import fit_mu_beta

    alternating = {
        "update_order": "HW",
        "inner_iter": 1,
        "inner_tol": 0.1,
        "extrapolate": False,
    }
    frobenius = frozenset({2.0})
    complete = frozenset({"dense", "sparse", "array_api"})
    order = {"update_order": "HW", "l1_placement": "numerator"}
    # the beta MU evaluates its objective every 10 iterations, as
    # scikit-learn does (a log per entry: more than an update at small ranks)
    beta_mu = {**order, "objective_every": 10}
    rows = [
        SolverSpec(
            "hals",
            fit_hals,
            frobenius,
            complete,
            {**alternating, "shuffle": False, "random_state": None},
            ("cd",),
        ),
        SolverSpec(
            "mu",
            fit_mu_accelerated,
            frobenius,
            complete,
            {**alternating, "l1_placement": "numerator"},
        ),
        SolverSpec("mu", fit_mu_beta, None, _IN_MEMORY, beta_mu),
        SolverSpec(
            "hals",
            fit_masked_hals,
            frobenius,
            frozenset({"observed"}),
            {"update_order": "HW"},
            ("cd",),
        ),
        SolverSpec(
            "mu", fit_masked_mu, frobenius, frozenset({"observed"}), dict(order)
        ),
        SolverSpec(
            "hals",
            partial(fit_dask, rule=HALSRule),
            frobenius,
            frozenset({"dask"}),
            {"update_order": "HW"},
            ("cd",),
        ),
        SolverSpec(
            "mu",
            partial(fit_dask, rule=FrobeniusMURule),
            frobenius,
            frozenset({"dask"}),
            dict(order),
        ),
        SolverSpec(
            "mu",
            partial(fit_dask, rule=partial(BetaMURule, beta=1.0)),
            frozenset({1.0}),
            frozenset({"dask"}),
            beta_mu,
        ),
    ]
    for row in rows:
        register_solver(row)
