"""Consensus NMF (cNMF's method): many fits per rank merged into stable spectra.

:func:`consensus_nmf` runs many NMF fits per candidate rank, drops the
components that few fits found, clusters the rest into consensus spectra,
refits the usages, and scores each rank by the stability of the clustering
(silhouette) and the reconstruction error (Kotliar et al., eLife 2019).
:func:`make_planted_programs` makes single-cell-like synthetic counts with
known programs to try it on.
"""

from ._consensus import (
    ConsensusFactors,
    ConsensusSelection,
    consensus_nmf,
    default_n_neighbors,
    stability_rank,
)
from ._synthetic import make_planted_programs

__all__ = [
    "ConsensusFactors",
    "ConsensusSelection",
    "consensus_nmf",
    "default_n_neighbors",
    "make_planted_programs",
    "stability_rank",
]
