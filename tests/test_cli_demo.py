"""``nmfkit demo`` end to end, and its report opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("skimage")
pytest.importorskip("gensim")

from nmfkit.cli import main  # noqa: E402

SECTIONS = [
    "faces-data",
    "faces-parameters",
    "faces-results",
    "faces-figures",
    "faces-files",
    "topics-data",
    "topics-parameters",
    "topics-results",
    "topics-words",
    "topics-figures",
    "topics-files",
    "series-data",
    "series-results",
    "series-files",
]
FIGURES = [
    "faces-samples",
    "faces-matched",
    "faces-components",
    "faces-reconstructions",
    "faces-convergence",
    "faces-sparsity",
    "topics-words-nmfkit",
    "topics-words-sklearn",
    "topics-coherence",
    "topics-convergence",
    "topics-sparsity",
    "series-templates",
    "series-activations",
    "series-reconstructions",
    "series-convergence",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "out"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "-o", str(folder), "--quiet", "--max-iter", "40"])
    return code, out.getvalue(), folder / "report.html"


def test_demo_prints_summary_and_writes_both_sets_and_one_report(demo_run):
    code, out, report = demo_run
    assert code == 0
    assert out.strip().endswith(f"report: {report}")
    folder = report.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "faces", "manifest.json", "report.html", "series", "topics",
    ]  # fmt: skip
    for name in ("model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "faces.json"):
        assert (folder / "faces" / name).is_file()
    for name in ("model.npz", "top_words.csv", "coherence.csv", "topics.json"):
        assert (folder / "topics" / name).is_file()
    series = folder / "series"
    T, A = np.load(series / "templates.npy"), np.load(series / "activations.npy")
    R = np.load(series / "reconstruction.npy")
    assert T.shape == (4, 24) and A.shape == (365, 4)
    np.testing.assert_allclose(R, A @ T, rtol=1e-12)
    assert "series: synthetic daily load profiles" in out
    W = np.load(folder / "faces" / "W.npy")
    assert W.shape == (100, 16)  # LFW's 100 faces, rank 16
    assert len(list((folder / "faces" / "components").iterdir())) == 16
    assert "faces: Labeled Faces in the Wild" in out
    assert "topics: Lee news corpus" in out
    assert "nmfkit MU, scikit-learn's settings" in out
    # the check fit reproduces scikit-learn's dictionary (faces.json's table)
    table = json.loads((folder / "faces" / "faces.json").read_text())["table"]
    row = dict(zip(table["header"], table["rows"][2], strict=True))
    assert row["matched cosine min"] >= 0.99 and row["matched cosine mean"] >= 0.99
    page = report.read_text()
    assert re.findall(r'data-section="([^"]+)"', page) == SECTIONS
    assert re.findall(r'data-figure="([^"]+)"', page) == FIGURES


def test_demo_refuses_to_overwrite_the_results(demo_run, capsys):
    _, _, report = demo_run
    before = report.stat().st_mtime_ns
    assert main(["demo", "-o", str(report.parent), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0] and "--force" in err[0]
    assert report.stat().st_mtime_ns == before


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.figures, self.images, self.body = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("data-section"))
        elif tag == "figure":
            self.figures.append(attrs.get("data-figure"))
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "body":
            self.body = attrs


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "headless Chromium is not installed (make test installs Debian's chromium "
        "package; it could not be installed here)"
    )


def _run_chromium(binary, profile, *args):
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=True)


def test_report_in_headless_chromium(demo_run, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    binary = _chromium()
    _, _, report = demo_run
    url = report.resolve().as_uri()
    dom = _run_chromium(
        binary, tmp_path / "p1", "--virtual-time-budget=5000", "--dump-dom", url
    ).stdout.decode("utf-8")
    parsed = _Dom()
    parsed.feed(dom)
    assert parsed.sections == SECTIONS
    assert parsed.figures == FIGURES
    assert len(parsed.images) == len(FIGURES)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    # Set by the page's script once loaded: every image was decoded.
    assert parsed.body.get("data-images-loaded") == f"{len(FIGURES)}/{len(FIGURES)}"

    shot = tmp_path / "shot.png"
    _run_chromium(
        binary, tmp_path / "p2", "--window-size=1280,2000", f"--screenshot={shot}", url
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (2000, 1280)
    gray = pixels.mean(axis=2)
    assert gray.std() > 20, "the screenshot is blank"
    # The header bar is the report's dark blue, the page below is light.
    assert np.allclose(pixels[10, 640], [0x1D, 0x35, 0x57], atol=3)
    assert len(np.unique(gray.astype(int))) > 50
