"""``nmfkit rank`` end to end: formats, table, report, JSON and bad input."""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nmfkit import select_rank
from nmfkit.cli import main
from nmfkit.cli.rank import parse_ranks

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

# Small and quick: every fit stops at a relative decrease of 1e-3.
FAST = ["--tol", "1e-3", "--folds", "3", "-q"]


def _run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _assert_bad_input(capsys, argv, *fragments):
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert out == ""
    return lines[0]


@pytest.fixture
def rank2():
    rng = np.random.default_rng(0)
    X = rng.random((24, 2)) @ rng.random((2, 14))
    return X * np.clip(1 + 0.05 * rng.standard_normal(X.shape), 0, None)


def _table(out):
    rows = [line.split() for line in out.splitlines() if re.match(r"\d+\*? ", line)]
    return rows


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".mtx"])
def test_rank_reads_fit_inputs_and_prints_the_table(
    rank2, suffix, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")  # one block: the table is not split
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(path, rank2)
    elif suffix == ".csv":
        np.savetxt(path, rank2, delimiter=",", fmt="%.17g")
    else:
        scipy.io.mmwrite(path, sp.csr_matrix(rank2))
    folder = tmp_path / "out"
    code, out, err = _run(
        capsys, "rank", str(path), "--ranks", "1-4", *FAST, "-o", str(folder)
    )
    assert code == 0, err
    table = _table(out)
    assert [row[0] for row in table] == ["1", "2*", "3", "4"]
    assert "chosen rank: 2 (cv: 2)" in out
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "rank.csv", "rank.json",
    ]  # fmt: skip
    with open(folder / "rank.csv") as f:
        records = list(csv.DictReader(f))
    assert [r["rank"] for r in records] == ["1", "2", "3", "4"]
    assert [r["chosen"] for r in records] == ["False", "True", "False", "False"]
    # The same numbers as the library with the same settings.
    expected = select_rank(
        rank2, [1, 2, 3, 4], n_folds=3, random_state=0, tol=1e-3, init="random"
    )
    cv_rmse = [float(row[-2]) for row in table]
    np.testing.assert_allclose(
        cv_rmse, [expected.scores[r]["cv_rmse"] for r in range(1, 5)], rtol=1e-3
    )
    np.testing.assert_allclose(  # the CSV holds the numbers exactly
        [float(r["cv_rmse"]) for r in records],
        [expected.scores[r]["cv_rmse"] for r in range(1, 5)],
        rtol=1e-12,
    )


def test_rank_report_and_json(rank2, tmp_path, capsys):
    path = tmp_path / "x.npz"
    np.savez(path, data=rank2, other=np.ones(3))
    folder = tmp_path / "out"
    report, summary = folder / "report.html", folder / "rank.json"
    argv = [
        "rank", str(path), "--key", "data", "--ranks", "1,2-3",
        "--method", "consensus,cv", "--runs", "4", "--solver", "hals", "--n-init", "2",
        "--report", "-o", str(folder), *FAST,
    ]  # fmt: skip
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    assert f"report: {report}" in out
    assert f"results in {folder}/: rank.csv, rank.json, report.html" in out
    data = json.loads(summary.read_text())
    assert data["shape"] == [24, 14] and data["methods"] == ["consensus", "cv"]
    assert data["best_rank"] == data["best_rank_by"]["consensus"]
    assert data["parameters"]["solver"] == "hals" and data["parameters"]["runs"] == 4
    assert data["parameters"]["n_init"] == 2
    assert [row["rank"] for row in data["table"]] == [1, 2, 3]
    assert {"cophenetic", "dispersion", "cv_rmse", "cv_se"} <= set(data["table"][0])
    folds = data["cv_fold_rmse"]["2"]
    assert len(folds) == 3
    assert np.mean(folds) == pytest.approx(data["table"][1]["cv_rmse"])

    page = report.read_text()
    sections = re.findall(r'data-section="([^"]+)"', page)
    assert sections == ["data", "parameters", "results", "files", "figures"]
    links = re.findall(r'data-file="([^"]+)"', page)
    assert links == ["rank.csv", "rank.json"]
    assert re.findall(r'data-figure="([^"]+)"', page) == [
        "rank-scores",
        "consensus-maps",
    ]
    assert 'data-table="scores"' in page and "one standard error" in page
    for encoded in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page):
        image = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("L")
        assert np.asarray(image, dtype=float).std() > 5  # drawn, not blank
    # Existing outputs are kept without --force, replaced with it.
    before = summary.read_bytes()
    _assert_bad_input(capsys, argv, "already exists", "--force")
    assert summary.read_bytes() == before
    code, _, _ = _run(capsys, *argv, "--force")
    assert code == 0


