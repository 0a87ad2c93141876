"""Consensus NMF on AnnData: the matrix in, the usages and spectra out.

:func:`anndata_matrix` takes the matrix to factorize from an
:class:`anndata.AnnData` (``X`` or a named layer, optionally only the highly
variable genes; sparse stays sparse), :func:`store_consensus` writes a
:class:`~nmfkit.consensus.ConsensusSelection` back into ``obsm``, ``varm``
and ``uns`` (scanpy's convention: in place, or on a copy with
``copy=True``), and :func:`make_planted_anndata` wraps the synthetic counts
of :func:`~nmfkit.consensus.make_planted_programs` in an AnnData with cell
and gene names. The ``anndata`` package is an optional dependency
(``pip install "nmfkit[anndata]"``); nothing here imports it until an
AnnData is made or written.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from .._optional import import_optional
from .._typing import RandomStateLike

if TYPE_CHECKING:  # pragma: no cover
    from ._consensus import ConsensusSelection

__all__ = [
    "HIGHLY_VARIABLE",
    "anndata_matrix",
    "is_anndata",
    "make_planted_anndata",
    "store_consensus",
]

#: The column of ``adata.var`` that marks the highly variable genes (scanpy's).
HIGHLY_VARIABLE = "highly_variable"


def _anndata_module(purpose):
    return import_optional("anndata", purpose=purpose, extra="anndata")


def is_anndata(obj: Any) -> bool:
    """Whether ``obj`` is an :class:`anndata.AnnData` (without importing anndata).

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
        False whenever the ``anndata`` package was never imported (no
        AnnData can exist then).

    Examples
    --------
    >>> import numpy as np
    >>> is_anndata(np.ones((2, 2)))
    False
    """
    module = sys.modules.get("anndata")
    return module is not None and isinstance(obj, module.AnnData)


def _check_anndata(adata, what):
    if not is_anndata(adata):
        raise TypeError(
            f"{what} must be an anndata.AnnData, not {type(adata).__name__}; "
            "wrap the matrix with anndata.AnnData(X)."
        )
    if adata.isbacked:
        raise ValueError(
            f"{what} is backed by the file {adata.filename} (opened with "
            "backed='r'); load it into memory first with adata.to_memory()."
        )


def highly_variable_genes(adata: Any) -> np.ndarray:
    """Indices of the genes marked in ``adata.var["highly_variable"]``.

    Parameters
    ----------
    adata : anndata.AnnData

    Returns
    -------
    features : ndarray of int
        Increasing indices into ``adata.var_names``.

    Raises
    ------
    ValueError
        When the column is missing, is not boolean (or has missing values),
        or marks no gene.
    """
    if HIGHLY_VARIABLE not in adata.var.columns:
        raise ValueError(
            f"adata.var has no {HIGHLY_VARIABLE!r} column to select the highly "
            "variable genes; compute it first (scanpy.pp.highly_variable_genes) "
            "or pass highly_variable=False to use every gene."
        )
    column = adata.var[HIGHLY_VARIABLE]
    values = column.to_numpy()
    if values.dtype != np.bool_:
        raise ValueError(
            f"adata.var[{HIGHLY_VARIABLE!r}] has dtype {column.dtype}, not bool "
            "(True for the genes to keep, without missing values); recompute it "
            "with scanpy.pp.highly_variable_genes."
        )
    features = np.flatnonzero(values)
    if features.size == 0:
        raise ValueError(
            f"adata.var[{HIGHLY_VARIABLE!r}] marks no gene; mark some, or pass "
            "highly_variable=False to use every gene."
        )
    return features


def anndata_matrix(
    adata: Any, *, layer: str | None = None, highly_variable: bool = False
) -> tuple[Any, np.ndarray | None]:
    """The matrix of an AnnData to factorize, and the genes it keeps.

    Parameters
    ----------
    adata : anndata.AnnData
        Cells x genes, in memory (not backed).
    layer : str, default=None
        ``adata.layers[layer]`` instead of ``adata.X``.
    highly_variable : bool, default=False
        Keep only the genes of ``adata.var["highly_variable"]``.

    Returns
    -------
    X : ndarray or sparse matrix of shape (n_obs, n_features)
        The matrix as stored (a SciPy sparse matrix stays sparse); with
        ``highly_variable`` its columns of the kept genes (a new matrix).
        Not validated: :func:`~nmfkit.consensus.consensus_nmf` checks it.
    features : ndarray of int or None
        The kept genes' indices into ``adata.var_names``; None when every
        gene is kept.

    Raises
    ------
    TypeError
        ``adata`` is not an AnnData.
    ValueError
        A backed AnnData, an unknown layer, no matrix, or (with
        ``highly_variable``) a missing, non-boolean or empty
        ``var["highly_variable"]``.

    See Also
    --------
    consensus_nmf : Calls it for an AnnData input.
    store_consensus : Writes the results back.

    Examples
    --------
    >>> from nmfkit.consensus import make_planted_anndata
    >>> import numpy as np
    >>> adata = make_planted_anndata(40, 30, 3, random_state=0)
    >>> adata.var["highly_variable"] = np.arange(30) < 10
    >>> X, features = anndata_matrix(adata, highly_variable=True)
    >>> X.shape, features[:3]
    ((40, 10), array([0, 1, 2]))
    """
    _check_anndata(adata, "adata")
    if not isinstance(highly_variable, (bool, np.bool_)):
        raise TypeError(
            f"highly_variable={highly_variable!r} is not valid; give True or False."
        )
    if layer is None:
        X, source = adata.X, "adata.X"
    else:
        if layer not in adata.layers:
            names = ", ".join(map(repr, adata.layers.keys())) or "none"
            raise ValueError(
                f"adata has no layer {layer!r} (its layers: {names}); give one of "
                "them, or layer=None for adata.X."
            )
        X, source = adata.layers[layer], f"adata.layers[{layer!r}]"
    if X is None:
        raise ValueError(f"{source} is empty (None); give the layer that holds data.")
    if not highly_variable:
        return X, None
    features = highly_variable_genes(adata)
    return X[:, features], features


def _rank_keys(key_added, rank):
    return f"{key_added}_usages_k{rank}", f"{key_added}_spectra_k{rank}"


def _check_fits(adata, selection):
    """The selection was computed on this AnnData's cells and genes."""
    n_obs, n_vars = adata.shape
    factors = selection[selection.ranks[0]]
    n_rows, n_used = factors.usages.shape[0], factors.spectra.shape[1]
    features = selection.features
    expected = n_vars if features is None else len(features)
    fits = n_rows == n_obs and n_used == expected
    if fits and features is not None:
        fits = bool(features.size == 0 or features.max() < n_vars)
    if not fits:
        raise ValueError(
            f"the selection was computed on {n_rows} cells x {n_used} genes, which "
            f"does not fit adata ({n_obs} x {n_vars}"
            + ("" if features is None else f", {len(features)} genes selected")
            + "); store it into the AnnData it was computed from."
        )


