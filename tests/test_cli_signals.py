"""``nmfkit audio`` and ``nmfkit series`` end to end: files read back, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser

import numpy as np
import pytest
import scipy.io.wavfile

pytest.importorskip("matplotlib")
pytest.importorskip("mir_eval")

from _cli_tools import (  # noqa: E402
    assert_bad_input,
    manifest,
    read_named_csv,
    run,
    tree,
)
from nmfkit import NMF  # noqa: E402
from nmfkit.audio import spectrogram  # noqa: E402
from nmfkit.datasets import make_load_profiles, make_music_mixture  # noqa: E402

AUDIO_FILES = [
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
SERIES_FILES = [
    "activations.csv",
    "activations.npy",
    "manifest.json",
    "reconstruction.csv",
    "reconstruction.npy",
    "report.html",
    "summary.json",
    "templates.csv",
    "templates.npy",
]


def kl_divergence(X, Y):
    """Generalized Kullback-Leibler divergence, sum x log(x / y) - x + y."""
    return float(np.sum(X * np.log(X / Y) - X + Y))


# -------------------------------------------------------------------- audio
@pytest.fixture(scope="module")
def audio_run(tmp_path_factory):
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("audio") / "out"
    out, err = io.StringIO(), io.StringIO()
    from nmfkit.cli import main

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["audio", "--rank", "6", "--max-iter", "40", "-q", "-o", str(folder)]
        )
    return code, out.getvalue(), err.getvalue(), folder


def test_audio_on_the_builtin_mixture_writes_every_file(audio_run):
    code, out, err, folder = audio_run
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == AUDIO_FILES
    listed = manifest(folder)
    assert listed["command"] == "audio"
    assert sorted(listed["files"]) == sorted(set(AUDIO_FILES) - {"manifest.json"})
    assert "bass" in out and "SDR dB" in out and f"report: {folder}" in out
    # 40 iterations do not converge: the warning every command gives.
    assert "the fit stopped at --max-iter 40" in err


def test_audio_templates_and_activations_are_the_model(audio_run):
    _, _, _, folder = audio_run
    music = make_music_mixture()
    T = np.load(folder / "templates.npy")
    A = np.load(folder / "activations.npy")
    spec = spectrogram(music.mixture, music.sample_rate, kind="magnitude")
    X = spec.values.T  # frames x frequencies
    assert T.shape == (6, X.shape[1]) and A.shape == (X.shape[0], 6)
    np.testing.assert_allclose(T.max(axis=1), 1.0)  # each scaled to its peak
    corner, names, freqs, values = read_named_csv(folder / "templates.csv")
    assert corner == "frequency_hz" and names == [f"component_{j}" for j in range(1, 7)]
    np.testing.assert_array_equal(values, T.T)
    np.testing.assert_allclose([float(f) for f in freqs], spec.frequencies)
    corner, names, times, values = read_named_csv(folder / "activations.csv")
    assert corner == "time_s" and len(names) == 6
    np.testing.assert_array_equal(values, A)
    np.testing.assert_allclose([float(t) for t in times], spec.times)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["rank"] == 6 and summary["beta"] == 1.0 and summary["n_iter"] == 40
    # The recorded objective is the KL divergence of the spectrogram from A T.
    floor = 1e-12 * X.max()
    expected = kl_divergence(np.maximum(X, floor), A @ T)
    assert summary["objective"] == pytest.approx(expected, rel=1e-6)


def test_audio_wav_files_add_up_to_the_mixture(audio_run):
    _, _, _, folder = audio_run
    music = make_music_mixture()
    signals = []
    for j in range(1, 4):
        rate, x = scipy.io.wavfile.read(folder / f"source_{j}.wav")
        assert rate == music.sample_rate and x.dtype == np.float32
        signals.append(x.astype(np.float64))
    total = np.sum(signals, axis=0)
    # Each float32 sample is rounded at 2**-24 relative, three of them summed.
    bound = 3 * 2.0**-24 * np.max(np.abs(signals)) + 1e-12
    assert np.max(np.abs(total - music.mixture)) <= bound
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(s["name"] for s in summary["sources"]) == ["bass", "drums", "lead"]


class _Players(HTMLParser):
    def __init__(self):
        super().__init__()
        self.audio, self.links, self.body = [], [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "audio":
            self.audio.append(attrs)
        elif tag == "a" and "data-file" in attrs:
            self.links.append(attrs["href"])
        elif tag == "body":
            self.body = attrs


def test_audio_report_players_play_in_headless_chromium(audio_run, tmp_path):
    from test_cli_demo import _chromium, _run_chromium

    binary = _chromium()
    _, _, _, folder = audio_run
    dom = _run_chromium(
        binary,
        tmp_path / "profile",
        "--autoplay-policy=no-user-gesture-required",
        "--virtual-time-budget=10000",
        "--dump-dom",
        (folder / "report.html").resolve().as_uri(),
    ).stdout.decode("utf-8")
    page = _Players()
    page.feed(dom)
    assert [a["data-audio"] for a in page.audio] == [
        "audio-mixture", "audio-source-1", "audio-source-2", "audio-source-3",
    ]  # fmt: skip
    for player in page.audio:
        # Read by the page's script from the decoded WAV header.
        assert float(player["data-duration"]) == pytest.approx(4.0, abs=1e-3)
    assert page.body.get("data-audio-loaded") == "4/4"
    images = int(page.body["data-images-loaded"].split("/")[1])
    assert page.body["data-images-loaded"] == f"{images}/{images}" and images >= 4
    # Links to every result file, relative to the report.
    assert sorted(page.links) == sorted(
        set(AUDIO_FILES) - {"manifest.json", "report.html"}
    )


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["audio", "{tmp}/nope.wav", "--rank", "3"], ["nope.wav does not exist"]),
        (["audio", "{tmp}/notes.wav", "--rank", "3"], ["not a readable"]),
        (["audio", "--rank", "0"], ["--rank", "0 is not >= 1"]),
        (["audio", "--rank", "3", "--beta-loss", "ls"], ["give is, kl or frobenius"]),
        (["audio", "--rank", "3", "--sources", "4"], ["--sources 4 is more than"]),
        (["series", "{tmp}/nope.csv", "--rank", "2"], ["nope.csv"]),
        (["series", "{tmp}/negative.csv", "--rank", "2"], ["negative value"]),
        (["series", "--rank", "0"], ["--rank", "0 is not >= 1"]),
        (["series", "--rank", "25"], ["--rank 25 is larger than the data allow"]),
        (["series", "--rank", "2", "--beta-loss", "x"], ["give is, kl or frobenius"]),
    ],
    ids=[
        "missing-file", "not-audio", "rank-0", "beta-loss", "sources",
        "series-missing", "series-negative", "series-rank-0", "series-rank-big",
        "series-beta-loss",
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_leaves_nothing(argv, fragments, tmp_path, capsys):
    (tmp_path / "notes.wav").write_text("not a sound\n")
    (tmp_path / "negative.csv").write_text("a,b,c\n1,2,3\n4,-5,6\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert_bad_input(
        capsys, [*argv, "-o", tmp_path / "out"], *fragments, untouched=tmp_path
    )


@pytest.mark.parametrize("command", ["audio", "series"])
def test_an_existing_output_needs_force(command, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    assert_bad_input(
        capsys,
        [command, "--rank", "2", "-o", out],
        "already exists",
        "--force",
        untouched=tmp_path,
    )


# ------------------------------------------------------------------- series
def test_series_on_the_builtin_profiles_is_the_model(tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "series", "--rank", "4", "-q", "-o", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == SERIES_FILES
    assert manifest(out)["command"] == "series"
    profiles = make_load_profiles()
    model = NMF(4, init="nndsvd", max_iter=1000, tol=1e-5, random_state=0)
    W = model.fit_transform(profiles.data)
    peak = model.components_.max(axis=1)
    T, A = np.load(out / "templates.npy"), np.load(out / "activations.npy")
    np.testing.assert_allclose(T, model.components_ / peak[:, None], rtol=1e-10)
    np.testing.assert_allclose(A, W * peak, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.load(out / "reconstruction.npy"), A @ T)
    corner, names, times, values = read_named_csv(out / "templates.csv")
    assert corner == "time" and names == [f"template_{j}" for j in range(1, 5)]
    assert times == list(profiles.times)
    np.testing.assert_array_equal(values, T.T)
    corner, names, rows, values = read_named_csv(out / "activations.csv")
    assert corner == "recording" and rows == list(profiles.names)
    np.testing.assert_array_equal(values, A)
    corner, columns, rows, values = read_named_csv(out / "reconstruction.csv")
    assert columns == list(profiles.times) and rows == list(profiles.names)
    np.testing.assert_array_equal(values, A @ T)
    assert "rank 4: relative error" in stdout


def test_series_of_a_file_and_force_replaces_the_whole_set(tmp_path, capsys):
    path = tmp_path / "rec.csv"
    rng = np.random.default_rng(0)
    data = rng.random((12, 2)) @ rng.random((2, 8))
    lines = ["day," + ",".join(f"t{j}" for j in range(8))]
    lines += [f"d{i}," + ",".join(map(repr, r)) for i, r in enumerate(data.tolist())]
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, _, err = run(capsys, "series", path, "--rank", "3", "-q", "-o", out)
    assert code == 0, err
    (out / "stray.txt").write_text("not listed")  # replaced with the set
    code, _, err = run(
        capsys, "series", path, "--rank", "2", "-q", "--no-report", "-o", out,
        "--force",
    )  # fmt: skip
    assert code == 0, err
    assert tree(out) == sorted(set(SERIES_FILES) - {"report.html"})
    corner, names, rows, values = read_named_csv(out / "activations.csv")
    assert rows == [f"d{i}" for i in range(12)] and values.shape == (12, 2)
    R = np.load(out / "reconstruction.npy")
    assert np.linalg.norm(data - R) <= 1e-3 * np.linalg.norm(data)  # rank 2 data


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["INT", "KILL"])
def test_a_signal_during_the_fit_leaves_the_previous_set(sig, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "series", "--rank", "2", "-q", "--no-report", "-o", out)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    command = [
        sys.executable, "-m", "nmfkit.cli", "series", "--rank", "4",
        "--max-iter", "100000000", "--tol", "0", "-q", "-o", str(out), "--force",
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmp_path.glob(".out.*")):
        time.sleep(0.05)  # the set is open: the fit has started or is about to
    time.sleep(1.0)
    assert process.poll() is None, "the command finished before the signal"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    if sig == signal.SIGINT:  # an interrupted fit is never written as finished
        # 130 from the command; once (on a loaded machine) the interpreter
        # ended by the signal itself after the command's message (-SIGINT).
        assert process.returncode in (130, -signal.SIGINT), stderr
        assert "interrupted; nothing written" in stderr.strip().splitlines()[-1]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    else:
        assert process.returncode == -signal.SIGKILL


def test_audio_of_a_stereo_file(tmp_path, capsys):
    t = np.arange(12000) / 8000
    x = np.stack(
        [np.sin(2 * np.pi * 220 * t) * (t < 1), 0.5 * np.sin(2 * np.pi * 1500 * t)],
        axis=1,
    ).astype(np.float32)
    path = tmp_path / "two.wav"
    scipy.io.wavfile.write(path, 8000, x)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "audio", path, "--rank", "4", "--sources", "2", "--beta-loss", "is",
        "--max-iter", "20", "--no-report", "-q", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    assert "SDR" not in stdout  # no true sources to score against
    signals = [scipy.io.wavfile.read(out / f"source_{j}.wav")[1] for j in (1, 2)]
    assert all(s.shape == x.shape and s.dtype == np.float32 for s in signals)
    total = signals[0].astype(np.float64) + signals[1]
    assert np.max(np.abs(total - x)) <= 2 * 2.0**-24 * np.max(np.abs(signals)) + 1e-7
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_channels"] == 2 and summary["beta"] == 0.0
    assert summary["spectrogram"]["kind"] == "power"  # Itakura-Saito's
