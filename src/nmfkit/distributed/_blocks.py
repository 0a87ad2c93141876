"""What one row block computes, on a worker: pure NumPy functions.

A distributed fit holds X and W split into the same blocks of rows; every
function here sees one block, ``X_b`` (rows of X) and ``W_b`` (the same rows
of W), plus the small broadcast factor ``Ht`` (H transposed). The math comes
from :mod:`nmfkit.solvers` and :mod:`nmfkit._objective`; nothing here
re-derives an update.

A *row rule* is the plug-in that a solver family provides; for the Frobenius
multiplicative updates it is :class:`FrobeniusMURule`. It has

- ``update_rows(X_b, W_b, Ht, HHt)``: the new rows of W (row-local, since W's
  update only couples a row of W with the same row of X);
- ``summaries(X_b, W_b)``: a dict of arrays whose sums over blocks the driver
  needs (here ``W^T X``, ``W^T W`` and ``sum(W)``);
- ``update_columns(Ht, totals)``: the update of H on the driver from the
  summed summaries;
- ``objective(X_sq_norm, totals, Ht, HHt)``: the objective from the same sums.

HALS fits the same shape (its H sweep needs the same ``W^T X`` and ``W^T W``,
its W sweep is row-local); KL would add the block sums
``W^T (X / (W H))`` and its divergence to the summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._objective import Penalties, frobenius_fit_from_products, squared_norm
from ..solvers._mu import mu_step

__all__ = ["FrobeniusMURule", "add_summaries", "block_step", "residual_block"]


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

    def objective(self, X_sq_norm, totals, Ht, HHt):
        """Penalized objective from the sums (no pass over X).

        ``<X H^T, W> = <H^T, X^T W>``, so the cross term comes from ``W^T X``.
        """
        p = self.penalties
        fit = frobenius_fit_from_products(
            X_sq_norm, Ht, totals["WtX"].T, totals["WtW"], HHt
        )
        return (
            fit
            + p.value_W(None, totals["WtW"], sum_W=totals["sum_W"])
            + p.value_H(Ht.T, HHt)
        )


def block_step(rule, X_b, W_b, Ht, HHt, update, with_norm):
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
    with_norm : bool
        Whether to add ``||X_b||_F^2`` to the summaries.

    Returns
    -------
    W_b, summaries : ndarray, dict
    """
    X_b = np.asarray(X_b)
    W_b = np.array(W_b, dtype=X_b.dtype, order="C", copy=True)
    if update:
        W_b = rule.update_rows(X_b, W_b, Ht, HHt)
    summaries = rule.summaries(X_b, W_b)
    if with_norm:
        summaries["X_sq_norm"] = np.array(squared_norm(X_b))
    return W_b, summaries


def add_summaries(*parts):
    """Sum dicts of arrays key by key (one node of the reduction tree)."""
    total = {key: np.array(value, copy=True) for key, value in parts[0].items()}
    for part in parts[1:]:
        for key, value in part.items():
            total[key] += value
    return total


def residual_block(X_b, W_b, H):
    """``||X_b - W_b H||_F^2`` for one block (exact, no trace identity).

    The residual is formed an eighth of the block at a time, so the task needs
    little memory beyond the block itself.
    """
    from .._objective import reconstruction_error

    X_b = np.asarray(X_b)
    rows = max(1, -(-X_b.shape[0] // 8))
    return reconstruction_error(X_b, W_b, H, chunk_rows=rows) ** 2