def store_consensus(
    adata: Any,
    selection: ConsensusSelection,
    *,
    key_added: str = "consensus",
    copy: bool = False,
) -> Any:
    """Write consensus NMF results into an AnnData (scanpy's convention).

    For every candidate rank ``k`` of the selection:

    - ``adata.obsm[f"{key_added}_usages_k{k}"]``: the usages, an
      ``(n_obs, k)`` array (``selection[k].usages``);
    - ``adata.varm[f"{key_added}_spectra_k{k}"]``: the spectra transposed,
      an ``(n_vars, k)`` array (``selection[k].spectra.T``). The genes that
      were not factorized (not highly variable) get **NaN** rows: the model
      says nothing about them, and a 0 would claim that no program uses them
      (``np.nan*`` functions, or ``~np.isnan(...)`` as a mask, skip them);

    and ``adata.uns[key_added]``, a dict: ``ranks``, ``best_rank`` (the
    chosen rank), ``silhouette``, ``reconstruction_error`` and ``n_dropped``
    (one entry per rank), ``n_replicates``, ``n_neighbors``,
    ``density_threshold`` and ``features_used`` (a boolean array over
    ``var_names``: the factorized genes). Everything is plain NumPy, so
    ``adata.write_h5ad`` stores it. Existing entries of the same names are
    replaced.

    Parameters
    ----------
    adata : anndata.AnnData
        The AnnData that :func:`~nmfkit.consensus.consensus_nmf` factorized
        (same cells and genes).
    selection : ConsensusSelection
        Its result.
    key_added : str, default="consensus"
        Prefix of the keys written.
    copy : bool, default=False
        False: write into ``adata`` and return None. True: write into a copy
        and return it (``adata`` is left as it was).

    Returns
    -------
    adata : anndata.AnnData or None
        The copy when ``copy=True``, else None.

    Raises
    ------
    TypeError
        ``adata`` is not an AnnData.
    ValueError
        A backed AnnData, an empty ``key_added``, or a selection computed on
        other cells or genes.

    See Also
    --------
    consensus_nmf : Computes the selection (``consensus_nmf(adata, ...)``).

    Examples
    --------
    >>> from nmfkit.consensus import (
    ...     consensus_nmf, make_planted_anndata, store_consensus)
    >>> adata = make_planted_anndata(60, 30, 2, random_state=0)
    >>> selection = consensus_nmf(adata, [2, 3], n_replicates=4, random_state=0)
    >>> store_consensus(adata, selection)
    >>> adata.obsm["consensus_usages_k2"].shape
    (60, 2)
    >>> adata.varm["consensus_spectra_k2"].shape
    (30, 2)
    >>> int(adata.uns["consensus"]["best_rank"])
    2
    """
    _check_anndata(adata, "adata")
    if not isinstance(key_added, str) or not key_added:
        raise ValueError(
            f"key_added={key_added!r} is not valid; give a non-empty string."
        )
    _check_fits(adata, selection)
    if copy:
        adata = adata.copy()
    n_vars = adata.n_vars
    used = np.ones(n_vars, dtype=bool)
    if selection.features is not None:
        used[:] = False
        used[selection.features] = True
    for rank in selection.ranks:
        factors = selection[rank]
        usages_key, spectra_key = _rank_keys(key_added, rank)
        spectra = np.full((n_vars, rank), np.nan)
        spectra[used] = factors.spectra.T
        adata.obsm[usages_key] = np.asarray(factors.usages, dtype=np.float64)
        adata.varm[spectra_key] = spectra
    table = selection.table()
    adata.uns[key_added] = {
        "ranks": np.asarray(selection.ranks, dtype=np.int64),
        "best_rank": int(selection.best_rank),
        "silhouette": np.array([row["silhouette"] for row in table]),
        "reconstruction_error": np.array(
            [row["reconstruction_error"] for row in table]
        ),
        "n_dropped": np.array([row["n_dropped"] for row in table], dtype=np.int64),
        "n_replicates": int(selection.n_replicates),
        "n_neighbors": int(selection.n_neighbors),
        "density_threshold": float(selection.density_threshold),
        "features_used": used,
    }
    return adata if copy else None


