"""Spectrograms: values against an explicit FFT, and the round trip to the signal."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from nmfkit.audio import default_n_fft, spectrogram


def _signal(n=4001, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) if channels is None else (n, channels)
    return rng.standard_normal(shape)


@pytest.mark.parametrize(
    "n_fft, hop, window",
    [
        (256, 64, "hann"),
        (512, 128, "hann"),
        (300, 100, "hamming"),
        (256, 32, "blackman"),
    ],
)
@pytest.mark.parametrize("kind", ["magnitude", "power"])
def test_istft_rebuilds_the_signal_to_1e_10(n_fft, hop, window, kind):
    x = _signal()
    spec = spectrogram(x, 8000, n_fft=n_fft, hop_length=hop, window=window, kind=kind)
    y = spec.istft()
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) < 1e-10


def test_stereo_round_trip_and_layout():
    x = _signal(3000, channels=2)
    spec = spectrogram(x, 16000, n_fft=256)
    assert spec.n_channels == 2 and spec.values.shape[0] == 2
    assert np.max(np.abs(spec.istft() - x)) < 1e-10
    # NMF sees the channels' values summed, frames x frequencies.
    X = spec.values_for_nmf()
    assert X.shape == spec.values.shape[:0:-1]
    np.testing.assert_allclose(X, (spec.values[0] + spec.values[1]).T)


def test_values_match_an_explicit_windowed_fft():
    x = _signal(2000)
    n_fft, hop = 256, 64
    spec = spectrogram(x, 8000, n_fft=n_fft, hop_length=hop, kind="power")
    win = scipy.signal.get_window("hann", n_fft)
    # SciPy's frame p is centred on sample p * hop; frame index 0 is p_min.
    p = 10
    start = p * hop - n_fft // 2
    expected = np.abs(np.fft.rfft(win * x[start : start + n_fft])) ** 2
    column = p - spec.transform.p_min
    np.testing.assert_allclose(spec.values[:, column], expected, rtol=1e-12)
    np.testing.assert_allclose(spec.frequencies, np.fft.rfftfreq(n_fft, 1 / 8000))
    assert spec.times[column] == pytest.approx(p * hop / 8000)


def test_magnitudes_match_librosa_on_interior_frames():
    librosa = pytest.importorskip("librosa")
    x = _signal(4000)
    n_fft, hop = 512, 128
    spec = spectrogram(x, 8000, n_fft=n_fft, hop_length=hop)
    ref = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, center=False))
    # librosa's frame t starts at t * hop: it is SciPy's frame t + n_fft / 2 / hop.
    offset = n_fft // 2 // hop - spec.transform.p_min
    ours = spec.values[:, offset : offset + ref.shape[1]]
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_default_n_fft_is_about_64_ms():
    assert default_n_fft(8000) == 512
    assert default_n_fft(16000) == 1024
    assert default_n_fft(44100) == 2048
    spec = spectrogram(_signal(1000), 8000)
    assert spec.n_fft == 512 and spec.hop_length == 128


def test_istft_of_masked_spectrograms_keeps_the_source_axis():
    x = _signal(1500)
    spec = spectrogram(x, 8000, n_fft=128)
    parts = spec.istft(np.stack([0.25 * spec.stft, 0.75 * spec.stft]))
    assert parts.shape == (2, 1500)
    np.testing.assert_allclose(parts.sum(axis=0), x, atol=1e-10)
    with pytest.raises(ValueError, match="rebuilds shape"):
        spec.istft(spec.stft[:, :-1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(signal=np.zeros((2, 2, 2))), "has shape"),
        (dict(signal=np.array([0.0, np.nan])), "NaN or infinite value at sample 1"),
        (dict(signal=np.array(["a", "b"])), "real numbers"),
        (dict(sample_rate=0), "sample_rate=0"),
        (dict(kind="log"), "kind='log'"),
        (dict(n_fft=0), "n_fft=0"),
        (dict(n_fft=64, hop_length=65), "longer than n_fft"),
        (dict(window=np.ones(3)), "window has shape"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    args = dict(signal=np.ones(1000), sample_rate=8000, n_fft=64)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        spectrogram(args.pop("signal"), args.pop("sample_rate"), **args)
