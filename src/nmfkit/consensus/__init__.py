"""Consensus NMF (cNMF's method): many fits per rank merged into stable spectra.

:func:`consensus_nmf` runs many NMF fits per candidate rank, drops the
components that few fits found, clusters the rest into consensus spectra,
refits the usages, and scores each rank by the stability of the clustering
(silhouette) and the reconstruction error (Kotliar et al., eLife 2019).
:func:`make_planted_programs` makes single-cell-like synthetic counts with
known programs to try it on. An AnnData goes in as it is
(``consensus_nmf(adata, ranks, layer=..., highly_variable=...)``) and
:func:`store_consensus` writes the results into its ``obsm``, ``varm`` and
``uns``; :func:`make_planted_anndata` is the synthetic data as an AnnData.
"""

from ._anndata import anndata_matrix, make_planted_anndata, store_consensus
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
    "anndata_matrix",
    "consensus_nmf",
    "default_n_neighbors",
    "make_planted_anndata",
    "make_planted_programs",
    "stability_rank",
    "store_consensus",
]
