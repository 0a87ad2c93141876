"""The audio application: its files, its summary and its report in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest
import scipy.io.wavfile

pytest.importorskip("matplotlib")
pytest.importorskip("mir_eval")

from nmfkit._atomic import OutputExistsError  # noqa: E402
from nmfkit.apps._audio import AUDIO_SUMMARY_HEADER, separate_audio  # noqa: E402
from nmfkit.datasets import make_music_mixture  # noqa: E402
from nmfkit.report import Report  # noqa: E402

FILES = [
    "activations.csv",
    "activations.npy",
    "manifest.json",
    "report.html",
    "source_1.wav",
    "source_2.wav",
    "source_3.wav",
    "summary.json",
    "templates.csv",
    "templates.npy",
]


def _run(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)  # ConvergenceWarning
        return separate_audio(**kwargs)


@pytest.fixture(scope="module")
def music():
    return make_music_mixture(duration=1.0)


@pytest.fixture(scope="module")
def run(music, tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio") / "out"
    result = _run(source=music, rank=6, max_iter=40, output_dir=folder)
    return result, folder


def test_writes_every_file(run, music):
    result, folder = run
    assert sorted(p.name for p in folder.iterdir()) == FILES
    k, n_freqs = 6, 257
    templates = np.load(folder / "templates.npy")
    activations = np.load(folder / "activations.npy")
    assert templates.shape == (k, n_freqs)
    assert activations.shape == (result.spectrogram.values.shape[1], k)
    np.testing.assert_array_equal(templates, result.factors.templates)
    table = np.genfromtxt(folder / "templates.csv", delimiter=",", names=True)
    assert table.dtype.names[0] == "frequency_hz" and len(table.dtype.names) == k + 1
    np.testing.assert_allclose(table["frequency_hz"], result.spectrogram.frequencies)
    np.testing.assert_allclose(table["component_2"], templates[1], rtol=1e-15)
    acts = np.genfromtxt(folder / "activations.csv", delimiter=",", names=True)
    np.testing.assert_allclose(acts["time_s"], result.spectrogram.times)


def test_wav_files_add_up_to_the_mixture(run, music):
    _, folder = run
    signals = []
    for j in range(3):
        rate, x = scipy.io.wavfile.read(folder / f"source_{j + 1}.wav")
        assert rate == music.sample_rate and x.dtype == np.float32
        signals.append(x.astype(np.float64))
    # float32 files: rounding of each sample at 6e-8 relative.
    np.testing.assert_allclose(np.sum(signals, axis=0), music.mixture, atol=1e-6)


def test_summary_names_sources_after_their_references(run):
    result, folder = run
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["rank"] == 6 and summary["grouping"] == "clustered templates"
    names = [s["name"] for s in summary["sources"]]
    assert sorted(names) == ["bass", "drums", "lead"]
    used = sorted(c for s in summary["sources"] for c in s["components"])
    assert used == list(range(6))
    for entry, row in zip(summary["sources"], result.rows, strict=True):
        j = entry["reference"]
        assert entry["sdr"] == pytest.approx(result.scores["sdr"][j])
        assert row[0] == entry["name"] and row[3] == pytest.approx(entry["sdr"])
    assert result.header == AUDIO_SUMMARY_HEADER
    assert summary["files"] == [
        "templates.csv", "templates.npy", "activations.csv", "activations.npy",
        "source_1.wav", "source_2.wav", "source_3.wav", "summary.json",
    ]  # fmt: skip
    assert result.files == [*summary["files"], "report.html"]


def test_refuses_to_overwrite_before_any_work(run, music):
    _, folder = run
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    with pytest.raises(OutputExistsError, match="already exists"):
        _run(source=music, rank=6, max_iter=5, output_dir=folder)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_sections_go_into_a_given_report_and_arrays_need_a_rate(music):
    report = Report("demo")
    result = _run(
        source=music.mixture,
        rank=4,
        sample_rate=music.sample_rate,
        groups=[[0, 1], [2, 3]],
        max_iter=10,
        report=report,
        prefix="sound",
    )
    assert result.report is report and result.scores is None
    assert result.source_names == ["source 1", "source 2"]
    page = report.render()
    keys = re.findall(r'data-section="([^"]+)"', page)
    assert keys == ["sound-data", "sound-model", "sound-sources"]
    assert len(re.findall(r"<audio ", page)) == 3
    with pytest.raises(ValueError, match="needs its sample_rate"):
        separate_audio(music.mixture, 4)
    with pytest.raises(ValueError, match="3 source names for 2 sources"):
        separate_audio(music, 4, n_sources=2, references=music.sources[:2],
                       source_names=["a", "b", "c"], report=False)  # fmt: skip
    with pytest.raises(ValueError, match="2 reference sources for 3 sources"):
        separate_audio(music, 4, n_sources=3, references=music.sources[:2])


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.audio, self.body = [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "audio":
            self.audio.append(attrs)
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


def test_report_players_decode_in_headless_chromium(run, tmp_path):
    binary = _chromium()
    _, folder = run
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        (folder / "report.html").resolve().as_uri(),
    ]
    out = subprocess.run(command, capture_output=True, timeout=120, check=True)
    dom = _Dom()
    dom.feed(out.stdout.decode("utf-8"))
    assert [a["data-audio"] for a in dom.audio] == [
        "audio-mixture",
        "audio-source-1",
        "audio-source-2",
        "audio-source-3",
    ]
    for player in dom.audio:
        assert player["src"].startswith("data:audio/wav;base64,")
        # The browser decoded the WAV header: its duration is the signal's.
        assert float(player["data-duration"]) == pytest.approx(1.0, abs=1e-3)
        assert float(player["data-expected-duration"]) == 1.0
    assert dom.body.get("data-audio-loaded") == "4/4"
    assert dom.body.get("data-images-loaded") == "5/5"


def test_too_many_sources_are_refused_before_the_fit(music):
    with pytest.raises(ValueError, match=r"n_sources=7 is not valid.*rank \(6\)"):
        separate_audio(music.mixture, 6, sample_rate=8000, n_sources=7, report=False)
