"""What one row block computes, on a worker: pure NumPy functions.

A distributed fit holds X and W split into the same blocks of rows; every
function here sees one block, ``X_b`` (rows of X) and ``W_b`` (the same rows
of W), plus the small broadcast factor ``Ht`` (H transposed). The math comes
from :mod:`nmfkit.solvers` and :mod:`nmfkit._objective`; nothing here
re-derives an update.

A *row rule* is the plug-in that a solver family provides:
:class:`FrobeniusMURule` (multiplicative updates, Frobenius loss),
:class:`HALSRule` (HALS, i.e. scikit-learn's coordinate descent) and
:class:`BetaMURule` (multiplicative updates for a beta-divergence, KL
included). It has

- ``block_step(X_b, W_b, Ht, HHt, update, obj_at)``: the new rows of W
  (row-local, since W's update only couples a row of W with the same row of
  X) and a dict of arrays whose sums over blocks the driver needs (for the
  Frobenius rules ``W^T X``, ``W^T W`` and ``sum(W)``; for the
  beta-divergences the numerator and denominator of H's update and the
  divergence's parts);
- ``data_summaries(X_b)``: the sums that depend on X only (its squared norm,
  or the divergence's constant), taken once, in the first pass, under the
  keys ``data_keys``;
- ``update_columns(Ht, totals)``: the update of H on the driver from the
  summed summaries;
- ``objective(data, totals, Ht, HHt)``: the objective from the same sums;
- ``objective_from_totals``: whether that objective is the one at the new H
  (the Frobenius rules: ``W^T X`` and ``W^T W`` give it for any H) or needs
  the next pass over X (the beta-divergences, see
  :func:`~nmfkit.distributed._solver.fit_dask`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._objective import (
    Penalties,
    divergence_from_block_parts,
    frobenius_fit_from_products,
    squared_norm,
)
from ..solvers._hals import hals_sweep, prepare_hals
from ..solvers._mu import mu_step
from ..solvers._mu_beta import BetaKernel, _Updater, kl_h_denominator

__all__ = [
    "BetaMURule",
    "FrobeniusMURule",
    "HALSRule",
    "add_summaries",
    "block_step",
    "residual_block",
]


@dataclass(frozen=True)
class FrobeniusMURule:
    """Multiplicative updates for the penalized Frobenius objective, by blocks.

    The row rule of ``solver="mu"`` with the Frobenius loss: the rows of W
    take the Lee-Seung multiplicative update on each block, H takes it on
    the driver from the summed ``W^T X`` and ``W^T W``, and the objective
    ``1/2 ||X - W H||_F^2`` plus the penalties comes from the same sums.

    Parameters
    ----------
    penalties : Penalties
        The penalty weights (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``).
    l1_placement : {"numerator", "denominator"}, default="numerator"
        Where the L1 weight enters the multiplicative update (see
        :func:`nmfkit.solvers._mu.mu_step`).

    See Also
    --------
    HALSRule : The same sums, with HALS sweeps for the updates.
    BetaMURule : Multiplicative updates for a beta-divergence.
    nmfkit.distributed.fit_dask : The driver that runs a row rule.
    nmfkit.solvers.fit_mu : The in-memory solver it reproduces.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", NIPS 13, 2001.

    Examples
    --------
    The sums of two blocks of rows give the objective of the whole matrix:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.distributed import FrobeniusMURule
    >>> rng = np.random.default_rng(0)
    >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
    >>> rule = FrobeniusMURule(Penalties())
    >>> Ht, HHt = H.T.copy(), H @ H.T
    >>> blocks = [slice(0, 3), slice(3, 6)]
    >>> sums = [rule.summaries(X[b], W[b]) for b in blocks]
    >>> totals = {key: sums[0][key] + sums[1][key] for key in sums[0]}
    >>> data = {"X_sq_norm": np.array(np.sum(X**2))}
    >>> value = rule.objective(data, totals, Ht, HHt)
    >>> bool(np.isclose(value, 0.5 * np.sum((X - W @ H) ** 2)))
    True
    """

    penalties: Penalties
    l1_placement: str = "numerator"

    def update_rows(self, X_b, W_b, Ht, HHt):
        """New rows of W: ``W_b * max(X_b H^T - l1_W, 0) / (W_b (H H^T + l2_W I))``.

        Row-local: a row of W only meets the same row of X, so the blocks
        are updated independently.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X.
        W_b : ndarray of shape (n_b, n_components)
            The same rows of W; updated in place.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``, broadcast to every block.
        HHt : ndarray of shape (n_components, n_components)
            ``H H^T``.

        Returns
        -------
        W_b : ndarray of shape (n_b, n_components)
            The updated rows (the array passed in).

        See Also
        --------
        update_columns : The update of H on the driver.
        nmfkit.solvers._mu.mu_step : The multiplicative step it applies.

        Examples
        --------
        Without penalties it is Lee and Seung's ``W * (X H^T) / (W H H^T)``:

        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> new = FrobeniusMURule(Penalties()).update_rows(X, W.copy(), H.T, H @ H.T)
        >>> bool(np.allclose(new, W * (X @ H.T) / (W @ H @ H.T)))
        True
        """
        p = self.penalties
        return mu_step(W_b, X_b @ Ht, HHt, p.l1_W, p.l2_W, self.l1_placement)

    @staticmethod
    def summaries(X_b, W_b):
        """Block sums the driver needs: ``W_b^T X_b``, ``W_b^T W_b``, ``sum(W_b)``.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X.
        W_b : ndarray of shape (n_b, n_components)
            The same rows of W.

        Returns
        -------
        summaries : dict of str to ndarray
            ``"WtX"`` (n_components x n_features), ``"WtW"`` (n_components x
            n_components) and ``"sum_W"`` (a 0-d float64 array); summed over
            the blocks they are those of the whole W and X.

        See Also
        --------
        update_columns : Uses the summed ``"WtX"`` and ``"WtW"``.
        objective : The objective from the same sums.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> X, W = np.ones((3, 4)), np.full((3, 2), 0.5)
        >>> sums = FrobeniusMURule.summaries(X, W)
        >>> sums["WtX"].shape, float(sums["WtW"][0, 0]), float(sums["sum_W"])
        ((2, 4), 0.75, 3.0)
        """
        return {
            "WtX": W_b.T @ X_b,
            "WtW": W_b.T @ W_b,
            "sum_W": np.array(np.sum(W_b, dtype=np.float64)),
        }

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place from the summed ``W^T X`` and ``W^T W``.

        The multiplicative update of H, ``H * max(W^T X - l1_H, 0) / ((W^T W
        + l2_H I) H)``, on the driver.

        Parameters
        ----------
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``; updated in place.
        totals : dict of str to ndarray
            The :meth:`summaries` summed over all blocks (``"WtX"`` and
            ``"WtW"`` are read).

        See Also
        --------
        update_rows : The update of W's rows on the blocks.
        summaries : The sums it reads.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> Ht = H.T.copy()
        >>> totals = {"WtX": W.T @ X, "WtW": W.T @ W}
        >>> FrobeniusMURule(Penalties()).update_columns(Ht, totals)
        >>> bool(np.allclose(Ht.T, H * (W.T @ X) / (W.T @ W @ H)))
        True
        """
        p = self.penalties
        mu_step(Ht, totals["WtX"].T, totals["WtW"], p.l1_H, p.l2_H, self.l1_placement)

    objective_from_totals = True
    data_keys = ("X_sq_norm",)

    def block_step(self, X_b, W_b, Ht, HHt, update, obj_at="after"):
        """New rows of W (when ``update``) and their summaries.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X.
        W_b : ndarray of shape (n_b, n_components)
            The same rows of W; updated in place when ``update``.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``.
        HHt : ndarray of shape (n_components, n_components)
            ``H H^T``.
        update : bool
            Whether to update the rows first (False for the sums at the
            start).
        obj_at : {"before", "after"}, default="after"
            Not used: the Frobenius objective comes from the sums at any H.

        Returns
        -------
        W_b : ndarray of shape (n_b, n_components)
            The rows of W (updated when ``update``).
        summaries : dict of str to ndarray
            The :meth:`summaries` of the returned rows.

        See Also
        --------
        update_rows : The update it applies.
        summaries : The sums it returns.
        nmfkit.distributed.fit_dask : Maps it over the blocks.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> rule = FrobeniusMURule(Penalties())
        >>> W_b, sums = rule.block_step(X, W.copy(), H.T, H @ H.T, update=True)
        >>> bool(np.allclose(sums["WtW"], W_b.T @ W_b))
        True
        """
        if update:
            W_b = self.update_rows(X_b, W_b, Ht, HHt)
        return W_b, self.summaries(X_b, W_b)

    @staticmethod
    def data_summaries(X_b):
        """``||X_b||_F^2``, the sum that depends on X only (taken once).

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X.

        Returns
        -------
        summaries : dict of str to ndarray
            ``{"X_sq_norm": ||X_b||_F^2}`` (a 0-d array); the keys are
            ``data_keys``.

        See Also
        --------
        objective : Reads the summed ``"X_sq_norm"``.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> float(FrobeniusMURule.data_summaries(np.full((2, 3), 2.0))["X_sq_norm"])
        24.0
        """
        return {"X_sq_norm": np.array(squared_norm(X_b))}

    def objective(self, data, totals, Ht, HHt):
        """Penalized objective from the sums (no pass over X).

        ``1/2 ||X - W H||_F^2`` plus the penalties of W and H, with
        ``||X - W H||_F^2 = ||X||_F^2 - 2 <H^T, X^T W> + <W^T W, H H^T>``: the
        cross term comes from ``W^T X``, so the value holds for any H, the
        updated one included.

        Parameters
        ----------
        data : dict of str to ndarray
            The :meth:`data_summaries` summed over all blocks.
        totals : dict of str to ndarray
            The :meth:`summaries` summed over all blocks.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``.
        HHt : ndarray of shape (n_components, n_components)
            ``H H^T``.

        Returns
        -------
        value : float
            The penalized objective, finite and non-negative.

        See Also
        --------
        summaries : The sums it reads.
        nmfkit.distributed.reconstruction_error_dask : The residual, formed
            exactly.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import FrobeniusMURule
        >>> X, W, H = np.ones((3, 2)), np.full((3, 1), 0.5), np.ones((1, 2))
        >>> rule = FrobeniusMURule(Penalties())
        >>> data = rule.data_summaries(X)
        >>> rule.objective(data, rule.summaries(X, W), H.T, H @ H.T)  # 1/2 * 6 * 0.25
        0.75
        """
        p = self.penalties
        fit = frobenius_fit_from_products(
            float(data["X_sq_norm"]), Ht, totals["WtX"].T, totals["WtW"], HHt
        )
        return (
            fit
            + p.value_W(None, totals["WtW"], sum_W=totals["sum_W"])
            + p.value_H(Ht.T, HHt)
        )


