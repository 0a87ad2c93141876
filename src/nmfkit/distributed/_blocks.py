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

    Parameters
    ----------
    penalties : Penalties
    l1_placement : {"numerator", "denominator"}
    """

    penalties: Penalties
    l1_placement: str = "numerator"

    def update_rows(self, X_b, W_b, Ht, HHt):
        """New rows of W: ``W_b * max(X_b H^T - l1_W, 0) / (W_b (H H^T + l2_W I))``."""
        p = self.penalties
        return mu_step(W_b, X_b @ Ht, HHt, p.l1_W, p.l2_W, self.l1_placement)

    @staticmethod
    def summaries(X_b, W_b):
        """Block sums the driver needs: ``W_b^T X_b``, ``W_b^T W_b``, ``sum(W_b)``."""
        return {
            "WtX": W_b.T @ X_b,
            "WtW": W_b.T @ W_b,
            "sum_W": np.array(np.sum(W_b, dtype=np.float64)),
        }

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place from the summed ``W^T X`` and ``W^T W``."""
        p = self.penalties
        mu_step(Ht, totals["WtX"].T, totals["WtW"], p.l1_H, p.l2_H, self.l1_placement)

    objective_from_totals = True
    data_keys = ("X_sq_norm",)

    def block_step(self, X_b, W_b, Ht, HHt, update, obj_at="after"):
        """New rows of W (when ``update``) and their summaries."""
        if update:
            W_b = self.update_rows(X_b, W_b, Ht, HHt)
        return W_b, self.summaries(X_b, W_b)

    @staticmethod
    def data_summaries(X_b):
        """``||X_b||_F^2``."""
        return {"X_sq_norm": np.array(squared_norm(X_b))}

    def objective(self, data, totals, Ht, HHt):
        """Penalized objective from the sums (no pass over X).

        ``<X H^T, W> = <H^T, X^T W>``, so the cross term comes from ``W^T X``.
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
    """

    def update_rows(self, X_b, W_b, Ht, HHt):
        """New rows of W: one HALS sweep with ``H X_b^T`` and ``H H^T``."""
        p = self.penalties
        Wt_b = np.array(W_b.T, order="C", copy=True)
        Q, G2 = prepare_hals(Ht.T @ X_b.T, HHt, p.l1_W, p.l2_W)
        hals_sweep(Wt_b, Q, G2, l1_positive=p.l1_W > 0)
        return np.ascontiguousarray(Wt_b.T)

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place: one HALS sweep with ``W^T X`` and ``W^T W``."""
        p = self.penalties
        H = np.array(Ht.T, order="C", copy=True)
        Q, G2 = prepare_hals(totals["WtX"], totals["WtW"], p.l1_H, p.l2_H)
        hals_sweep(H, Q, G2, l1_positive=p.l1_H > 0)
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
    l1_placement : {"numerator", "denominator"}
    beta : float
        The divergence (1 is Kullback-Leibler); not 2.
    gamma_rule : {"mm", "scikit-learn"}
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

        ``obj_at``: the divergence's parts at the rows before the update
        (``"before"``) or after it (``"after"``).
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
        ``direct`` part), so they add nothing here."""
        return {"constant": np.array(0.0), "n_entries": np.array(0.0)}

    def update_columns(self, Ht, totals):
        """Update ``Ht`` in place: the in-memory MU step of H from the sums."""
        den_H = totals.get("den_H")
        if den_H is None:
            den_H = kl_h_denominator(totals["W_col_sum"].astype(Ht.dtype))
        num_H = np.array(totals["num_H"], copy=True)
        Ht[...] = self._updater().update_H(Ht, (num_H, den_H))

    def objective(self, data, totals, Ht, HHt):
        """Penalized divergence at the rows the parts were taken at."""
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
