"""Reading sound files (soundfile and scipy), writing WAV, the built-in mixture."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.io.wavfile

from nmfkit._atomic import OutputExistsError
from nmfkit.audio import wav_bytes, write_wav
from nmfkit.datasets import load_audio, make_music_mixture

RATE = 8000


def _tone(n=RATE, freq=440.0, channels=None):
    t = np.arange(n) / RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    if channels:
        x = np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)
    return x


@pytest.mark.parametrize("backend", ["scipy", "soundfile"])
def test_int16_wav_reads_as_floats_scaled_like_soundfile(tmp_path, backend):
    if backend == "soundfile":
        pytest.importorskip("soundfile")
    pcm = np.array([0, 16384, -32768, 32767, -1], dtype=np.int16)
    path = tmp_path / "pcm.wav"
    scipy.io.wavfile.write(path, RATE, pcm)
    audio = load_audio(path, backend=backend)
    np.testing.assert_array_equal(audio.signal, pcm / 32768.0)
    assert audio.sample_rate == RATE and audio.n_channels == 1
    assert audio.duration == pytest.approx(5 / RATE) and audio.name == "pcm"


@pytest.mark.parametrize("backend", ["scipy", "soundfile"])
def test_stereo_float_wav_and_mono_downmix(tmp_path, backend):
    if backend == "soundfile":
        pytest.importorskip("soundfile")
    x = _tone(channels=2)
    path = tmp_path / "stereo.wav"
    write_wav(path, x, RATE)  # float32
    audio = load_audio(path, backend=backend)
    assert audio.signal.shape == (RATE, 2) and audio.n_channels == 2
    np.testing.assert_allclose(audio.signal, x, atol=1e-7)  # float32 rounding
    mono = load_audio(path, mono=True, backend=backend)
    np.testing.assert_allclose(mono.signal, x.mean(axis=1), atol=1e-7)


def test_flac_through_soundfile(tmp_path):
    soundfile = pytest.importorskip("soundfile")
    x = _tone(channels=2)
    path = tmp_path / "tone.flac"
    soundfile.write(path, x, RATE, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.signal.shape == (RATE, 2)
    np.testing.assert_allclose(audio.signal, x, atol=1 / 32768)
    with pytest.raises(ValueError, match="scipy reads WAV files only"):
        load_audio(path, backend="scipy")


def test_resampling_only_when_asked(tmp_path):
    path = tmp_path / "tone.wav"
    write_wav(path, _tone(2 * RATE, freq=300.0), RATE)
    same = load_audio(path, sample_rate=RATE)
    assert same.signal.shape == (2 * RATE,)
    half = load_audio(path, sample_rate=RATE // 2)
    assert half.sample_rate == RATE // 2 and half.original_sample_rate == RATE
    assert half.signal.shape == (RATE,)
    # The tone keeps its frequency: the peak of the spectrum stays at 300 Hz.
    spectrum = np.abs(np.fft.rfft(half.signal))
    freqs = np.fft.rfftfreq(half.signal.size, 1 / half.sample_rate)
    assert freqs[np.argmax(spectrum)] == pytest.approx(300.0, abs=1.0)


def test_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="must end in one of"):
        load_audio(tmp_path / "x.mp4")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_audio(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file at all")
    with pytest.raises(ValueError, match="not a readable"):
        load_audio(bad, backend="scipy")
    with pytest.raises(ValueError, match="backend='x'"):
        load_audio(bad, backend="x")


def test_wav_bytes_pcm16_keeps_levels_with_a_common_peak():
    x = np.array([0.0, 1.0, -2.0])
    rate, pcm = scipy.io.wavfile.read(io.BytesIO(wav_bytes(x, RATE, encoding="pcm16")))
    assert rate == RATE and pcm.dtype == np.int16
    np.testing.assert_array_equal(pcm, [0, 16384, -32767])  # scaled by the peak 2
    _, quiet = scipy.io.wavfile.read(
        io.BytesIO(wav_bytes(x / 4, RATE, encoding="pcm16", peak=2.0))
    )
    np.testing.assert_array_equal(quiet, [0, 4096, -8192])  # the same scale
    with pytest.raises(ValueError, match="encoding"):
        wav_bytes(x, RATE, encoding="mp3")


def test_write_wav_never_replaces_unasked(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, np.zeros(10), RATE)
    with pytest.raises(OutputExistsError, match="already exists"):
        write_wav(path, np.ones(10), RATE)
    write_wav(path, np.ones(10), RATE, force=True)
    assert scipy.io.wavfile.read(path)[1][0] == 1.0


def test_music_mixture_is_deterministic_and_adds_up():
    a = make_music_mixture(duration=1.0)
    b = make_music_mixture(duration=1.0)
    np.testing.assert_array_equal(a.mixture, b.mixture)
    assert a.sources.shape == (3, RATE) and a.source_names == ["bass", "lead", "drums"]
    np.testing.assert_allclose(a.sources.sum(axis=0), a.mixture, atol=1e-15)
    assert np.max(np.abs(a.mixture)) < 1
    np.testing.assert_allclose(np.sqrt(np.mean(a.sources**2, axis=1)), 0.1)
    other = make_music_mixture(duration=1.0, random_state=1)
    assert not np.allclose(other.mixture, a.mixture)
    # The notes are where the description says: the bass's energy is below
    # 1 kHz, the lead's above 500 Hz, the drums' above 1 kHz.
    freqs = np.fft.rfftfreq(RATE, 1 / RATE)
    power = np.abs(np.fft.rfft(a.sources, axis=1)) ** 2
    share = lambda j, band: power[j, band].sum() / power[j].sum()  # noqa: E731
    assert share(0, freqs < 1000) > 0.95
    assert share(1, freqs > 500) > 0.95
    assert share(2, freqs > 1000) > 0.9
    with pytest.raises(ValueError, match="duration"):
        make_music_mixture(duration=0.1)
