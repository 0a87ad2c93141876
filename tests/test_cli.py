"""The ``nmfkit`` command: help, shared options, faces, topics and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import nmfkit
from _cli_tools import (
    assert_bad_input,
    check_factor_files,
    manifest,
    read_named_csv,
    read_records,
    run,
    tree,
)
from nmfkit import datasets
from nmfkit.cli import SUBCOMMANDS, build_parser

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

COMMANDS = [
    "demo", "faces", "topics", "fit", "rank", "consensus", "ratings", "audio", "series"
]


# ------------------------------------------------------------------ help
def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMANDS)], ids=str)
def test_help_everywhere(argv, capsys):
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0 and out.startswith("usage: nmfkit")
    assert len(SUBCOMMANDS) == len(COMMANDS)


def test_every_option_shows_its_default():
    for name, parser in _subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.dest == "help":
                continue
            default = action.default
            if default is None or default is False:
                continue  # nothing to show: off, or "not given"
            text = parser.formatter_class(prog="x")._get_help_string(action)
            assert "(default:" in text, (name, action.option_strings)


def test_shared_options_have_the_same_names_everywhere():
    banned = {"--seed", "--l2", "--format", "--json"}
    shared = {"--rank", "--random-state", "--max-iter", "--tol", "--init"}
    for name, parser in _subparsers().items():
        options = {o for a in parser._actions for o in a.option_strings}
        assert not options & banned, name
        assert {"-o", "--output-dir", "--report", "--force", "-q"} <= options, name
        if name == "ratings":
            # one solver and a random start of its own: no --solver, no --init
            assert shared - {"--init"} <= options, name
            assert {"--l1-W", "--l2-W", "--l1-H", "--l2-H", "--l2-bias"} <= options
        elif name != "demo":
            assert shared - {"--rank"} <= options, name
        if name in ("fit", "rank"):
            assert {"--solver", "--l1-W", "--l2-W", "--l1-H", "--l2-H"} <= options


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from nmfkit.cli import build_parser\n"
        "parser = build_parser()\n"
        "parser.format_help()\n"
        "for sub in parser._actions[-1].choices.values(): sub.format_help()\n"
        "heavy = {'numpy', 'scipy', 'sklearn', 'matplotlib', 'pandas'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_usage_errors_are_one_line_with_the_cli_choices(capsys):
    line = assert_bad_input(capsys, ["fit", "x.npy"])
    assert line == (
        "nmfkit fit: error: the following arguments are required: --rank "
        "(see nmfkit fit --help)"
    )
    line = assert_bad_input(capsys, ["fit", "x.npy", "--rank", "2", "--solver", "x"])
    assert "(choose from 'auto', 'cd', 'hals', 'mu')" in line
    line = assert_bad_input(capsys, ["fit", "x.npy", "--rank", "2", "--init", "custom"])
    assert "'auto', 'random', 'nndsvd', 'nndsvda', 'nndsvdar'" in line
    assert "None" not in line
    line = assert_bad_input(
        capsys, ["fit", "x.npy", "--rank", "2", "--beta-loss", "1e308"]
    )
    assert "--beta-loss" in line and "from -100 to 100" in line
    assert_bad_input(capsys, ["faces", "--rank", "0"], "--rank", "0 is not >= 1")
    assert_bad_input(capsys, ["ratings", "r.csv", "--test-fraction", "1"], "[0, 1)")


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


def _png(path):
    return np.asarray(Image.open(path), dtype=np.float64)


def test_faces_hands_over_model_factors_and_images(image_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["faces", image_folder, "--shape", "16", "16", "--rank", "3"]
    code, stdout, err = run(
        capsys, *argv, "--max-iter", "30", "-o", out, "-q", "--no-report"
    )
    assert code == 0, err
    assert "faces: 12 images from" in stdout
    assert stdout.strip().splitlines()[-1].startswith(f"results in {out}/: W.npy")
    names = [f"face{i:02d}.png" for i in range(12)]
    summary = json.loads((out / "faces.json").read_text())
    assert summary["shape"] == [12, 256] and summary["image_shape"] == [16, 16]
    assert len(summary["table"]["rows"]) == 3
    model = nmfkit.load(out / "model.npz")
    H = model.components_
    W = np.load(out / "W.npy")
    pixels = [f"r{r}_c{c}" for r in range(16) for c in range(16)]
    components = check_factor_files(
        out, W, H, row_names=names, column_names=pixels, corner="image"
    )
    assert components == ["component_0", "component_1", "component_2"]
    assert model.n_iter_ == 30 and model.n_features_in_ == 256
    assert model.loss_ == pytest.approx(summary["table"]["rows"][0][2])
    # The component images are H's rows scaled to their maximum.
    for k in range(3):
        image = _png(out / "components" / f"component_{k:02d}.png")
        expected = 255 * H[k].reshape(16, 16) / H[k].max()
        assert np.abs(image - expected).max() <= 0.5 + 1e-9
    # The reconstructions are W H on the data's scale.
    X = datasets.load_image_folder(image_folder, shape=(16, 16)).data
    for i, name in enumerate(names):
        image = _png(out / "reconstructions" / f"{i:04d}-{name}.png")
        expected = 255 * np.clip((W @ H)[i].reshape(16, 16) / X.max(), 0, 1)
        assert np.abs(image - expected).max() <= 0.5 + 1e-9
    assert set(manifest(out)["files"]) == {
        p for p in tree(out) if (out / p).is_file() and p != "manifest.json"
    }
    # Corrupt image: refused by default (nothing written), skipped on request.
    (image_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    again = [*argv, "--max-iter", "5", "-q", "--no-report", "-o", tmp_path / "f2"]
    assert_bad_input(
        capsys, again, "cannot read the image", "broken.png", untouched=tmp_path
    )
    code, stdout, _ = run(capsys, *again, "--skip-bad-files")
    assert code == 0 and "skipped 1 unreadable file(s)" in stdout
    assert not (tmp_path / "f2" / "report.html").exists()


def test_faces_bad_inputs(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = ["-o", tmp_path / "out", "-q"]
    assert_bad_input(
        capsys, ["faces", empty, *out], "no image found in", untouched=tmp_path
    )
    assert_bad_input(
        capsys,
        ["faces", tmp_path / "missing", *out],
        "not a folder",
        untouched=tmp_path,
    )
    assert_bad_input(
        capsys,
        ["faces", "--builtin", "olivetti", "--data-home", empty, *out],
        "not available offline",
        "--download",
        untouched=tmp_path,
    )
    assert_bad_input(
        capsys,
        ["faces", "--rank", "500", *out],
        "--rank 500 is larger than the data allow",
        untouched=tmp_path,
    )


def test_faces_warns_like_fit_when_stopped_by_max_iter(image_folder, tmp_path, capsys):
    code, _, err = run(
        capsys, "faces", image_folder, "--shape", "8", "8", "--rank", "2",
        "--max-iter", "3", "-q", "--no-report", "-o", tmp_path / "o",
    )  # fmt: skip
    assert code == 0
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 3  # the three fits
    assert all(
        "stopped at --max-iter 3 before the objective's relative decrease fell "
        "below --tol 1e-05" in line
        for line in warnings
    )


def test_default_output_folder_is_new_each_run(
    image_folder, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["faces", image_folder, "--shape", "8", "8", "--rank", "2"]
    folders = []
    for _ in range(2):
        code, out, _ = run(capsys, *argv, "--max-iter", "3", "-q", "--no-report")
        assert code == 0
        folders.append(re.search(r"results in (\S+)/:", out).group(1))
    assert folders[0] != folders[1]
    assert sorted(p.name for p in (tmp_path / "nmfkit-results").iterdir()) == sorted(
        f.split("/")[-1] for f in folders
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


def test_topics_hand_over_topics_words_and_coherence(tmp_path, capsys):
    from nmfkit.topics import coherence, top_words

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
    common = ["--rank", "2", "--min-df", "1", "--max-iter", "50", "--n-words", "4"]
    sources = ([folder], [csv_path, "--column", "body", "--id-column", "id"], [jsonl])
    for n, source in enumerate(sources):
        out = tmp_path / f"t{n}"
        report = ["--report"] if n == 0 else ["--no-report"]
        code, stdout, err = run(
            capsys, "topics", *source, *common, *report, "-o", out, "-q"
        )
        assert code == 0, err
        assert "topic 0:" in stdout and "topic 1:" in stdout
        assert (out / "report.html").exists() == (n == 0)
    # the folder run: documents are the file names, words the vocabulary
    out = tmp_path / "t0"
    model = nmfkit.load(out / "model.npz")
    H, W = model.components_, np.load(out / "W.npy")
    _, vocabulary, _, _ = read_named_csv(out / "H.csv")
    check_factor_files(
        out, W, H, row_names=[f"d{i}.txt" for i in range(6)],
        column_names=vocabulary, corner="document",
    )  # fmt: skip
    assert read_named_csv(out / "W.csv")[1] == ["topic_0", "topic_1"]
    words, weights = top_words(H, np.array(vocabulary), 4)
    rows = read_records(out / "top_words.csv")
    assert [r["word"] for r in rows] == [w for topic in words for w in topic]
    np.testing.assert_array_equal([float(r["weight"]) for r in rows], weights.ravel())
    shares = read_records(out / "document_topics.csv")
    values = [[float(r[f"share_topic_{k}"]) for k in range(2)] for r in shares]
    totals = W.sum(axis=1, keepdims=True)
    expected = np.divide(W, totals, out=np.zeros_like(W), where=totals > 0)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    dominant = [
        f"topic_{k}" if t > 0 else ""
        for k, t in zip(W.argmax(1), totals[:, 0], strict=True)
    ]
    assert [r["dominant_topic"] for r in shares] == dominant
    tokens = datasets.vectorize_texts(
        datasets.load_text_folder(folder), min_df=1
    ).tokens
    scores = read_records(out / "coherence.csv")
    np.testing.assert_allclose(
        [float(r["npmi"]) for r in scores],
        coherence(words, tokens, "c_npmi"),
        rtol=1e-9,
    )
    page = (out / "report.html").read_text()
    assert 'data-table="topics-top-words"' in page
    # the CSV run: documents named by --id-column
    assert read_named_csv(tmp_path / "t1" / "W.csv")[2] == [str(i) for i in range(6)]
    # the two topics separate pets from markets
    pets = {"cat", "dog", "cats", "pets", "dogs"}
    assert sum(bool(pets & set(topic)) for topic in words) == 1


def test_topics_bad_inputs(tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    out = ["-o", tmp_path / "out", "-q"]
    assert_bad_input(
        capsys, ["topics", folder, *out], "no file matching '*.txt'", untouched=tmp_path
    )
    (folder / "a.txt").write_text(DOCS[0])
    (folder / "b.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00binary")
    assert_bad_input(
        capsys,
        ["topics", folder, *out],
        "b.txt is not a text file",
        "--skip-bad-files",
        untouched=tmp_path,
    )
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,b\n1,2\n")
    assert_bad_input(
        capsys, ["topics", csv_path, *out], "has no column 'text'", untouched=tmp_path
    )


def test_faces_and_fit_on_olivetti_from_the_shared_cache(
    sklearn_data_home, tmp_path, capsys
):
    code, _, err = run(
        capsys, "faces", "--builtin", "olivetti", "--data-home", sklearn_data_home,
        "--rank", "3", "--max-iter", "5", "--no-report", "-q", "-o", tmp_path / "of",
    )  # fmt: skip
    assert code == 0, err
    out = tmp_path / "of"
    W, H = np.load(out / "W.npy"), np.load(out / "H.npy")
    assert W.shape == (400, 3) and H.shape == (3, 4096)
    assert len(list((out / "reconstructions").iterdir())) == 400
    np.testing.assert_array_equal(nmfkit.load(out / "model.npz").components_, H)
    # the same images through nmfkit fit, from a .npy file
    faces = datasets.load_olivetti_faces(
        data_home=sklearn_data_home, download_if_missing=False
    )
    np.save(tmp_path / "olivetti.npy", faces.data)
    code, _, err = run(
        capsys, "fit", tmp_path / "olivetti.npy", "--rank", "6", "--max-iter", "20",
        "--tol", "0", "-q", "-o", tmp_path / "fit",
    )  # fmt: skip
    assert code == 0, err
    W, H = np.load(tmp_path / "fit" / "W.npy"), np.load(tmp_path / "fit" / "H.npy")
    summary = json.loads((tmp_path / "fit" / "fit.json").read_text())
    err_fro = np.linalg.norm(faces.data - W @ H)
    assert summary["measures"]["||X - WH||_F"] == pytest.approx(err_fro, rel=1e-9)
    assert summary["n_iter"] == 20


def test_ctrl_c_in_a_comparison_writes_nothing(image_folder, tmp_path, capsys):
    import os
    import signal
    import threading

    out = tmp_path / "out"
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, _, err = run(
            capsys, "faces", image_folder, "--shape", "16", "16", "--rank", "3",
            "--max-iter", "1000000", "--tol", "0", "-q", "--no-report", "-o", out,
        )  # fmt: skip
    finally:
        timer.cancel()
    assert code == 130
    assert err.strip() == (
        "nmfkit faces: interrupted; nothing written (an earlier output folder is "
        "unchanged)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
