"""Recordings: the loader, the synthetic load profiles and the series application."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nmfkit import NMF
from nmfkit._atomic import OutputExistsError
from nmfkit.datasets import load_recordings, make_load_profiles
from nmfkit.matching import match_components


# ----------------------------------------------------------------- loader
def test_csv_with_header_and_names(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("name,t0,t1,t2\nmon,1,2,3\ntue,4,5,6.5\n")
    rec = load_recordings(path)
    np.testing.assert_array_equal(rec.data, [[1, 2, 3], [4, 5, 6.5]])
    assert rec.names == ["mon", "tue"] and rec.times == ["t0", "t1", "t2"]
    assert rec.name == "rec"


def test_csv_without_header_or_names_and_tsv(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2\n3,4\n\n5,6\n")
    rec = load_recordings(path)
    assert rec.data.shape == (3, 2) and rec.names == ["row 1", "row 2", "row 3"]
    assert rec.times == ["0", "1"]
    tsv = tmp_path / "named.tsv"
    tsv.write_text("a\t1\t2\nb\t3\t4\n")
    rec = load_recordings(tsv)
    assert rec.names == ["a", "b"] and rec.data.tolist() == [[1, 2], [3, 4]]
    header = tmp_path / "numeric-times.csv"
    header.write_text(",0,30,60\nx,1,2,3\n")  # a header of numbers, empty corner
    rec = load_recordings(header)
    assert rec.times == ["0", "30", "60"] and rec.names == ["x"]


def test_npy_rows(tmp_path):
    path = tmp_path / "rec.npy"
    np.save(path, np.arange(6.0).reshape(2, 3))
    rec = load_recordings(path)
    np.testing.assert_array_equal(rec.data, np.arange(6.0).reshape(2, 3))
    np.save(path, np.arange(4.0))
    assert load_recordings(path).data.shape == (1, 4)  # one recording


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.csv", "1,2\n3,x\n", "line 2: 'x' is not a number"),
        ("a.csv", "1,2\n3\n", "different lengths"),
        ("a.csv", "", "is empty"),
        ("a.csv", "1,nan\n", "recording 1, time point 2 is not a finite"),
        ("a.txt", "1,2\n", "must end in one of"),
    ],
)
def test_loader_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_recordings(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_recordings(tmp_path / "none.csv")


# ----------------------------------------------------------------- profiles
def test_load_profiles_have_the_documented_structure():
    clean = make_load_profiles(noise=0.0)
    assert clean.data.shape == (365, 24) and clean.templates.shape == (4, 24)
    np.testing.assert_allclose(clean.data, clean.weights @ clean.templates)
    np.testing.assert_allclose(clean.templates.max(axis=1), 1.0)
    assert clean.names[0] == "2023-01-02" and clean.times[7] == "07:00"
    peaks = [clean.times[i] for i in clean.templates.argmax(axis=1)]
    assert peaks[1] == "07:00" and peaks[3] in ("19:00", "20:00")
    assert 0 <= clean.templates[0].argmax() <= 4  # night heating
    # Office hours weigh 1 on weekdays, 0.05 on weekends (times the daily factor).
    office = clean.weights[:, 2]
    assert (
        np.median(office[clean.weekend]) < 0.1 < 0.8 < np.median(office[~clean.weekend])
    )
    noisy = make_load_profiles()
    assert np.all(noisy.data > 0)
    np.testing.assert_array_equal(noisy.data, make_load_profiles().data)
    half_hourly = make_load_profiles(points_per_day=48, n_days=10)
    assert half_hourly.data.shape == (10, 48) and half_hourly.times[1] == "00:30"


def test_nmf_recovers_the_generating_shapes():
    profiles = make_load_profiles()
    # NNDSVD's zeros are no trap for HALS (solver "auto"); NNDSVDA's fill
    # lands in a worse local minimum on these data (matched cosine 0.91)
    model = NMF(4, init="nndsvd", max_iter=1000, tol=1e-6)
    model.fit(profiles.data)
    _, _, cosine = match_components(profiles.templates, model.components_)
    assert cosine.min() > 0.95, cosine


# ----------------------------------------------------------------- the app
@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    from nmfkit.apps._series import decompose_series

    folder = tmp_path_factory.mktemp("series") / "out"
    profiles = make_load_profiles()
    return decompose_series(profiles, 4, output_dir=folder), folder, profiles


def test_series_writes_templates_activations_and_reconstructions(series_run):
    result, folder, profiles = series_run
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [f"{s}.{e}" for s in ("templates", "activations", "reconstruction")
         for e in ("csv", "npy")] + ["summary.json", "report.html", "manifest.json"]
    )  # fmt: skip
    T, A = np.load(folder / "templates.npy"), np.load(folder / "activations.npy")
    R = np.load(folder / "reconstruction.npy")
    assert T.shape == (4, 24) and A.shape == (365, 4)
    np.testing.assert_allclose(R, A @ T)
    np.testing.assert_allclose(T.max(axis=1), 1.0)
    model = result.model  # the same product as nmfkit's W H
    np.testing.assert_allclose(R, model.transform(profiles.data) @ model.components_,
                               rtol=1e-3, atol=1e-3)  # fmt: skip
    header = (folder / "activations.csv").read_text().splitlines()[0]
    assert header == "recording,template_1,template_2,template_3,template_4"
    lines = (folder / "reconstruction.csv").read_text().splitlines()
    assert lines[0].startswith("recording,00:00,01:00") and len(lines) == 366
    assert lines[1].startswith("2023-01-02,")
    summary = json.loads((folder / "summary.json").read_text())
    rel = np.linalg.norm(profiles.data - R) / np.linalg.norm(profiles.data)
    assert summary["relative_error"] == pytest.approx(rel)
    assert min(summary["matched_cosine_with_given_templates"]) > 0.95
    np.testing.assert_allclose(
        result.errors,
        np.linalg.norm(profiles.data - R, axis=1)
        / np.linalg.norm(profiles.data, axis=1),
    )


def test_series_report_sections(series_run):
    _, folder, _ = series_run
    page = (folder / "report.html").read_text()
    assert re.findall(r'data-section="([^"]+)"', page) == [
        "series-data",
        "series-results",
        "series-files",
    ]
    assert re.findall(r'data-figure="([^"]+)"', page) == [
        "series-templates",
        "series-activations",
        "series-reconstructions",
        "series-convergence",
    ]
    assert 'data-table="series-truth"' in page


def test_series_refuses_bad_input_and_overwriting(series_run, tmp_path):
    from nmfkit.apps._series import decompose_series

    _, folder, profiles = series_run
    with pytest.raises(OutputExistsError, match="already exists"):
        decompose_series(profiles, 4, output_dir=folder)
    bad = profiles.data.copy()
    bad[3, 5] = -1.0
    with pytest.raises(ValueError, match=r"recording 'row 4' has a negative value"):
        decompose_series(bad, 2, report=False)
    with pytest.raises(ValueError, match="2 names"):
        decompose_series(profiles.data, 2, names=["a", "b"], report=False)
    path = tmp_path / "rec.csv"
    path.write_text("day,a,b,c\nd1,1,2,3\nd2,2,4,6.5\nd3,0,1,1\n")
    result = decompose_series(path, 2, report=False)
    assert result.names == ["d1", "d2", "d3"] and result.times == ["a", "b", "c"]
    assert result.files == [] and result.report is None
