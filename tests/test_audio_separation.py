"""Spectral templates, Wiener masks and separation, scored with BSS Eval."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal
from scipy.optimize import linear_sum_assignment

from nmfkit import NMF
from nmfkit.audio import (
    check_groups,
    decompose_spectrogram,
    evaluate_separation,
    group_templates,
    learn_templates,
    separate,
    spectrogram,
    wiener_masks,
)
from nmfkit.datasets import make_music_mixture

RATE = 8000


def _two_bands(seconds=1.5, seed=0):
    """A harmonic source below 700 Hz and a noise source in 2-3.5 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    gate = (np.floor(t / 0.25) % 2 == 0).astype(float)  # notes every other beat
    low = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((200, 400, 600), 1))
    low = low * (0.3 + 0.7 * gate)
    b, a = scipy.signal.butter(4, [2000 / 4000, 3500 / 4000], "band")
    high = scipy.signal.lfilter(b, a, rng.standard_normal(n))
    high = high * (1 - 0.8 * gate) * np.std(low) / np.std(high)
    return np.stack([low, high])


def _fit_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)  # ConvergenceWarning
        return decompose_spectrogram(*args, **kwargs)


def _order_by_correlation(references, estimates):
    """Estimates reordered to their best-correlated references (Hungarian)."""
    c = np.abs(np.corrcoef(references, estimates)[: len(references), len(references) :])
    rows, cols = linear_sum_assignment(c, maximize=True)
    return estimates[cols[np.argsort(rows)]]


