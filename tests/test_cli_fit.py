"""``nmfkit fit``: every input format, the output set read back, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import nmfkit
from _cli_tools import assert_bad_input, check_factor_files, manifest, run, tree

FILES = ["model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "fit.json"]


@pytest.fixture
def low_rank():
    rng = np.random.default_rng(0)
    return rng.random((20, 2)) @ rng.random((2, 12))


def _write(path, X):
    suffix = "".join(path.suffixes)
    if suffix == ".npy":
        np.save(path, X)
    elif suffix == ".npz":
        np.savez(path, X=X)
    elif suffix == ".sparse.npz":
        sp.save_npz(path, sp.csr_matrix(X))
    elif suffix == ".mtx":
        scipy.io.mmwrite(path, sp.csr_matrix(X))
    elif suffix == ".csv":
        header = ",".join(f"f{j}" for j in range(X.shape[1]))
        np.savetxt(path, X, delimiter=",", header=header, comments="", fmt="%.17g")
    else:
        np.savetxt(path, X, delimiter="\t", fmt="%.17g")


@pytest.mark.parametrize(
    "suffix", [".npy", ".npz", ".csv", ".tsv", ".mtx", ".sparse.npz"]
)
def test_fit_reads_every_format_and_hands_over_the_set(
    low_rank, suffix, tmp_path, capsys
):
    path = tmp_path / f"x{suffix}"
    _write(path, low_rank)
    out = tmp_path / "out"
    argv = ["fit", path, "--rank", "2", "--max-iter", "400", "--tol", "0", "-q"]
    code, stdout, err = run(capsys, *argv, "-o", out)
    assert code == 0, err
    assert sorted(manifest(out)["files"]) == sorted(FILES)
    assert sorted(tree(out)) == sorted([*FILES, "manifest.json"])
    model = nmfkit.load(out / "model.npz")
    W, H = np.load(out / "W.npy"), model.components_
    assert W.shape == (20, 2) and H.shape == (2, 12)
    assert np.linalg.norm(low_rank - W @ H) / np.linalg.norm(low_rank) < 0.02
    columns = [f"f{j}" for j in range(12)] if suffix == ".csv" else map(str, range(12))
    check_factor_files(
        out, W, H, row_names=[str(i) for i in range(20)], column_names=list(columns),
        corner="row",
    )  # fmt: skip
    summary = json.loads((out / "fit.json").read_text())
    assert summary["shape"] == [20, 12] and summary["n_iter"] == model.n_iter_ == 400
    assert summary["solver"] == "hals (inner loops, extrapolation)"
    assert summary["solver_requested"] == "auto"
    assert summary["init"] == "nndsvda" and summary["init_requested"] == "auto"
    assert summary["measures"]["objective"] == model.loss_
    # (to the library's precision: issue "exact objectives" covers the last digits)
    assert summary["measures"]["||X - WH||_F"] == pytest.approx(
        np.linalg.norm(low_rank - W @ H), rel=1e-6, abs=1e-6 * np.linalg.norm(low_rank)
    )
    assert f"results in {out}/: model.npz" in stdout


def test_force_replaces_the_whole_set(low_rank, tmp_path, capsys):
    path = tmp_path / "x.npy"
    _write(path, low_rank)
    out = tmp_path / "x-nmf"  # the default folder
    code, _, err = run(capsys, "fit", path, "--rank", "2", "--report", "-q")
    assert code == 0, err
    assert (out / "report.html").exists()
    before = {p: (out / p).read_bytes() for p in tree(out)}
    # Never replaced without --force.
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "3", "-q"],
        "already exists",
        "--force",
        untouched=tmp_path,
    )
    assert {p: (out / p).read_bytes() for p in tree(out)} == before
    code, _, err = run(
        capsys, "fit", path, "--rank", "3", "--solver", "mu", "--init", "random",
        "-q", "--force",
    )  # fmt: skip
    assert code == 0, err
    assert sorted(tree(out)) == sorted([*FILES, "manifest.json"])  # no old report
    assert np.load(out / "W.npy").shape == (20, 3)
    summary = json.loads((out / "fit.json").read_text())
    assert (summary["solver"], summary["init"]) == ("mu", "random")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-nmf", "x.npy"]


def test_force_never_replaces_a_folder_nmfkit_did_not_write(low_rank, tmp_path, capsys):
    path = tmp_path / "x.npy"
    _write(path, low_rank)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "2", "-o", mine, "--force", "-q"],
        "is not an nmfkit output folder",
        untouched=tmp_path,
    )
    (tmp_path / "file").write_text("")
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "2", "-o", tmp_path / "file", "-q"],
        "is not a folder",
        untouched=tmp_path,
    )
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "2", "-o", tmp_path / "file" / "out", "-q"],
        "is not a folder",
        untouched=tmp_path,
    )


def test_kl_fit_reports_the_divergence_under_its_name(low_rank, tmp_path, capsys):
    from scipy.special import rel_entr

    path = tmp_path / "x.npy"
    _write(path, low_rank)
    code, stdout, err = run(
        capsys, "fit", path, "--rank", "2", "--beta-loss", "kullback-leibler",
        "--max-iter", "50", "-q", "-o", tmp_path / "kl",
    )  # fmt: skip
    assert code == 0, err
    W, H = np.load(tmp_path / "kl" / "W.npy"), np.load(tmp_path / "kl" / "H.npy")
    WH = W @ H
    divergence = float(np.sum(rel_entr(low_rank, WH) - low_rank + WH))
    summary = json.loads((tmp_path / "kl" / "fit.json").read_text())
    measures = summary["measures"]
    assert measures["KL divergence D(X || WH)"] == pytest.approx(divergence, rel=1e-6)
    assert measures["||X - WH||_F"] == pytest.approx(np.linalg.norm(low_rank - WH))
    assert summary["solver"] == "mu"
    assert f"KL divergence D(X || WH) {divergence:.6g}" in stdout
    frobenius = np.linalg.norm(low_rank - WH)
    assert f"||X - WH||_F {frobenius:.6g}" in stdout


def test_rank_above_the_matrix_size_warns(tmp_path, capsys):
    small = tmp_path / "small.csv"
    small.write_text("1,2,3\n4,5,6\n")
    code, _, err = run(capsys, "fit", small, "--rank", "10", "-q", "-o", tmp_path / "o")
    assert code == 0
    assert "nmfkit fit: warning: --rank 10 is more than min(rows, columns) = 2" in err
    assert json.loads((tmp_path / "o" / "fit.json").read_text())["init"] == "random"
    assert_bad_input(
        capsys,
        ["fit", small, "--rank", "3", "--init", "nndsvd", "-q", "-o", tmp_path / "n"],
        "--init nndsvd needs --rank 2 or less",
        untouched=tmp_path,
    )


def test_csv_names_index_column_delimiter_and_missing(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text('id;"alpha";beta;gamma\nr1;1;2;3\nr2;4;;6\nr3;7;8;9\n')
    out = ["-q", "-o", tmp_path / "o"]
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "1", "--index-col", "id", *out],
        "line 3, column 2 is empty",
        "--missing",
        untouched=tmp_path,
    )
    code, _, err = run(
        capsys, "fit", path, "--rank", "1", "--index-col", "id", "--missing", *out
    )
    assert code == 0, err
    model = nmfkit.load(tmp_path / "o" / "model.npz")
    W = np.load(tmp_path / "o" / "W.npy")
    check_factor_files(
        tmp_path / "o", W, model.components_, row_names=["r1", "r2", "r3"],
        column_names=["alpha", "beta", "gamma"], corner="row",
    )  # fmt: skip
    summary = json.loads((tmp_path / "o" / "fit.json").read_text())
    assert summary["missing_entries"] == 1 and summary["shape"] == [3, 3]
    assert summary["solver"] == "hals"  # the masked solver


def test_a_first_row_with_a_number_is_data(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_text("0.5,,0.1\n1,2,3\n4,5,6\n")
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "1", "-q", "-o", tmp_path / "o"],
        "e.csv, line 1, column 2 is empty",
        untouched=tmp_path,
    )
    code, _, _ = run(
        capsys, "fit", path, "--rank", "1", "--missing", "-q", "-o", tmp_path / "o"
    )
    assert code == 0
    assert np.load(tmp_path / "o" / "W.npy").shape == (3, 1)  # no row dropped


def test_fit_bad_inputs_leave_nothing(tmp_path, capsys):
    def bad(name, content, *fragments, extra=()):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            path.write_text(content)
        argv = ["fit", path, "--rank", "1", "-q", "-o", tmp_path / "out", *extra]
        return assert_bad_input(capsys, argv, *fragments, untouched=tmp_path)

    line = bad("neg.csv", "1,2,3\n4,-5,6\n", "1 negative entry", "row 1, column 1")
    assert line.startswith("nmfkit fit: error: ")
    bad("words.csv", "1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number")
    bad("nan.csv", "1,2\n3,nan\n", "line 2, column 2 is 'nan'", "--missing")
    bad("ragged.csv", "1,2,3\n4,5\n", "line 2 has 2 cells where the first row has 3")
    bad("blob.csv", b"\x00\x01\x02", "not a text")
    bad("none.npy", None, "does not exist")
    np.savez(tmp_path / "two.npz", A=np.ones((2, 2)), B=np.ones((2, 2)))
    bad("two.npz", None, "--key")
    bad("x.xlsx", "", ".npy, .npz")
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [2.0, 3.0]]))
    bad("nan.npy", None, "1 missing (NaN) entries", "--missing")
    np.save(tmp_path / "ok.npy", np.ones((3, 3)))
    bad("ok.npy", None, "--missing fits the Frobenius loss only",
        extra=["--missing", "--beta-loss", "1"])  # fmt: skip
    bad("ok.npy", None, "--solver hals fits the Frobenius loss only",
        extra=["--solver", "hals", "--beta-loss", "0.5"])  # fmt: skip
    bad("ok.npy", None, "--index-col", extra=["--index-col", "0"])


def _npy_header_only(path, shape):
    from numpy.lib import format as npy_format

    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": shape}
        )
        f.write(b"\0" * 64)


def test_npy_header_claiming_too_much_is_refused_before_loading(tmp_path, capsys):
    from nmfkit.datasets._matrix import available_memory

    path = tmp_path / "huge.npy"
    _npy_header_only(path, (10**6, 10**6))
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "2", "-q", "-o", tmp_path / "o"],
        "huge.npy is truncated or corrupt",
        "shape (1000000, 1000000)",
        "7.3 TiB",
        untouched=tmp_path,
    )
    # A file as large as its header says, but larger than the memory: a sparse
    # file (no disk space used), refused from the header alone.
    n = int(np.sqrt(available_memory() / 8)) + 1000
    _npy_header_only(path, (n, n))
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 64 + 8 * n * n)
    assert_bad_input(
        capsys,
        ["fit", path, "--rank", "2", "-q", "-o", tmp_path / "o"],
        "more than the",
        "of memory available",
        untouched=tmp_path,
    )


def test_command_as_a_process(tmp_path):
    bad = tmp_path / "neg.csv"
    bad.write_text("1,-2\n3,4\n")
    result = subprocess.run(
        [sys.executable, "-m", "nmfkit.cli", "fit", str(bad), "--rank", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "negative" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neg.csv"]


def test_fit_report_shows_what_ran_the_factors_and_links_the_files(
    low_rank, tmp_path, capsys
):
    import re

    pytest.importorskip("matplotlib")
    path = tmp_path / "X.npy"
    np.save(path, low_rank)
    out = tmp_path / "out"
    code, _, err = run(capsys, "fit", path, "--rank", "3", "--report", "-q", "-o", out)
    assert code == 0, err
    page = (out / "report.html").read_text()
    assert re.findall(r'data-section="([^"]+)"', page) == [
        "data", "parameters", "results", "files", "figures",
    ]  # fmt: skip
    assert re.findall(r'data-figure="([^"]+)"', page) == [
        "factors", "convergence", "sparsity",
    ]  # fmt: skip
    links = re.findall(r'<a href="([^"]+)" data-file="([^"]+)"', page)
    assert [href for href, _ in links] == [
        "model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "fit.json",
    ]  # fmt: skip
    assert all((out / href).is_file() for href, _ in links)
    ran = json.loads((out / "fit.json").read_text())
    assert f"{ran['init']} (asked: auto)" in page
    assert f"{ran['solver']} (asked: auto)" in page
