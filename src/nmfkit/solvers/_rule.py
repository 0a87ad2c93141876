"""The factor-rule protocol of the alternating driver.

A rule knows how to update one factor, held component-major (``F`` is
``r x m``: row ``k`` is component ``k``), from the other factor's data
product ``P`` (``r x m``: ``H X^T`` for ``W^T``, ``W^T X`` for ``H``) and
Gram matrix ``G`` (``r x r``). Everything else (the products, inner loops,
extrapolation with restarts, update order, the monitor) lives once in
:func:`~nmfkit.solvers._alternating.fit_alternating`.

A rule provides:

- ``inner_alpha``: Gillis and Glineur's weight of the inner-loop budget (how
  cheap one update is compared with the products);
- ``prepare(P, G, l1, l2, xp)``: what every update of one factor update
  shares (computed once per factor update);
- ``update(F, P, G, prepared, l1, l2, xp, need_change)``: one update of
  ``F`` in place that never increases the objective; returns
  ``||F_new - F_old||_F^2`` when ``need_change`` (for the inner-loop stopping
  rule), anything otherwise;
- ``project(Y, new)``: the feasible point an extrapolated ``Y`` is projected
  to (in place), ``new`` being the plain iterate;
- ``array_api``: whether ``update`` runs on arrays of other array-API
  libraries (PyTorch, CuPy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._array_api import clip_at_zero, get_namespace

__all__ = ["FactorRule"]


class FactorRule:
    """Base class of the update rules of :func:`fit_alternating`.

    Subclasses implement :meth:`update`; the other methods have defaults
    (nothing shared, projection onto the non-negative orthant).

    See Also
    --------
    fit_alternating : The driver that calls the rule.
    register_solver : Make a solver built on a rule available by name.

    Examples
    --------
    The multiplicative update as a rule; driven by :func:`fit_alternating`,
    it gives the iterates of the built-in :func:`fit_mu`:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.solvers import ConvergenceMonitor, FactorRule, fit_alternating
    >>> from nmfkit.solvers import fit_mu
    >>> class MURule(FactorRule):
    ...     def update(self, F, P, G, prepared, l1, l2, xp, need_change):
    ...         old = F.copy()
    ...         F *= np.maximum(P - l1, 0) / (G @ F + l2 * F + 1e-16)
    ...         return float(((F - old) ** 2).sum())
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((8, 2)) @ rng.random((2, 6))
    >>> W0, H0 = rng.random((8, 2)), rng.random((2, 6))
    >>> ours = fit_alternating(
    ...     X, W0, H0, Penalties(), monitor=ConvergenceMonitor(tol=0, max_iter=50),
    ...     rule=MURule(),
    ... )
    >>> builtin = fit_mu(
    ...     X, W0, H0, Penalties(), monitor=ConvergenceMonitor(tol=0, max_iter=50)
    ... )
    >>> bool(np.allclose(ours.W, builtin.W) and np.allclose(ours.H, builtin.H))
    True
    """

    #: Gillis and Glineur's weight of the inner-loop budget.
    inner_alpha: float = 1.0
    #: Whether :meth:`update` runs on tensors of other array-API libraries.
    array_api: bool = False
    #: Whether one update of a factor updates each of its columns (a row of
    #: W) from that column of ``P`` and ``G`` alone, the same way whatever
    #: block of columns it is given: then the driver may update W block by
    #: block inside one pass over X (:mod:`~nmfkit.solvers._fused`).
    rows_independent: bool = False

    def prepare(self, P: Any, G: Any, l1: float, l2: float, xp: Any) -> Any:
        """What all updates of one factor update share (default: nothing).

        Parameters
        ----------
        P : array of shape (r, m)
            The data product of the other factor (``H X^T`` or ``W^T X``).
        G : array of shape (r, r)
            The Gram matrix of the other factor.
        l1, l2 : float
            The L1 and L2 penalty weights of the factor.
        xp : module
            The array namespace of the arrays (NumPy, or another array-API
            library).

        Returns
        -------
        prepared : object
            Passed to every :meth:`update` of this factor update (None here).

        See Also
        --------
        update : Uses what this returns.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import FactorRule
        >>> print(FactorRule().prepare(np.ones((2, 3)), np.eye(2), 0.0, 0.0, np))
        None
        """
        return None

    def update(
        self,
        F: Any,
        P: Any,
        G: Any,
        prepared: Any,
        l1: float,
        l2: float,
        xp: Any,
        need_change: bool,
    ) -> float:
        """One update of the component-major factor ``F``, in place.

        It must never increase the objective.

        Parameters
        ----------
        F : array of shape (r, m)
            The factor (``W^T`` or ``H``), updated in place.
        P : array of shape (r, m)
            The data product of the other factor.
        G : array of shape (r, r)
            The Gram matrix of the other factor.
        prepared : object
            What :meth:`prepare` returned.
        l1, l2 : float
            The L1 and L2 penalty weights of the factor.
        xp : module
            The array namespace of the arrays.
        need_change : bool
            Whether the caller needs the size of the change.

        Returns
        -------
        change : float
            ``||F_new - F_old||_F^2`` when ``need_change`` (the inner loop's
            stopping rule), anything otherwise.

        Raises
        ------
        NotImplementedError
            In the base class: subclasses implement it.

        See Also
        --------
        prepare : What all updates of one factor update share.

        Examples
        --------
        See the class's example for a subclass; the base class has no rule:

        >>> import numpy as np
        >>> from nmfkit.solvers import FactorRule
        >>> F = np.ones((2, 3))
        >>> try:
        ...     FactorRule().update(F, F, np.eye(2), None, 0.0, 0.0, np, False)
        ... except NotImplementedError:
        ...     print("subclasses implement update")
        subclasses implement update
        """
        raise NotImplementedError

    def project(self, Y: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Project the extrapolated ``Y`` onto the feasible set, in place.

        Parameters
        ----------
        Y : ndarray
            The extrapolated factor, projected in place.
        new : ndarray
            The plain iterate it was extrapolated from (unused here: the
            default projects onto the non-negative orthant).

        Returns
        -------
        Y : ndarray
            The projected ``Y`` (the same array).

        See Also
        --------
        update : The plain update that gives ``new``.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import FactorRule
        >>> FactorRule().project(np.array([[-1.0, 2.0]]), None)
        array([[0., 2.]])
        """
        return clip_at_zero(get_namespace(Y), Y)
