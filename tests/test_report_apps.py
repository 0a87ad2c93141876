"""The applications' reports tell the truth: numbers, curves, order, links.

Reports are built with the section builders of :mod:`nmfkit.apps._sections`
on real data (scikit-image's faces, gensim's Lee corpus), their tables read
back from the HTML and checked against the objective computed here from the
factors with NumPy, and every report is opened in headless Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

pytest.importorskip("matplotlib")
pytest.importorskip("skimage")

from sklearn.decomposition import NMF as SklearnNMF  # noqa: E402

from nmfkit import NMF  # noqa: E402
from nmfkit._init import initialize_factors  # noqa: E402
from nmfkit._objective import Penalties  # noqa: E402
from nmfkit.apps import compare_with_sklearn  # noqa: E402
from nmfkit.apps._compare import _fit, objective_path, replay_points  # noqa: E402
from nmfkit.apps._sections import (  # noqa: E402
    add_comparison_sections,
    add_faces_figures,
    add_fit_sections,
    add_model_figures,
    add_result_files,
    add_topics_sections,
    score_topics,
)
from nmfkit.datasets import load_lfw_subset  # noqa: E402
from nmfkit.report import Report, format_number_html  # noqa: E402
from test_cli_demo import _chromium, _Dom, _run_chromium  # noqa: E402

PENALTIES = dict(l1_W=2.0, l2_W=0.1, l2_H=0.1)


def course_objective(X, W, H, l1_W, l2_W, l2_H):
    """The course's loss, written out with NumPy (independent of nmfkit)."""
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return (
        0.5 * np.sum((X - W @ H) ** 2)
        + l1_W * W.sum()
        + 0.5 * l2_W * np.sum(W**2)
        + 0.5 * l2_H * np.sum(H**2)
    )


def shares_of(W, H):
    mass = np.array([np.outer(W[:, k], H[k]).sum() for k in range(W.shape[1])])
    return mass / mass.sum()


