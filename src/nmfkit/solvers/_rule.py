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

__all__ = ["FactorRule"]


class FactorRule:
    """Base class of the update rules of :func:`fit_alternating`.

    Subclasses implement :meth:`update`; the other methods have defaults
    (nothing shared, projection onto the non-negative orthant).
    """

    #: Gillis and Glineur's weight of the inner-loop budget.
    inner_alpha: float = 1.0
    #: Whether :meth:`update` runs on tensors of other array-API libraries.
    array_api: bool = False

    def prepare(self, P: Any, G: Any, l1: float, l2: float, xp: Any) -> Any:
        """What all updates of one factor update share (default: nothing)."""
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
        """One update of the component-major factor ``F``, in place."""
        raise NotImplementedError

    def project(self, Y: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Project the extrapolated ``Y`` onto the feasible set, in place."""
        return np.maximum(Y, 0, out=Y)