def make_planted_anndata(
    n_cells: int = 300,
    n_genes: int = 200,
    n_programs: int = 5,
    *,
    sparse: bool = True,
    random_state: RandomStateLike = None,
    **options: Any,
) -> Any:
    """Synthetic single-cell-like counts with planted programs, as an AnnData.

    The counts of :func:`~nmfkit.consensus.make_planted_programs` (synthetic,
    not real data: nearly disjoint programs, one identity program per cell
    plus sparse activities, Poisson counts) with cell names ``cell_0, ...``
    and gene names ``gene_0, ...``. The truth comes along:
    ``obs["identity"]`` (each cell's identity program),
    ``obsm["planted_usages"]`` (cells x programs) and
    ``varm["planted_programs"]`` (genes x programs, the programs transposed).
    ``X`` and ``layers["counts"]`` hold the same counts (float64).

    Parameters
    ----------
    n_cells : int, default=300
    n_genes : int, default=200
    n_programs : int, default=5
    sparse : bool, default=True
        ``X`` and ``layers["counts"]`` as SciPy CSR matrices (as single-cell
        data usually are), else dense arrays.
    random_state : int, RandomState instance or None, default=None
    **options
        ``counts_per_sample`` and ``activity`` of
        :func:`~nmfkit.consensus.make_planted_programs`.

    Returns
    -------
    adata : anndata.AnnData
        ``n_cells`` x ``n_genes``.

    Raises
    ------
    nmfkit.MissingDependencyError
        When the ``anndata`` package is not installed.
    ValueError
        For the sizes :func:`~nmfkit.consensus.make_planted_programs` refuses.

    See Also
    --------
    make_planted_programs : The same data as arrays.

    Examples
    --------
    >>> from nmfkit.consensus import make_planted_anndata
    >>> adata = make_planted_anndata(50, 40, 4, random_state=0)
    >>> adata.shape, adata.varm["planted_programs"].shape
    ((50, 40), (40, 4))
    >>> list(adata.obs_names[:2]), list(adata.var_names[:2])
    (['cell_0', 'cell_1'], ['gene_0', 'gene_1'])
    """
    import pandas as pd
    import scipy.sparse as sp

    from ._synthetic import make_planted_programs

    anndata = _anndata_module("make_planted_anndata")
    data = make_planted_programs(
        n_cells, n_genes, n_programs, random_state=random_state, **options
    )
    X = sp.csr_matrix(data.X) if sparse else data.X
    obs = pd.DataFrame(
        {"identity": pd.Categorical([f"program_{k}" for k in data.identity])},
        index=[f"cell_{i}" for i in range(n_cells)],
    )
    var = pd.DataFrame(index=[f"gene_{j}" for j in range(n_genes)])
    adata = anndata.AnnData(X=X, obs=obs, var=var)
    adata.layers["counts"] = X.copy()
    adata.obsm["planted_usages"] = data.usages
    adata.varm["planted_programs"] = data.programs.T.copy()
    adata.uns["description"] = (
        "synthetic single-cell-like Poisson counts with planted programs "
        "(nmfkit.consensus.make_planted_anndata), not real data"
    )
    return adata
