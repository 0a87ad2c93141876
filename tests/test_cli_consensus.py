"""``nmfkit consensus`` end to end: named CSV results equal to the API's, the
selection table, the plot, the report, and one-line errors with nothing left."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _cli_tools import assert_bad_input, read_named_csv, read_records, run
from nmfkit.consensus import consensus_nmf, make_planted_programs

pytest.importorskip("matplotlib")

RANKS = [2, 3, 4]


@pytest.fixture(scope="module")
def counts_file(tmp_path_factory):
    data = make_planted_programs(60, 30, 3, random_state=0)
    genes = [f"gene{j}" for j in range(30)]
    cells = [f"cell{i}" for i in range(60)]
    path = tmp_path_factory.mktemp("data") / "counts.csv"
    lines = [",".join(["cell", *genes])]
    lines += [
        ",".join([cell, *(f"{v:g}" for v in row)])
        for cell, row in zip(cells, data.X, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path, data.X, cells, genes


def test_consensus_writes_named_results_equal_to_the_api(counts_file, tmp_path, capsys):
    path, X, cells, genes = counts_file
    folder = tmp_path / "out"
    code, out, err = run(
        capsys, "consensus", path, "--index-col", "cell", "--ranks", "2", "3", "4",
        "--replicates", "4", "--max-iter", "200", "-q", "-o", folder,
    )
    assert code == 0, err
    expected = consensus_nmf(
        X, RANKS, n_replicates=4, random_state=0, init="random", max_iter=200,
        tol=1e-4, solver="auto", l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0,
    )
    assert expected.best_rank == 3
    for rank in RANKS:
        corner, columns, rows, values = read_named_csv(folder / f"spectra_k{rank}.csv")
        assert corner == "component" and columns == genes
        assert rows == [f"component_{k}" for k in range(rank)]
        np.testing.assert_array_equal(values, expected[rank].spectra)
        corner, columns, rows, values = read_named_csv(folder / f"usages_k{rank}.csv")
        assert rows == cells and columns == [f"component_{k}" for k in range(rank)]
        np.testing.assert_array_equal(values, expected[rank].usages)
    table = read_records(folder / "consensus.csv")
    assert [int(r["rank"]) for r in table] == RANKS
    assert [r["chosen"] for r in table] == ["False", "True", "False"]
    for row in table:
        factors = expected[int(row["rank"])]
        assert float(row["silhouette"]) == factors.silhouette
        assert float(row["reconstruction_error"]) == factors.reconstruction_error
        assert int(row["n_dropped"]) == factors.n_dropped
    summary = json.loads((folder / "consensus.json").read_text())
    assert summary["best_rank"] == 3 and summary["parameters"]["n_neighbors"] == 1
    assert (folder / "stability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "report.html").read_text()
    assert 'data-figure="stability"' in page and "spectra_k3.csv" in page
    assert set(summary["files"]) <= {p.name for p in folder.iterdir()}
    assert "3*" in out and "chosen rank: 3" in out


def test_ranks_take_ranges_too_and_the_report_can_be_left_out(
    counts_file, tmp_path, capsys
):
    path = counts_file[0]
    folder = tmp_path / "out"
    code, _, err = run(
        capsys, "consensus", path, "--index-col", "cell", "--ranks", "2-3",
        "--replicates", "2", "--max-iter", "50", "--no-report", "-q", "-o", folder,
    )
    assert code == 0, err
    names = {p.name for p in folder.iterdir()}
    assert {"spectra_k2.csv", "usages_k3.csv", "consensus.csv"} <= names
    assert "report.html" not in names


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--ranks", "1", "2"], "rank 1 has no clustering"),
        (["--ranks", "2", "40"], "rank 40 is larger than the data allow"),
        (["--ranks", "2", "--replicates", "1"], "1 is not >= 2"),
        (["--ranks", "2", "--density-threshold", "3"], "is not in (0, 2]"),
        (["--ranks", "2", "--replicates", "2", "--neighbors", "4"], "--neighbors 3"),
        (["--ranks", "2", "--missing"], "--missing is not available"),
        (["--ranks", "2", "--solver", "hals", "--beta-loss", "1"], "--solver mu"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    counts_file, tmp_path, capsys, options, fragment
):
    path = counts_file[0]
    argv = ["consensus", path, "--index-col", "cell", *options, "-o", tmp_path / "o"]
    assert_bad_input(capsys, argv, fragment, untouched=tmp_path)