def test_parse_ranks():
    assert parse_ranks("2-5") == [2, 3, 4, 5]
    assert parse_ranks("8, 2-3,3") == [2, 3, 8]
    assert parse_ranks("4") == [4]
    for text, message in [
        ("5-2", "the range 5-2 is empty"),
        ("0-3", "rank 0 is not >= 1"),
        ("-3", "'-3' is not a rank"),
        ("two", "'two' is not a rank"),
        ("2-", "'2-' is not a rank"),
        ("", "'' is not a rank"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse_ranks(text)


def test_rank_bad_inputs(rank2, tmp_path, capsys):
    good = tmp_path / "x.npy"
    np.save(good, rank2)
    cases = [
        (["--ranks", "5-2"], ["the range 5-2 is empty"]),
        (["--ranks", "-3"], ["--ranks", "is not a rank"]),
        (["--ranks", "0-3"], ["rank 0 is not >= 1"]),
        (["--ranks", "2-40"], ["rank 40 is larger than the data allow (24 x 14)"]),
        (["--ranks", "2", "--method", "bic"], ["--method", "'bic' is not valid"]),
        (["--ranks", "2", "--folds", "1"], ["--folds", "1 is not >= 2"]),
        (["--ranks", "2", "--folds", "20"], ["--folds 20 is more than the 14"]),
        (["--ranks", "2", "--tol", "-1"], ["--tol", "not a finite number >= 0"]),
        (["--ranks", "2", "--report", "r.txt"], ["unrecognized arguments: r.txt"]),
        (["--ranks", "2", "--missing"], ["--missing is not available"]),
        (
            ["--ranks", "2", "-o", str(tmp_path / "x.npy" / "out")],
            ["is not a folder"],
        ),
    ]
    out = ["-o", str(tmp_path / "out")]
    for extra, fragments in cases:
        _assert_bad_input(capsys, ["rank", str(good), *out, *extra, "-q"], *fragments)
    negative = rank2.copy()
    negative[3, 5] = -0.5
    bad = tmp_path / "neg.npy"
    np.save(bad, negative)
    _assert_bad_input(
        capsys,
        ["rank", str(bad), "--ranks", "1-2", "--report", "-q", *out],
        "negative",
    )
    _assert_bad_input(
        capsys, ["rank", str(tmp_path / "missing.npy"), "--ranks", "2"], "missing.npy"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neg.npy", "x.npy"]


def test_rank_as_a_process(rank2, tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, rank2)
    result = subprocess.run(
        [sys.executable, "-m", "nmfkit.cli", "rank", str(path), "--ranks", "3-2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "the range 3-2 is empty" in result.stderr


def test_rank_help_lists_the_options(capsys):
    code, out, _ = _run(capsys, "rank", "--help")
    assert code == 0
    for option in ("--ranks", "--method", "--folds", "--runs", "--solver", "--report",
                   "--random-state", "-o"):  # fmt: skip
        assert option in out
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and "rank" in out


def test_rank_warns_once_for_its_fits_that_hit_max_iter(rank2, tmp_path, capsys):
    path = tmp_path / "X.npy"
    np.save(path, rank2)
    argv = ["rank", str(path), "--ranks", "1-3", "--max-iter", "2", "--tol", "1e-9"]
    code, _, err = _run(capsys, *argv, "--folds", "3", "-q", "-o", str(tmp_path / "o"))
    assert code == 0, err
    lines = err.strip().splitlines()
    # Every rank's fit (1) and its 3 cross-validation fits stop at 2 iterations.
    assert lines == [
        "nmfkit rank: warning: 12 of the 12 fits of ranks 1, 2, 3 stopped at "
        "--max-iter 2 before the objective's relative decrease fell below --tol "
        "1e-09; raise --max-iter for a converged fit"
    ]
    summary = json.loads((tmp_path / "o" / "rank.json").read_text())
    assert summary["warnings"] == [lines[0].removeprefix("nmfkit rank: warning: ")]
    # select_rank counts the fits it silenced.
    selection = select_rank(rank2, [1, 2], n_folds=3, max_iter=2, tol=1e-9)
    assert selection.unconverged == {1: (4, 4), 2: (4, 4)}
    converged = select_rank(rank2, [1], n_folds=3, max_iter=500, tol=1e-3)
    assert converged.unconverged == {}