# ----------------------------------------------------------------- fitting
def test_fixed_templates_recover_known_activations():
    rng = np.random.default_rng(0)
    T = rng.random((3, 40)) ** 3  # templates (components x frequencies)
    A = rng.random((60, 3))  # activations (frames x components)
    S = (A @ T).T  # a spectrogram: frequencies x frames
    f = _fit_quietly(S, templates=T, max_iter=3000, tol=0)
    assert f.fixed_templates and f.history is None
    np.testing.assert_allclose(f.templates, T)
    np.testing.assert_allclose(f.activations, A, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(f.model(), S, rtol=1e-4, atol=1e-6)


def _divergence(x, y, loss):
    """The beta-divergence from its formula (no clipping)."""
    if loss == "frobenius":
        return 0.5 * np.sum((x - y) ** 2)
    if loss == "kullback-leibler":
        return np.sum(x * np.log(x / y) - x + y)
    return np.sum(x / y - np.log(x / y) - 1)  # itakura-saito


def test_objective_is_the_beta_divergence_at_the_data_scale():
    rng = np.random.default_rng(1)
    S = rng.random((30, 50)) * 1e-3
    for loss in ("kullback-leibler", "frobenius", "itakura-saito"):
        f = _fit_quietly(S, 4, beta_loss=loss, max_iter=50, floor=1e-6)
        X = np.maximum(S.T, 1e-6 * S.max())  # the floor is applied for every loss
        ref = _divergence(X, f.activations @ f.templates, loss)
        assert f.objective == pytest.approx(ref, rel=1e-8)
        assert f.history[-1, 2] == pytest.approx(ref, rel=1e-3)  # the solver's
        assert f.templates.max(axis=1) == pytest.approx(np.ones(4))


def test_core_is_fit_of_a_spectrogram_scaled_by_1e_10_is_the_fit_times_1e_10():
    x = make_music_mixture(duration=1.0).mixture
    S = spectrogram(x, RATE, n_fft=256, kind="power").values_for_nmf() + 1e-8
    rng = np.random.default_rng(0)
    W0 = rng.random((S.shape[0], 4)) + 0.1
    H0 = rng.random((4, S.shape[1])) + 0.1
    fits = []
    for scale in (1.0, 1e-10):
        model = NMF(4, init="custom", beta_loss="itakura-saito", solver="mu")
        model.set_params(max_iter=30, tol=0)
        W = model.fit_transform(S * scale, W=W0 * scale, H=H0.copy())
        fits.append((W, model.components_, model.loss_))
    (W1, H1, L1), (W2, H2, L2) = fits
    assert L2 == pytest.approx(L1, rel=1e-6)  # IS is scale invariant
    np.testing.assert_allclose(W2, W1 * 1e-10, rtol=1e-6)
    np.testing.assert_allclose(H2, H1, rtol=1e-6)


@pytest.mark.parametrize("loss, beta", [("itakura-saito", 0), ("kullback-leibler", 1)])
def test_spectrogram_fit_scaled_by_1e_10_is_the_fit_times_1e_10(loss, beta):
    x = make_music_mixture(duration=1.0).mixture
    spec = spectrogram(x, RATE, n_fft=256, kind="power")
    big = _fit_quietly(spec.values, 4, beta_loss=loss, max_iter=30)
    small = _fit_quietly(spec.values * 1e-10, 4, beta_loss=loss, max_iter=30)
    assert big.objective > 0 and np.isfinite(big.objective)
    assert small.objective == pytest.approx(big.objective * 1e-10**beta, rel=1e-9)
    np.testing.assert_allclose(small.templates, big.templates, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(
        small.activations, big.activations * 1e-10, rtol=1e-9, atol=1e-25
    )


def test_fit_errors():
    S = np.ones((5, 6))
    with pytest.raises(ValueError, match="give n_components"):
        decompose_spectrogram(S)
    with pytest.raises(ValueError, match="all zeros"):
        decompose_spectrogram(np.zeros((5, 6)), 2)
    with pytest.raises(ValueError, match="negative values"):
        decompose_spectrogram(-S, 2)
    with pytest.raises(ValueError, match="templates have shape"):
        decompose_spectrogram(S, templates=np.ones((2, 4)))
    with pytest.raises(ValueError, match="template 1 is all zeros"):
        decompose_spectrogram(S, templates=np.array([[1.0] * 5, [0.0] * 5]))
    with pytest.raises(ValueError, match="needs positive values"):
        decompose_spectrogram(S, 2, beta_loss="itakura-saito", floor=0)


# ----------------------------------------------------------------- masks
def test_wiener_masks_follow_the_formula_and_sum_to_one():
    rng = np.random.default_rng(2)
    S = rng.random((20, 30))
    f = _fit_quietly(S, 3, max_iter=20)
    groups = [[0, 2], [1]]
    for exponent in (1, 2):
        masks = wiener_masks(f, groups, exponent=exponent)
        V = [f.model([0, 2]), f.model([1])]
        q = 2 / exponent
        expected = V[0] ** q / (V[0] ** q + V[1] ** q)
        np.testing.assert_allclose(masks[0], expected, rtol=1e-12)
        np.testing.assert_allclose(masks.sum(axis=0), 1.0, rtol=1e-15)


def test_groups_must_use_every_component_once():
    assert [g.tolist() for g in check_groups(None, 3)] == [[0], [1], [2]]
    with pytest.raises(ValueError, match=r"missing: \[2\], repeated: \[0\]"):
        check_groups([[0, 1], [0]], 3)
    with pytest.raises(ValueError, match="outside 0..2"):
        check_groups([[0, 1, 3]], 3)
    with pytest.raises(ValueError, match="non-empty list"):
        check_groups([[0, 1, 2], []], 3)
    with pytest.raises(TypeError, match="list of lists"):
        check_groups(np.array([0, 1, 1]), 3)
    with pytest.raises(ValueError, match="n_sources=4"):
        group_templates(np.eye(3), 4)


@pytest.mark.parametrize("channels", [None, 2])
def test_separated_signals_add_up_to_the_mixture(channels):
    x = make_music_mixture(duration=1.0).mixture
    if channels:
        x = np.stack([x, 0.5 * x[::-1]], axis=1)
    spec = spectrogram(x, RATE, n_fft=256)
    f = _fit_quietly(spec, 5, max_iter=30)
    sep = separate(spec, f, [[0, 1], [2], [3, 4]])
    assert sep.signals.shape == (3, *x.shape)
    np.testing.assert_allclose(sep.signals.sum(axis=0), x, rtol=0, atol=1e-12)
    every = separate(spec, f)  # one source per component
    assert every.n_sources == 5
    np.testing.assert_allclose(every.signals.sum(axis=0), x, rtol=0, atol=1e-12)


# ----------------------------------------------------------------- quality
def test_two_sources_in_disjoint_bands_separate_above_15_db():
    sources = _two_bands()
    mixture = sources.sum(axis=0)
    spec = spectrogram(mixture, RATE, n_fft=256)
    # one template per source: two sources in disjoint bands are a rank-2
    # model (with more templates the SDR depends on how they are grouped;
    # see test_grouping_follows_spectral_envelopes)
    f = _fit_quietly(spec, 2, max_iter=200)
    groups = group_templates(f.templates, 2)
    sep = separate(spec, f, groups)
    scores = evaluate_separation(sources, sep.signals)
    assert scores["permutation"].tolist() == [0, 1]  # groups ordered by frequency
    assert np.all(scores["sdr"] >= 15), scores["sdr"]
    assert np.all(np.isfinite(scores["sir"])) and np.all(np.isfinite(scores["sar"]))


def test_grouping_follows_spectral_envelopes():
    """Templates of one register whose harmonics share no bin are grouped
    together, apart from a noise band (raw-spectrum cosines are all 0)."""
    n = 129
    low_a, low_b, high_a, high_b = np.zeros((4, n))
    low_a[[6, 19]] = 1.0  # harmonics of one note
    low_b[[13, 26]] = 1.0  # of another note, same register
    high_a[70:80] = 1.0  # a noise band
    high_b[82:95] = 1.0  # the next band up
    groups = group_templates(np.stack([low_a, high_a, low_b, high_b]), 2)
    assert [g.tolist() for g in groups] == [[0, 2], [1, 3]]
    for rank in (3, 4, 6):
        sources = _two_bands()
        spec = spectrogram(sources.sum(axis=0), RATE, n_fft=256)
        f = _fit_quietly(spec, rank, max_iter=200)
        sep = separate(spec, f, group_templates(f.templates, 2))
        assert np.all(evaluate_separation(sources, sep.signals)["sdr"] >= 12)


def test_supervised_templates_beat_unsupervised_on_the_synthetic_mixture():
    music = make_music_mixture(duration=2.0)
    training = make_music_mixture(duration=4.0, random_state=1)  # other notes
    spec = spectrogram(music.mixture, music.sample_rate)
    # Unsupervised: 12 templates from the mixture, grouped by clustering.
    blind = _fit_quietly(spec, 12, max_iter=100)
    blind_sep = separate(spec, blind, group_templates(blind.templates, 3))
    blind_est = _order_by_correlation(music.sources, blind_sep.signals)
    # Supervised: templates learned on clean examples of each instrument.
    examples = [spectrogram(s, training.sample_rate) for s in training.sources]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)  # ConvergenceWarning
        learned = learn_templates(examples, [5, 5, 2], max_iter=100)
    assert [g.tolist() for g in learned.groups] == [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
        [10, 11],
    ]
    sup = _fit_quietly(spec, templates=learned.templates, max_iter=100)
    sup_sep = separate(spec, sup, learned.groups)
    blind_scores = evaluate_separation(music.sources, blind_est, permutation=False)
    sup_scores = evaluate_separation(music.sources, sup_sep.signals, permutation=False)
    assert sup_scores["sdr"].mean() > blind_scores["sdr"].mean() + 3
    assert np.all(sup_scores["sdr"] > 8), sup_scores["sdr"]


def test_evaluation_refuses_mismatched_or_silent_signals():
    with pytest.raises(ValueError, match="same shape"):
        evaluate_separation(np.ones((2, 10)), np.ones((3, 10)))
    with pytest.raises(ValueError, match="reference 1 is silent"):
        evaluate_separation(np.array([[1.0, 2.0], [0.0, 0.0]]), np.ones((2, 2)))
