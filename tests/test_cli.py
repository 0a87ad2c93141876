"""The ``nmfkit`` command end to end: faces, topics, fit, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nmfkit.cli import SUBCOMMANDS, build_parser, main

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_bad_input(capsys, argv, *fragments):
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "argv", [[], ["demo"], ["faces"], ["topics"], ["fit"]], ids=lambda a: " ".join(a)
)
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nmfkit")
    assert len(SUBCOMMANDS) >= 4


def test_usage_error_is_one_line_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "x.npy"])  # --rank is required
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "nmfkit fit: error: the following arguments are required: --rank "
        "(see nmfkit fit --help)"
    ]


def test_build_parser_is_extensible():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    extra = sub.add_parser("extra", help="added by another module")
    extra.set_defaults(func=lambda args: 7)
    args = parser.parse_args(["extra"])
    assert args.func(args) == 7


# ----------------------------------------------------------------- faces
@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    folder.mkdir()
    parts = rng.random((3, 16, 16))
    for i in range(12):
        image = np.tensordot(rng.random(3), parts, axes=1)
        Image.fromarray((255 * image / image.max()).astype(np.uint8)).save(
            folder / f"face{i:02d}.png"
        )
    return folder


def test_faces_on_an_image_folder(image_folder, tmp_path, capsys):
    report = tmp_path / "faces.html"
    code, out, _ = _run(
        capsys,
        "faces",
        str(image_folder),
        "--shape",
        "16",
        "16",
        "--rank",
        "3",
        "--max-iter",
        "30",
        "--report",
        str(report),
        "--quiet",
    )
    assert code == 0
    assert "faces: 12 images from" in out
    assert out.strip().endswith(f"report: {report}")
    page = report.read_text()
    for key in ("faces-data", "faces-results", "faces-matched", "faces-convergence"):
        assert f'"{key}"' in page
    # Corrupt image: refused by default, skipped and counted on request.
    (image_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    args = [
        "faces",
        str(image_folder),
        "--shape",
        "16",
        "16",
        "--rank",
        "3",
        "--max-iter",
        "5",
        "--report",
        str(tmp_path / "f2.html"),
        "-q",
    ]
    _assert_bad_input(capsys, args, "cannot read the image", "broken.png")
    assert not (tmp_path / "f2.html").exists()
    code, out, _ = _run(capsys, *args, "--skip-bad-files")
    assert code == 0
    assert "skipped 1 unreadable file(s)" in out


def test_faces_bad_inputs(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_bad_input(capsys, ["faces", str(empty), "-q"], "no image found in")
    _assert_bad_input(
        capsys, ["faces", str(tmp_path / "missing"), "-q"], "not a folder"
    )
    _assert_bad_input(
        capsys,
        ["faces", "--builtin", "olivetti", "--data-home", str(empty), "-q"],
        "not available offline",
        "--download",
    )
    _assert_bad_input(
        capsys,
        ["faces", "--rank", "500", "-q", "--report", str(tmp_path / "r.html")],
        "--rank 500 is larger than the data allow",
    )


def test_default_report_goes_to_a_new_file(image_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [
        "faces",
        str(image_folder),
        "--shape",
        "8",
        "8",
        "--rank",
        "2",
        "--max-iter",
        "3",
        "-q",
    ]
    paths = []
    for _ in range(2):
        code, out, _ = _run(capsys, *argv)
        assert code == 0
        paths.append(out.strip().splitlines()[-1].removeprefix("report: "))
    assert paths[0] != paths[1]
    assert sorted(p.name for p in (tmp_path / "nmfkit-reports").iterdir()) == sorted(
        p.split("/")[-1] for p in paths
    )


# ----------------------------------------------------------------- topics
DOCS = [
    "the cat sat on the mat with another cat",
    "dogs and cats are pets that people love",
    "the stock market fell as investors sold shares",
    "shares and bonds rallied on the market today",
    "my dog chased the cat around the garden",
    "investors bought bonds when the market opened",
]


def test_topics_on_folder_csv_and_jsonl(tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(DOCS):
        (folder / f"d{i}.txt").write_text(text)
    csv_path = tmp_path / "docs.csv"
    csv_path.write_text(
        "id,body\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(DOCS))
    )
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in DOCS))
    common = [
        "--rank",
        "2",
        "--min-df",
        "1",
        "--max-iter",
        "50",
        "--n-words",
        "4",
        "-q",
    ]
    for n, source in enumerate(
        ([str(folder)], [str(csv_path), "--column", "body"], [str(jsonl)])
    ):
        report = tmp_path / f"t{n}.html"
        code, out, err = _run(
            capsys, "topics", *source, *common, "--report", str(report)
        )
        assert code == 0, err
        assert "topic 0:" in out and "topic 1:" in out
        page = report.read_text()
        assert 'data-table="topics-top-words"' in page
        assert 'data-figure="topics-words-nmfkit"' in page
    # the two topics separate pets from markets
    topics = [line for line in out.splitlines() if line.startswith("  topic")]
    pets = {"cat", "dog", "cats", "pets", "dogs"}
    assert sum(bool(pets & set(line.split()[2:])) for line in topics) == 1


def test_topics_bad_inputs(tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    _assert_bad_input(capsys, ["topics", str(folder), "-q"], "no file matching '*.txt'")
    (folder / "a.txt").write_text(DOCS[0])
    (folder / "b.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00binary")
    report = tmp_path / "t.html"
    _assert_bad_input(
        capsys,
        ["topics", str(folder), "-q", "--report", str(report)],
        "b.txt is not a text file",
        "--skip-bad-files",
    )
    assert not report.exists()
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,b\n1,2\n")
    _assert_bad_input(capsys, ["topics", str(csv_path), "-q"], "has no column 'text'")


# ----------------------------------------------------------------- fit
@pytest.fixture
def low_rank():
    rng = np.random.default_rng(0)
    return rng.random((20, 2)) @ rng.random((2, 12))


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".mtx", ".sparse.npz"])
def test_fit_reads_every_format_and_saves_w_and_h(low_rank, suffix, tmp_path, capsys):
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(path, low_rank)
    elif suffix == ".npz":
        np.savez(path, X=low_rank)
    elif suffix == ".csv":
        np.savetxt(
            path, low_rank, delimiter=",", header="a,b,c,d,e,f,g,h,i,j,k,l", comments=""
        )
    elif suffix == ".mtx":
        scipy.io.mmwrite(path, sp.csr_matrix(low_rank))
    else:
        sp.save_npz(path, sp.csr_matrix(low_rank))
    out_dir = tmp_path / "out"
    code, out, err = _run(
        capsys,
        "fit",
        str(path),
        "--rank",
        "2",
        "--max-iter",
        "400",
        "--tol",
        "0",
        "-o",
        str(out_dir),
        "-q",
    )
    assert code == 0, err
    W, H = np.load(out_dir / "W.npy"), np.load(out_dir / "H.npy")
    assert W.shape == (20, 2) and H.shape == (2, 12)
    assert np.linalg.norm(low_rank - W @ H) / np.linalg.norm(low_rank) < 0.02
    summary = json.loads((out_dir / "fit.json").read_text())
    assert summary["shape"] == [20, 12] and summary["n_iter"] == 400
    # Never overwrite without --force.
    before = (out_dir / "W.npy").read_bytes()
    _assert_bad_input(
        capsys,
        ["fit", str(path), "--rank", "3", "-o", str(out_dir), "-q"],
        "already exists",
        "--force",
    )
    assert (out_dir / "W.npy").read_bytes() == before
    code, _, _ = _run(
        capsys, "fit", str(path), "--rank", "3", "-o", str(out_dir), "-q", "--force"
    )
    assert code == 0 and np.load(out_dir / "W.npy").shape == (20, 3)


def test_fit_csv_output_and_report(low_rank, tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, low_rank)
    report = tmp_path / "fit.html"
    code, out, _ = _run(
        capsys,
        "fit",
        str(path),
        "--rank",
        "2",
        "--format",
        "csv",
        "--l1-W",
        "0.1",
        "--report",
        str(report),
        "-q",
    )
    assert code == 0
    W = np.loadtxt(tmp_path / "x-nmf" / "W.csv", delimiter=",")
    assert W.shape == (20, 2) and (W >= 0).all()
    page = report.read_text()
    assert 'data-figure="convergence"' in page and 'data-figure="sparsity"' in page


def test_fit_bad_inputs(tmp_path, capsys):
    bad = tmp_path / "neg.csv"
    bad.write_text("1,2,3\n4,-5,6\n")
    line = _assert_bad_input(
        capsys,
        ["fit", str(bad), "--rank", "1", "-q"],
        "1 negative entry",
        "row 1, column 1",
    )
    assert line.startswith("nmfkit fit: error: ") and "X contains 1 negative" in line
    assert not (tmp_path / "neg-nmf" / "W.npy").exists()
    text = tmp_path / "words.csv"
    text.write_text("1,2\n3,abc\n")
    _assert_bad_input(capsys, ["fit", str(text), "--rank", "1", "-q"], "'abc' is not a")
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\x00\x01\x02")
    _assert_bad_input(capsys, ["fit", str(binary), "--rank", "1", "-q"], "not a text")
    _assert_bad_input(
        capsys,
        ["fit", str(tmp_path / "none.npy"), "--rank", "1", "-q"],
        "does not exist",
    )
    np.savez(tmp_path / "two.npz", A=np.ones((2, 2)), B=np.ones((2, 2)))
    _assert_bad_input(
        capsys, ["fit", str(tmp_path / "two.npz"), "--rank", "1", "-q"], "--key"
    )
    _assert_bad_input(
        capsys, ["fit", str(tmp_path / "x.xlsx"), "--rank", "1", "-q"], ".npy, .npz"
    )
    np.save(tmp_path / "ok.npy", np.ones((3, 3)))
    _assert_bad_input(
        capsys,
        [
            "fit",
            str(tmp_path / "ok.npy"),
            "--rank",
            "1",
            "-q",
            "--report",
            str(tmp_path / "no" / "r.html"),
        ],
        "does not exist; create it first",
    )
    assert not (tmp_path / "ok-nmf").exists()


def test_installed_command_exit_code_and_stderr(tmp_path):
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
