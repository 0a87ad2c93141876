"""Consensus NMF on AnnData: X, a layer or the highly variable genes in, equal
to the array API's result; sparse kept sparse; usages and spectra written to
obsm and varm (NaN rows for the genes not factorized), through .h5ad files
too; one-line errors for a missing layer or column and for invalid data."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit._optional import MissingDependencyError
from nmfkit.consensus import (
    _consensus,
    consensus_nmf,
    make_planted_anndata,
    make_planted_programs,
    store_consensus,
)

anndata = pytest.importorskip("anndata")

RANKS = [2, 3]
SETTINGS = dict(n_replicates=4, random_state=0, max_iter=200)


@pytest.fixture
def adata():
    """60 planted cells x 30 genes: counts in a layer, log1p in X, 2/3 genes HVG."""
    data = make_planted_anndata(60, 30, 3, random_state=0)
    data.X = data.layers["counts"].log1p()
    data.var["highly_variable"] = np.arange(30) % 3 != 0
    return data


def _assert_same_selection(got, expected):
    assert got.ranks == expected.ranks and got.best_rank == expected.best_rank
    for rank in got.ranks:
        np.testing.assert_array_equal(got[rank].spectra, expected[rank].spectra)
        np.testing.assert_array_equal(got[rank].usages, expected[rank].usages)
        assert got[rank].silhouette == expected[rank].silhouette


def _assert_stored(adata, selection, used):
    """obsm/varm/uns hold the selection; rows of the genes not used are NaN."""
    for rank in selection.ranks:
        usages = adata.obsm[f"consensus_usages_k{rank}"]
        spectra = adata.varm[f"consensus_spectra_k{rank}"]
        np.testing.assert_array_equal(usages, selection[rank].usages)
        assert spectra.shape == (adata.n_vars, rank)
        np.testing.assert_array_equal(spectra[used], selection[rank].spectra.T)
        assert np.isnan(spectra[~used]).all()
    uns = adata.uns["consensus"]
    assert list(uns["ranks"]) == selection.ranks
    assert int(uns["best_rank"]) == selection.best_rank
    np.testing.assert_array_equal(
        uns["silhouette"], [selection[r].silhouette for r in selection.ranks]
    )
    np.testing.assert_array_equal(
        uns["reconstruction_error"],
        [selection[r].reconstruction_error for r in selection.ranks],
    )
    np.testing.assert_array_equal(uns["features_used"], used)
    assert int(uns["n_replicates"]) == selection.n_replicates


def test_x_round_trip_equals_the_array_api_and_survives_h5ad(adata, tmp_path):
    selection = consensus_nmf(adata, RANKS, **SETTINGS)
    expected = consensus_nmf(adata.X, RANKS, **SETTINGS)
    _assert_same_selection(selection, expected)
    assert selection.features is None
    store_consensus(adata, selection)
    _assert_stored(adata, expected, np.ones(30, dtype=bool))
    path = tmp_path / "result.h5ad"
    adata.write_h5ad(path)
    _assert_stored(anndata.read_h5ad(path), expected, np.ones(30, dtype=bool))


def test_a_layer_is_factorized_instead_of_x(adata):
    selection = consensus_nmf(adata, RANKS, layer="counts", **SETTINGS)
    counts = adata.layers["counts"]
    _assert_same_selection(selection, consensus_nmf(counts, RANKS, **SETTINGS))
    assert not np.array_equal(
        selection[3].usages, consensus_nmf(adata, RANKS, **SETTINGS)[3].usages
    )


def test_highly_variable_genes_only_with_nan_rows_for_the_others(adata):
    used = adata.var["highly_variable"].to_numpy()
    selection = consensus_nmf(
        adata, RANKS, layer="counts", highly_variable=True, **SETTINGS
    )
    counts = adata.layers["counts"][:, used]
    _assert_same_selection(selection, consensus_nmf(counts, RANKS, **SETTINGS))
    np.testing.assert_array_equal(selection.features, np.flatnonzero(used))
    store_consensus(adata, selection, key_added="hvg")
    for rank in RANKS:
        spectra = adata.varm[f"hvg_spectra_k{rank}"]
        assert np.isnan(spectra[~used]).all()
        np.testing.assert_array_equal(spectra[used], selection[rank].spectra.T)
        # the factorized genes' spectra still sum to 1 per component
        np.testing.assert_allclose(np.nansum(spectra, axis=0), 1.0)
    assert adata.uns["hvg"]["features_used"].tolist() == used.tolist()


@pytest.mark.parametrize("highly_variable", [False, True])
def test_sparse_input_reaches_the_fits_sparse(adata, monkeypatch, highly_variable):
    seen = []
    real = _consensus.fit_replicates

    def spy(X, *args, **kwargs):
        seen.append(X)
        return real(X, *args, **kwargs)

    monkeypatch.setattr(_consensus, "fit_replicates", spy)
    consensus_nmf(
        adata, RANKS, layer="counts", highly_variable=highly_variable, **SETTINGS
    )
    assert len(seen) == len(RANKS)
    n_genes = 20 if highly_variable else 30
    for X in seen:
        assert sp.issparse(X) and X.shape == (60, n_genes)


def test_copy_returns_a_new_anndata_and_leaves_the_input(adata):
    selection = consensus_nmf(adata, RANKS, **SETTINGS)
    result = store_consensus(adata, selection, copy=True)
    assert result is not adata and "consensus" not in adata.uns
    assert "consensus_usages_k2" not in adata.obsm
    _assert_stored(result, selection, np.ones(30, dtype=bool))
    assert store_consensus(adata, selection) is None
    assert "consensus_usages_k3" in adata.obsm


def test_dense_anndata_and_its_truth(adata):
    dense = make_planted_anndata(60, 30, 3, sparse=False, random_state=0)
    assert isinstance(dense.X, np.ndarray)
    data = make_planted_programs(60, 30, 3, random_state=0)
    np.testing.assert_array_equal(dense.X, data.X)
    np.testing.assert_array_equal(adata.layers["counts"].toarray(), data.X)
    np.testing.assert_array_equal(dense.varm["planted_programs"], data.programs.T)
    np.testing.assert_array_equal(dense.obsm["planted_usages"], data.usages)
    identity = [f"program_{k}" for k in data.identity]
    assert list(dense.obs["identity"]) == identity
    assert "synthetic" in dense.uns["description"]


@pytest.mark.parametrize(
    ("change", "options", "fragment"),
    [
        (None, dict(layer="raw"), "adata has no layer 'raw' (its layers: 'counts')"),
        ("drop_hvg", dict(highly_variable=True), "no 'highly_variable' column"),
        ("text_hvg", dict(highly_variable=True), "not bool"),
        ("no_hvg", dict(highly_variable=True), "marks no gene"),
        ("negative", {}, "Negative values in data passed to"),
        ("nan", {}, "NaN"),
    ],
)
def test_bad_anndata_is_a_clear_error(adata, change, options, fragment):
    if change == "drop_hvg":
        del adata.var["highly_variable"]
    elif change == "text_hvg":
        adata.var["highly_variable"] = ["yes"] * 30
    elif change == "no_hvg":
        adata.var["highly_variable"] = False
    elif change == "negative":
        adata.X = adata.X.toarray() - 1.0
    elif change == "nan":
        adata.X = adata.X.toarray()
        adata.X[0, 0] = np.nan
    with pytest.raises(ValueError) as info:
        consensus_nmf(adata, RANKS, **SETTINGS, **options)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_data_gets_the_same_message_as_an_array(adata):
    bad = -adata.layers["counts"].toarray()
    adata.X = bad
    with pytest.raises(ValueError) as from_anndata:
        consensus_nmf(adata, RANKS, **SETTINGS)
    with pytest.raises(ValueError) as from_array:
        consensus_nmf(bad, RANKS, **SETTINGS)
    assert str(from_anndata.value) == str(from_array.value)


def test_anndata_options_need_an_anndata():
    X = make_planted_programs(20, 10, 2, random_state=0).X
    for options in (dict(layer="counts"), dict(highly_variable=True)):
        with pytest.raises(ValueError, match="pass the AnnData, or leave them unset"):
            consensus_nmf(X, RANKS, **SETTINGS, **options)
    with pytest.raises(TypeError, match="give True or False"):
        consensus_nmf(make_planted_anndata(20, 10, 2), RANKS, highly_variable="yes")


def test_backed_anndata_is_refused(adata, tmp_path):
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    backed = anndata.read_h5ad(path, backed="r")
    try:
        with pytest.raises(ValueError, match=r"adata\.to_memory\(\)"):
            consensus_nmf(backed, RANKS, **SETTINGS)
    finally:
        backed.file.close()


def test_store_refuses_another_anndata_and_bad_keys(adata):
    selection = consensus_nmf(adata, RANKS, **SETTINGS)
    with pytest.raises(ValueError, match="computed on 60 cells x 30 genes"):
        store_consensus(adata[:, :20].copy(), selection)
    hvg = consensus_nmf(adata, RANKS, highly_variable=True, **SETTINGS)
    with pytest.raises(ValueError, match="20 genes selected"):
        store_consensus(adata[:50].copy(), hvg)
    with pytest.raises(ValueError, match="key_added=''"):
        store_consensus(adata, selection, key_added="")
    with pytest.raises(TypeError, match="must be an anndata.AnnData"):
        store_consensus(adata.X, selection)


def test_missing_anndata_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "anndata", None)
    extra = r'pip install "nmfkit\[anndata\]"'
    with pytest.raises(MissingDependencyError, match=extra):
        make_planted_anndata(20, 10, 2)