class _Tables(HTMLParser):
    """Tables of a page: ``tables[key]`` is a list of rows of cells.

    A cell is ``(text, value)``: its inner HTML and its ``data-value`` (None
    for text cells). Also collects links and figures.
    """

    def __init__(self):
        super().__init__()
        self.tables, self.links, self.figures = {}, [], []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs["data-table"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = ["", attrs.get("data-value")]
        elif tag == "a":
            self.links.append(attrs)
        elif tag == "figure":
            self.figures.append(attrs["data-figure"])
        elif self._cell is not None:
            self._cell[0] += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(tuple(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif self._cell is not None and tag != "a":
            self._cell[0] += f"</{tag}>"

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def _parse(path):
    parser = _Tables()
    parser.feed(Path(path).read_text())
    for key in parser.tables:  # drop the header rows (no td)
        parser.tables[key] = [row for row in parser.tables[key] if row]
    return parser


def _values(table, column):
    return [float(row[column][1]) for row in table]


# ------------------------------------------------------------------ reports
@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    images = load_lfw_subset()
    X = images.data
    comparison = compare_with_sklearn(
        X, n_components=8, max_iter=40, tol=1e-5, **PENALTIES
    )
    folder = tmp_path_factory.mktemp("faces")
    fit = comparison.fits["nmfkit"]
    np.save(folder / "W.npy", fit.W)
    np.save(folder / "H.npy", fit.H)
    report = Report("nmfkit: faces")
    add_comparison_sections(report, "faces", "Faces", comparison, {"images": len(X)})
    add_faces_figures(report, "faces", comparison, images)
    add_result_files(
        report, [(folder / "W.npy", "codes W"), (folder / "H.npy", "dictionary H")]
    )
    path = report.write(folder / "report.html")
    W0, H0 = initialize_factors(X, 8, "nndsvda", random_state=0)
    return Bunch(X=X, comparison=comparison, path=path, W0=W0, H0=H0)


@pytest.fixture(scope="module")
def topics(tmp_path_factory):
    pytest.importorskip("gensim")
    from nmfkit.datasets import load_lee_corpus, vectorize_texts

    lee = load_lee_corpus()
    corpus = vectorize_texts(lee.texts[:120])
    penalties = dict(l1_W=0.05, l2_W=0.01, l2_H=0.01)
    comparison = compare_with_sklearn(
        corpus.data, n_components=5, max_iter=40, tol=1e-5, **penalties
    )
    words, weights, scores = score_topics(comparison, corpus, n_words=8)
    report = Report("nmfkit: topics")
    add_comparison_sections(report, "topics", "Topics", comparison, {"documents": 120})
    add_topics_sections(report, "topics", comparison, corpus, words, weights, scores)
    path = report.write(tmp_path_factory.mktemp("topics") / "report.html")
    return Bunch(
        corpus=corpus,
        comparison=comparison,
        words=words,
        scores=scores,
        path=path,
        penalties=penalties,
    )


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.random((50, 4)) @ rng.random((4, 30)) + 0.01 * rng.random((50, 30))
    model = NMF(4, max_iter=200, random_state=0, l1_W=0.01)
    W = model.fit_transform(X)
    folder = tmp_path_factory.mktemp("fit")
    for name, array in (("W.csv", W), ("H.csv", model.components_)):
        np.savetxt(folder / name, array, delimiter=",")
    report = Report("nmfkit: fit", subtitle="X.npy")
    add_fit_sections(
        report,
        X,
        W,
        model,
        source="X.npy",
        seconds=0.25,
        ran={"solver": "cd", "init": "nndsvda"},
        files=[(folder / "W.csv", "codes W"), (folder / "H.csv", "dictionary H")],
        sample_names=[f"row {i}" for i in range(50)],
        feature_names=[f"col {j}" for j in range(30)],
    )
    path = report.write(folder / "report.html")
    return Bunch(X=X, W=W, model=model, path=path)


def test_a_fit_that_cannot_be_replayed_gets_no_curve_and_says_why():
    rng = np.random.default_rng(0)
    X = rng.random((30, 20))
    W0, H0 = initialize_factors(X, 4, "random", random_state=0)
    # Shuffled HALS draws a new order in every chunk: chunks do not retrace it.
    model = NMF(
        4, solver="cd", shuffle=True, random_state=0, init="custom", max_iter=40, tol=0
    )
    record = _fit("shuffled", model, X, W0, H0, Penalties(l1_W=0.1))
    assert record.curve is None
    assert record.curve_note.startswith("not shown: replaying the fit ended at")
    comparison = compare_with_sklearn(X, n_components=3, max_iter=15, curves=False)
    assert comparison.fits["nmfkit"].curve is not None
    for key in ("sklearn", "check"):
        assert comparison.fits[key].curve is None
        assert "curves=False" in comparison.fits[key].curve_note
    report = Report("r")
    add_model_figures(report.section("figures"), "x", comparison)
    page = report.render()
    assert "scikit-learn MU: not shown: its curve was not recomputed" in page
    assert 'data-figure="x-convergence"' in page


# ------------------------------------------------------- the faces report
def test_summary_table_holds_the_objective_of_the_factors(faces):
    page = _parse(faces.path)
    rows = page.tables["faces-summary"]
    records = list(faces.comparison.fits.values())
    assert [row[0][0] for row in rows] == [r.label for r in records]
    for row, record in zip(rows, records, strict=True):
        expected = course_objective(faces.X, record.W, record.H, **PENALTIES)
        assert float(row[2][1]) == pytest.approx(expected, rel=1e-10)
        assert row[2][0] == format_number_html(expected)  # what the reader sees
        residual = np.linalg.norm(faces.X - record.W @ record.H)
        assert float(row[1][1]) == pytest.approx(residual, rel=1e-10)
        assert int(row[4][1]) == record.n_iter
        assert float(row[5][1]) == pytest.approx(100 * np.mean(record.W == 0))
    # nmfkit minimizes this objective; scikit-learn and the check do not.
    objectives = [float(row[2][1]) for row in rows]
    assert objectives[0] < objectives[1]
    assert objectives[2] == pytest.approx(objectives[1], rel=1e-6)


def test_every_curve_is_on_the_shared_objective(faces):
    X, W0, H0 = faces.X, faces.W0, faces.H0
    fits = faces.comparison.fits
    start = course_objective(X, W0, H0, **PENALTIES)
    for record in fits.values():
        assert record.curve is not None, record.curve_note
        assert record.curve[0, 0] == 0
        assert record.curve[0, 2] == pytest.approx(start, rel=1e-10)
        assert record.curve[-1, 0] == record.n_iter
        assert record.curve[-1, 2] == pytest.approx(record.objective, rel=1e-9)
        assert np.all(np.diff(record.curve[:, 1]) >= 0)  # seconds
    # nmfkit's own history is already on this objective, at every iteration.
    np.testing.assert_array_equal(fits["nmfkit"].curve, fits["nmfkit"].history)
    # scikit-learn's curve: independent fits of k iterations from (W0, H0),
    # not warm-started, scored here.
    curve = fits["sklearn"].curve
    for k in (1, int(curve[len(curve) // 2, 0]), fits["sklearn"].n_iter):
        model = SklearnNMF(8, solver="mu", init="custom", max_iter=k, tol=0)
        W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
        expected = course_objective(X, W, model.components_, **PENALTIES)
        assert curve[curve[:, 0] == k, 2][0] == pytest.approx(expected, rel=1e-9)
    # The check reproduces scikit-learn iterate for iterate.
    check = fits["check"].curve
    common = np.intersect1d(check[:, 0], curve[:, 0])
    np.testing.assert_allclose(
        check[np.isin(check[:, 0], common), 2],
        curve[np.isin(curve[:, 0], common), 2],
        rtol=1e-6,
    )
    assert "replayed" in fits["sklearn"].curve_note


def test_objective_path_replays_only_custom_starts(faces):
    with pytest.raises(ValueError, match="init='custom'"):
        objective_path(SklearnNMF(8), faces.X, faces.W0, faces.H0, n_iter=3)
    with pytest.raises(ValueError, match=r"points must lie in \[0, 3\]"):
        model = SklearnNMF(8, init="custom")
        objective_path(model, faces.X, faces.W0, faces.H0, n_iter=3, points=[5])
    points = replay_points(300)
    assert points[0] == 0 and points[-1] == 300 and 1 in points
    assert 20 <= len(points) <= 32 and np.all(np.diff(points) > 0)


def test_faces_components_are_sorted_and_files_linked(faces):
    page = _parse(faces.path)
    assert page.figures == [
        "faces-samples",
        "faces-matched",
        "faces-components",
        "faces-reconstructions",
        "faces-convergence",
        "faces-sparsity",
    ]
    assert [(a["href"], a["data-file"]) for a in page.links if "data-file" in a] == [
        ("W.npy", "W.npy"),
        ("H.npy", "H.npy"),
    ]


# ------------------------------------------------------ the topics report
def test_topic_table_is_sorted_by_share_with_coherence_per_topic(topics):
    from nmfkit.topics import coherence

    page = _parse(topics.path)
    rows = page.tables["topics-top-words"]
    fit = topics.comparison.fits["nmfkit"]
    shares = shares_of(fit.W, fit.H)
    order = [int(row[0][1]) for row in rows]
    assert order == np.argsort(-shares, kind="stable").tolist()
    np.testing.assert_allclose(_values(rows, 1), 100 * shares[order], rtol=1e-10)
    assert [row[1][0] for row in rows] == [f"{100 * shares[k]:.2f}" for k in order]
    vocabulary = topics.corpus.vocabulary
    expected_words = [vocabulary[np.argsort(-fit.H[k])[:8]].tolist() for k in order]
    assert [row[2][0].split() for row in rows] == expected_words
    npmi = coherence(expected_words, topics.corpus.tokens, "c_npmi")
    np.testing.assert_allclose(_values(rows, 3), npmi, rtol=1e-12)
    assert all(re.fullmatch(r"-?\d\.\d{3}", row[3][0]) for row in rows)
    objective = _parse(topics.path).tables["topics-summary"][0][2][1]
    assert float(objective) == pytest.approx(
        course_objective(topics.corpus.data, fit.W, fit.H, **topics.penalties),
        rel=1e-9,
    )
    assert page.figures == [
        "topics-words-nmfkit",
        "topics-words-sklearn",
        "topics-coherence",
        "topics-convergence",
        "topics-sparsity",
    ]


# --------------------------------------------------------- the fit report
def test_fit_report_lists_what_matters_and_draws_W_and_H(fit):
    page = _parse(fit.path)
    parameters = {row[0][0]: row[1] for row in page.tables["parameters"]}
    assert parameters["solver"][0] == "cd (asked: auto)"
    assert parameters["init"][0] == "nndsvda (asked: auto)"
    assert float(parameters["l1_W"][1]) == 0.01
    assert len(parameters) < len(fit.model.get_params())
    every = page.tables["all-parameters"]
    assert len(every) == len(fit.model.get_params())
    results = {row[0][0]: row[1] for row in page.tables["results"]}
    H = fit.model.components_
    expected = course_objective(fit.X, fit.W, H, l1_W=0.01, l2_W=0.0, l2_H=0.0)
    assert float(results["objective (loss_)"][1]) == pytest.approx(expected, rel=1e-9)
    residual = np.linalg.norm(fit.X - fit.W @ H)
    assert float(results["||X - WH||_F"][1]) == pytest.approx(residual, rel=1e-9)
    components = page.tables["components"]
    shares = shares_of(fit.W, H)
    assert [int(r[0][1]) for r in components] == np.argsort(-shares).tolist()
    assert page.figures == ["factors", "convergence", "sparsity"]
    assert {a["data-file"] for a in page.links if "data-file" in a} == {
        "W.csv",
        "H.csv",
    }


# ------------------------------------------------------ headless Chromium
@pytest.mark.parametrize("name", ["faces", "topics", "fit"])
def test_reports_in_headless_chromium(name, request, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    binary = _chromium()
    built = request.getfixturevalue(name)
    url = built.path.resolve().as_uri()
    dom = _run_chromium(
        binary, tmp_path / "p1", "--virtual-time-budget=5000", "--dump-dom", url
    ).stdout.decode("utf-8")
    parsed = _Dom()
    parsed.feed(dom)
    n = len(parsed.figures)
    assert n >= 3 and len(parsed.images) == n
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert parsed.body.get("data-images-loaded") == f"{n}/{n}"  # all decoded
    links = _parse(built.path).links
    for link in (a for a in links if "data-file" in a):
        target = built.path.parent / urllib.parse.unquote(link["href"])
        assert target.is_file(), link
    shot = tmp_path / "shot.png"
    _run_chromium(
        binary, tmp_path / "p2", "--window-size=1280,2400", f"--screenshot={shot}", url
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.mean(axis=2).std() > 20, "the screenshot is blank"
    keep = os.environ.get("NMFKIT_REPORT_SCREENSHOTS")
    if keep:  # for reviewing the pages by eye
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"{name}.png")
        shutil.copy(built.path, Path(keep) / f"{name}.html")
