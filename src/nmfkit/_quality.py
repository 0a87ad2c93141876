"""Measures of a factorization's quality and of the stability of its clusters.

- explained variance ``1 - ||X - WH||_F^2 / ||X||_F^2`` (the usual definition
  for NMF, where the model has no mean term);
- Hoyer sparseness of a vector ``x`` of length ``n``:
  ``(sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1)`` (Hoyer, "Non-negative
  matrix factorization with sparseness constraints", JMLR 2004), averaged over
  the columns of W and the rows of H;
- connectivity and consensus matrices over restarts, the cophenetic
  correlation of the consensus matrix (Brunet et al., "Metagenes and molecular
  pattern discovery using matrix factorization", PNAS 2004) and its dispersion
  (Kim and Park, "Sparse non-negative matrix factorizations via alternating
  non-negativity-constrained least squares", Bioinformatics 2007).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import cophenet, linkage
from scipy.spatial.distance import squareform

from ._objective import reconstruction_error, squared_norm

__all__ = [
    "connectivity_matrix",
    "consensus_dispersion",
    "cophenetic_correlation",
    "explained_variance",
    "hoyer_sparseness",
    "consensus_order",
]


def explained_variance(X, W, H):
    """``1 - ||X - WH||_F^2 / ||X||_F^2`` (1 for an exact fit)."""
    total = squared_norm(X)
    if total == 0:
        return 1.0
    return 1.0 - reconstruction_error(X, W, H) ** 2 / total


def hoyer_sparseness(A, axis=0):
    """Mean Hoyer sparseness of the vectors of ``A`` along ``axis``.

    0 for a constant vector, 1 for a vector with one non-zero entry. All-zero
    vectors are left out; vectors of length 1 count as 1 (maximally sparse).

    Parameters
    ----------
    A : ndarray
    axis : int
        ``axis=0`` measures columns (use it for W), ``axis=1`` rows (for H).
    """
    A = np.abs(np.asarray(A, dtype=np.float64))
    n = A.shape[axis]
    l1 = A.sum(axis=axis)
    l2 = np.sqrt((A**2).sum(axis=axis))
    keep = l2 > 0
    if not keep.any():
        return 0.0
    if n == 1:
        return 1.0
    values = (np.sqrt(n) - l1[keep] / l2[keep]) / (np.sqrt(n) - 1)
    return float(values.mean())


def connectivity_matrix(W):
    """``C[i, j] = 1`` when samples i and j share their dominant component.

    The dominant component of sample ``i`` is ``argmax_k W[i, k]``.
    """
    labels = np.argmax(np.asarray(W), axis=1)
    return (labels[:, None] == labels[None, :]).astype(np.float64)


def _consensus_linkage(consensus):
    distances = squareform(1.0 - consensus, checks=False)
    return distances, linkage(distances, method="average")


def cophenetic_correlation(consensus):
    """Pearson correlation between ``1 - consensus`` and its cophenetic distances.

    The cophenetic distances come from average-linkage hierarchical clustering
    of ``1 - consensus`` (Brunet et al. 2004). 1 for a perfectly stable
    clustering. A consensus matrix with a single sample, or constant off the
    diagonal, has no defined correlation and gives 1 (no instability seen).
    """
    consensus = np.asarray(consensus, dtype=np.float64)
    if consensus.shape[0] < 3:
        return 1.0
    distances, tree = _consensus_linkage(consensus)
    if np.ptp(distances) == 0:
        return 1.0
    corr, _ = cophenet(tree, distances)
    return float(corr)


def consensus_dispersion(consensus):
    """``mean(4 (C - 1/2)^2)`` (Kim and Park 2007): 1 when every entry is 0 or 1."""
    consensus = np.asarray(consensus, dtype=np.float64)
    return float(np.mean(4.0 * (consensus - 0.5) ** 2))


def consensus_order(consensus):
    """Order of the samples by average-linkage clustering, for heatmaps."""
    from scipy.cluster.hierarchy import leaves_list

    consensus = np.asarray(consensus, dtype=np.float64)
    if consensus.shape[0] < 2:
        return np.arange(consensus.shape[0])
    _, tree = _consensus_linkage(consensus)
    return leaves_list(tree)