@dataclass(frozen=True)
class HALSRule(FrobeniusMURule):
    """HALS (exact coordinate descent) for the penalized Frobenius objective.

    One sweep over the components of W's rows on each block, then one sweep
    over the components of H on the driver: the in-memory
    ``fit_hals(..., inner_iter=1, extrapolate=False)`` (``solver="cd"``),
    with the sweeps of :mod:`nmfkit.solvers._hals`. The summaries and the
    objective are the Frobenius ones of :class:`FrobeniusMURule`;
    ``l1_placement`` is not used.

    Parameters
    ----------
    penalties : Penalties
        The penalty weights (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``).
    l1_placement : {"numerator", "denominator"}, default="numerator"
        Not used (kept so that every row rule takes the same arguments).

    See Also
    --------
    FrobeniusMURule : The same sums, with multiplicative updates.
    nmfkit.distributed.fit_dask : The driver that runs a row rule.
    nmfkit.solvers.fit_hals : The in-memory solver it reproduces.

    References
    ----------
    .. [1] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Transactions on
       Fundamentals E92-A(3), 708-721, 2009.

    Examples
    --------
    With one component, one sweep is the exact non-negative least-squares
    solution for the rows of W, ``max(X H^T, 0) / (H H^T)``:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.distributed import HALSRule
    >>> rng = np.random.default_rng(0)
    >>> X, W, H = rng.random((6, 4)), rng.random((6, 1)), rng.random((1, 4))
    >>> new = HALSRule(Penalties()).update_rows(X, W, H.T, H @ H.T)
    >>> bool(np.allclose(new, np.maximum(X @ H.T, 0) / (H @ H.T)))
    True
    """

    def update_rows(self, X_b, W_b, Ht, HHt):
        """New rows of W: one HALS sweep with ``H X_b^T`` and ``H H^T``.

        Each component ``k`` in turn takes ``W[:, k] <- max(0, W[:, k] +
        ((X H^T)[:, k] - l1_W - (W (H H^T + l2_W I))[:, k]) / (H H^T + l2_W
        I)[k, k])``.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X.
        W_b : ndarray of shape (n_b, n_components)
            The same rows of W; not modified.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``, broadcast to every block.
        HHt : ndarray of shape (n_components, n_components)
            ``H H^T``.

        Returns
        -------
        W_b : ndarray of shape (n_b, n_components)
            The new rows (a new C-contiguous array).

        See Also
        --------
        update_columns : The sweep over H on the driver.
        nmfkit.solvers.fit_hals : The in-memory solver with the same sweep.

        Examples
        --------
        Two components, checked against the coordinate formula above:

        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import HALSRule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> new = HALSRule(Penalties()).update_rows(X, W, H.T, H @ H.T)
        >>> P, G, ref = X @ H.T, H @ H.T, W.copy()
        >>> for k in range(2):
        ...     step = (P[:, k] - ref @ G[:, k]) / G[k, k]
        ...     ref[:, k] = np.maximum(0, ref[:, k] + step)
        >>> bool(np.allclose(new, ref))
        True
        """
        p = self.penalties
        Wt_b = np.array(W_b.T, order="C", copy=True)
        Q, G2 = prepare_hals(Ht.T @ X_b.T, HHt, p.l1_W, p.l2_W)
        hals_sweep(Wt_b, Q, G2, l1_positive=p.l1_W > 0, compiled=False)
        return np.ascontiguousarray(Wt_b.T)

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place: one HALS sweep with ``W^T X`` and ``W^T W``.

        Parameters
        ----------
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``; updated in place.
        totals : dict of str to ndarray
            The :meth:`~FrobeniusMURule.summaries` summed over all blocks
            (``"WtX"`` and ``"WtW"`` are read).

        See Also
        --------
        update_rows : The sweep over W's rows on the blocks.

        Examples
        --------
        With one component the sweep is the exact non-negative least-squares
        solution for H, ``max(W^T X, 0) / (W^T W)``:

        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import HALSRule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 1)), rng.random((1, 4))
        >>> Ht = H.T.copy()
        >>> HALSRule(Penalties()).update_columns(Ht, {"WtX": W.T @ X, "WtW": W.T @ W})
        >>> bool(np.allclose(Ht.T, np.maximum(W.T @ X, 0) / (W.T @ W)))
        True
        """
        p = self.penalties
        H = np.array(Ht.T, order="C", copy=True)
        Q, G2 = prepare_hals(totals["WtX"], totals["WtW"], p.l1_H, p.l2_H)
        hals_sweep(H, Q, G2, l1_positive=p.l1_H > 0, compiled=False)
        Ht[...] = H.T


@dataclass(frozen=True)
class BetaMURule:
    """Multiplicative updates for a penalized beta-divergence, by blocks.

    Each block runs the in-memory solver's own pass
    (:meth:`nmfkit.solvers._mu_beta._Updater.accumulate`) over its rows: the
    update of W, the numerator and denominator of H's update (``n_features x
    n_components`` sums) and the divergence's parts; the driver adds them and
    applies the in-memory H update and objective. Dense blocks only.

    Parameters
    ----------
    penalties : Penalties
        The penalty weights (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``).
    l1_placement : {"numerator", "denominator"}, default="numerator"
        Where the L1 weight enters the multiplicative update.
    beta : float, default=1.0
        The divergence (1 is Kullback-Leibler); not 2.
    gamma_rule : {"mm", "scikit-learn"}, default="mm"
        The exponent of the update, as in
        :func:`nmfkit.solvers.fit_mu_beta`.

    See Also
    --------
    FrobeniusMURule : The row rule of the Frobenius loss.
    nmfkit.distributed.fit_dask : The driver that runs a row rule.
    nmfkit.solvers.fit_mu_beta : The in-memory solver it reproduces.

    References
    ----------
    .. [1] C. Fevotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2421-2456, 2011.

    Examples
    --------
    The sums of two blocks of rows give the Kullback-Leibler divergence of
    the whole matrix:

    >>> import numpy as np
    >>> from nmfkit._objective import Penalties
    >>> from nmfkit.distributed import BetaMURule
    >>> rng = np.random.default_rng(0)
    >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
    >>> rule = BetaMURule(Penalties(), beta=1.0)
    >>> Ht = H.T.copy()
    >>> steps = [rule.block_step(X[b], W[b], Ht, None, update=False)
    ...          for b in (slice(0, 3), slice(3, 6))]
    >>> totals = {key: steps[0][1][key] + steps[1][1][key] for key in steps[0][1]}
    >>> value = rule.objective(rule.data_summaries(X), totals, Ht, None)
    >>> WH = W @ H
    >>> bool(np.isclose(value, np.sum(X * np.log(X / WH) - X + WH)))
    True
    """

    penalties: Penalties
    l1_placement: str = "numerator"
    beta: float = 1.0
    gamma_rule: str = "mm"

    objective_from_totals = False
    data_keys = ("constant", "n_entries")

    def _updater(self, kernel=None):
        return _Updater(
            kernel, self.penalties, self.l1_placement, self.gamma_rule, beta=self.beta
        )

    def block_step(self, X_b, W_b, Ht, HHt, update, obj_at="after"):
        """New rows of W and the sums of the in-memory pass over them.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A dense block of rows of X.
        W_b : ndarray of shape (n_b, n_components)
            The same rows of W.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``.
        HHt : ndarray or None
            Not used (the beta-divergences need no ``H H^T``).
        update : bool
            Whether to update the rows (False for the sums at the start).
        obj_at : {"before", "after"}, default="after"
            Whether the divergence's parts are taken at the rows before the
            update or after it.

        Returns
        -------
        W_b : ndarray of shape (n_b, n_components)
            The rows of W (updated when ``update``).
        summaries : dict of str to ndarray
            ``"parts"`` (the divergence's parts), ``"num_H"`` (and
            ``"den_H"`` unless beta is 1: the numerator and denominator of
            H's update), ``"W_col_sum"``, ``"W_obj_col_sum"`` and
            ``"value_W"`` (W's penalty at the rows of ``obj_at``).

        See Also
        --------
        update_columns : The update of H from the summed numerator.
        objective : The divergence from the summed parts.

        Examples
        --------
        For KL the rows take ``W * ((X / (W H)) H^T) / (1 H^T)``:

        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import BetaMURule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> new, sums = BetaMURule(Penalties()).block_step(X, W, H.T, None, update=True)
        >>> bool(np.allclose(new, W * ((X / (W @ H)) @ H.T) / H.sum(axis=1)))
        True
        """
        W_new, parts, num_H, den_H = self._updater(
            BetaKernel(X_b, self.beta)
        ).accumulate(W_b, Ht, update_W=update, h_stats=True, obj_at=obj_at)
        W_obj = W_b if obj_at == "before" else W_new
        # a dense block's divergence is all in the pointwise ``direct`` part
        # of ``parts``: no model part from the column sums
        summaries = {
            "parts": parts,
            "num_H": num_H,
            "W_col_sum": W_new.sum(axis=0, dtype=np.float64),
            "W_obj_col_sum": np.zeros(W_b.shape[1]),
            "value_W": np.array(self.penalties.value_W(W_obj)),
        }
        if den_H is not None:
            summaries["den_H"] = den_H
        return W_new, summaries

    def data_summaries(self, X_b):
        """The divergence's constant on the block, and its number of entries.

        Blocks are dense: their divergence is summed entry by entry (the
        ``direct`` part), so they add nothing here.

        Parameters
        ----------
        X_b : ndarray of shape (n_b, n_features)
            A block of rows of X (not read).

        Returns
        -------
        summaries : dict of str to ndarray
            ``{"constant": 0.0, "n_entries": 0.0}`` (0-d arrays); the keys
            are ``data_keys``.

        See Also
        --------
        objective : Reads the summed values.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import BetaMURule
        >>> sums = BetaMURule(Penalties()).data_summaries(np.ones((2, 3)))
        >>> float(sums["constant"]), float(sums["n_entries"])
        (0.0, 0.0)
        """
        return {"constant": np.array(0.0), "n_entries": np.array(0.0)}

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place: the in-memory MU step of H from the sums.

        Parameters
        ----------
        Ht : ndarray of shape (n_features, n_components)
            ``H^T``; updated in place.
        totals : dict of str to ndarray
            The :meth:`block_step` summaries summed over all blocks
            (``"num_H"``, and ``"den_H"`` or, for KL, ``"W_col_sum"``).

        See Also
        --------
        block_step : The sums it reads.
        nmfkit.solvers.fit_mu_beta : The in-memory update of H.

        Examples
        --------
        For KL, ``H * (W^T (X / (W H))) / (W^T 1)``, with the sums taken at
        the updated rows:

        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import BetaMURule
        >>> rng = np.random.default_rng(0)
        >>> X, W, H = rng.random((6, 4)), rng.random((6, 2)), rng.random((2, 4))
        >>> rule, Ht = BetaMURule(Penalties()), H.T.copy()
        >>> W_new, sums = rule.block_step(X, W, Ht, None, update=True)
        >>> rule.update_columns(Ht, sums)
        >>> ratio = X / (W_new @ H)
        >>> bool(np.allclose(Ht.T, H * (W_new.T @ ratio) / W_new.sum(axis=0)[:, None]))
        True
        """
        den_H = totals.get("den_H")
        if den_H is None:
            den_H = kl_h_denominator(totals["W_col_sum"].astype(Ht.dtype))
        num_H = np.array(totals["num_H"], copy=True)
        Ht[...] = self._updater().update_H(Ht, (num_H, den_H))

    def objective(self, data, totals, Ht, HHt):
        """Penalized divergence at the rows the parts were taken at.

        Parameters
        ----------
        data : dict of str to ndarray
            The :meth:`data_summaries` summed over all blocks.
        totals : dict of str to ndarray
            The :meth:`block_step` summaries summed over all blocks.
        Ht : ndarray of shape (n_features, n_components)
            ``H^T`` (the one the parts were taken with).
        HHt : ndarray or None
            Not used.

        Returns
        -------
        value : float
            ``D_beta(X | W H)`` plus the penalties, finite and non-negative.

        See Also
        --------
        block_step : Takes the parts.
        nmfkit.distributed.fit_dask : Why it needs the next pass over X.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit._objective import Penalties
        >>> from nmfkit.distributed import BetaMURule
        >>> X, W, H = np.full((2, 2), 2.0), np.ones((2, 1)), np.ones((1, 2))
        >>> rule = BetaMURule(Penalties())
        >>> _, sums = rule.block_step(X, W, H.T, None, update=False)
        >>> value = rule.objective(rule.data_summaries(X), sums, H.T, None)
        >>> bool(np.isclose(value, 4 * (2 * np.log(2) - 1)))  # 4 x (2 log 2 - 2 + 1)
        True
        """
        value = divergence_from_block_parts(
            self.beta,
            float(data["constant"]),
            totals["parts"],
            totals["W_obj_col_sum"],
            Ht,
            int(data["n_entries"]),
        )
        return value + float(totals["value_W"]) + self.penalties.value_H(Ht.T)


def block_step(rule, X_b, W_b, Ht, HHt, update, with_data, obj_at="after"):
    """One block's share of an iteration: new rows of W and their summaries.

    Parameters
    ----------
    rule : row rule (for example :class:`FrobeniusMURule`)
    X_b : array of shape (n_b, n_features)
        The block of X (a memory map or any array NumPy can read).
    W_b : ndarray of shape (n_b, n_components)
        The same rows of W; never modified (Dask may hold it for recomputation).
    Ht, HHt : ndarray
        The broadcast ``H^T`` and ``H H^T``.
    update : bool
        Whether to update the rows (False for the summaries of the start).
    with_data : bool
        Whether to add the rule's ``data_summaries`` (the first pass).
    obj_at : {"before", "after"}
        Where a rule that evaluates the objective during the pass does so.

    Returns
    -------
    W_b, summaries : ndarray, dict
    """
    X_b = np.asarray(X_b)
    W_b = np.array(W_b, dtype=X_b.dtype, order="C", copy=True)
    W_b, summaries = rule.block_step(X_b, W_b, Ht, HHt, update, obj_at)
    if with_data:
        summaries.update(rule.data_summaries(X_b))
    return W_b, summaries


def add_summaries(*parts):
    """Sum dicts of arrays key by key (one node of the reduction tree)."""
    total = {key: np.array(value, copy=True) for key, value in parts[0].items()}
    for part in parts[1:]:
        for key, value in part.items():
            total[key] += value
    return total


def residual_block(X_b, W_b, H, beta=2.0):
    """``2 D_beta(X_b | W_b H)`` for one block: ``||X_b - W_b H||_F^2`` for beta 2.

    The divergence is a sum over entries, so the blocks' values add up to
    the whole matrix's. For beta = 2 the residual is formed exactly (no trace
    identity), an eighth of the block at a time, so the task needs little
    memory beyond the block itself.
    """
    from .._objective import beta_divergence, reconstruction_error

    X_b = np.asarray(X_b)
    if beta != 2:
        return 2.0 * beta_divergence(X_b, W_b, H, beta)
    rows = max(1, -(-X_b.shape[0] // 8))
    return reconstruction_error(X_b, W_b, H, chunk_rows=rows) ** 2
