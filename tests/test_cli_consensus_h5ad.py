"""``nmfkit consensus`` on an .h5ad file the test writes: a layer and the
highly variable genes read, the CSVs named by obs_names and var_names, the
results written back to consensus.h5ad, equal to the API's; one-line errors
for options that do not fit the input, with nothing left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _cli_tools import assert_bad_input, read_named_csv, run
from nmfkit.consensus import consensus_nmf, make_planted_anndata

anndata = pytest.importorskip("anndata")
pytest.importorskip("matplotlib")

RANKS = [2, 3]
#: The API's parameters that the command's defaults (and --max-iter 200) give.
API = dict(
    n_replicates=4, random_state=0, init="random", max_iter=200, tol=1e-4,
    solver="auto", l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0,
)


@pytest.fixture(scope="module")
def h5ad_file(tmp_path_factory):
    adata = make_planted_anndata(60, 30, 3, random_state=0)
    adata.X = adata.layers["counts"].log1p()
    adata.var["highly_variable"] = np.arange(30) % 3 != 0
    path = tmp_path_factory.mktemp("data") / "cells.h5ad"
    adata.write_h5ad(path)
    return path


def test_layer_and_hvg_give_named_csvs_and_an_h5ad_equal_to_the_api(
    h5ad_file, tmp_path, capsys
):
    folder = tmp_path / "out"
    code, out, err = run(
        capsys, "consensus", h5ad_file, "--layer", "counts", "--highly-variable",
        "--h5ad", "--ranks", "2", "3", "--replicates", "4", "--max-iter", "200",
        "-q", "-o", folder,
    )
    assert code == 0, err
    adata = anndata.read_h5ad(h5ad_file)
    used = adata.var["highly_variable"].to_numpy()
    expected = consensus_nmf(
        adata, RANKS, layer="counts", highly_variable=True, **API
    )
    genes = list(adata.var_names[used])
    for rank in RANKS:
        corner, columns, rows, values = read_named_csv(folder / f"spectra_k{rank}.csv")
        assert columns == genes and rows == [f"component_{k}" for k in range(rank)]
        np.testing.assert_array_equal(values, expected[rank].spectra)
        corner, columns, rows, values = read_named_csv(folder / f"usages_k{rank}.csv")
        assert rows == list(adata.obs_names)
        np.testing.assert_array_equal(values, expected[rank].usages)
    result = anndata.read_h5ad(folder / "consensus.h5ad")
    np.testing.assert_array_equal(result.layers["counts"].toarray(),
                                  adata.layers["counts"].toarray())
    for rank in RANKS:
        np.testing.assert_array_equal(
            result.obsm[f"consensus_usages_k{rank}"], expected[rank].usages
        )
        spectra = result.varm[f"consensus_spectra_k{rank}"]
        np.testing.assert_array_equal(spectra[used], expected[rank].spectra.T)
        assert np.isnan(spectra[~used]).all()
    assert int(result.uns["consensus"]["best_rank"]) == expected.best_rank == 3
    summary = json.loads((folder / "consensus.json").read_text())
    assert summary["parameters"]["layer"] == "counts"
    assert summary["parameters"]["highly_variable"] is True
    assert summary["shape"] == [60, 20] and "consensus.h5ad" in summary["files"]
    assert "consensus.h5ad" in (folder / "report.html").read_text()


def test_x_without_writing_an_h5ad(h5ad_file, tmp_path, capsys):
    folder = tmp_path / "out"
    code, _, err = run(
        capsys, "consensus", h5ad_file, "--ranks", "2", "--replicates", "2",
        "--max-iter", "50", "--no-report", "-q", "-o", folder,
    )
    assert code == 0, err
    adata = anndata.read_h5ad(h5ad_file)
    expected = consensus_nmf(adata.X, [2], **dict(API, n_replicates=2, max_iter=50))
    _, columns, _, values = read_named_csv(folder / "spectra_k2.csv")
    assert columns == list(adata.var_names)
    np.testing.assert_array_equal(values, expected[2].spectra)
    assert not (folder / "consensus.h5ad").exists()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--layer", "raw"], "adata has no layer 'raw'"),
        (["--index-col", "cell"], "--index-col is for .npz and CSV files"),
        (["--key", "X"], "--key is for .npz and CSV files"),
    ],
)
def test_bad_h5ad_options_are_one_line_and_leave_nothing(
    h5ad_file, tmp_path, capsys, options, fragment
):
    argv = ["consensus", h5ad_file, "--ranks", "2", *options, "-o", tmp_path / "o"]
    assert_bad_input(capsys, argv, fragment, untouched=tmp_path)


def test_missing_hvg_column_is_one_line(tmp_path, capsys):
    path = tmp_path / "plain.h5ad"
    make_planted_anndata(30, 12, 2, random_state=0).write_h5ad(path)
    argv = ["consensus", path, "--ranks", "2", "--highly-variable"]
    argv += ["-o", tmp_path / "o"]
    assert_bad_input(
        capsys, argv, "no 'highly_variable' column", untouched=tmp_path
    )


@pytest.mark.parametrize("option", ["--layer counts", "--highly-variable", "--h5ad"])
def test_anndata_options_need_an_h5ad_input(tmp_path, capsys, option):
    path = tmp_path / "counts.npy"
    np.save(path, make_planted_anndata(30, 12, 2, sparse=False, random_state=0).X)
    argv = ["consensus", path, "--ranks", "2", *option.split(), "-o", tmp_path / "o"]
    assert_bad_input(
        capsys, argv, f"{option.split()[0]} is for an .h5ad (AnnData) input",
        untouched=tmp_path,
    )


def test_an_unreadable_h5ad_is_one_line(tmp_path, capsys):
    path = tmp_path / "broken.h5ad"
    path.write_bytes(b"not an HDF5 file")
    argv = ["consensus", path, "--ranks", "2", "-o", tmp_path / "o"]
    assert_bad_input(capsys, argv, "is not a readable .h5ad file", untouched=tmp_path)
