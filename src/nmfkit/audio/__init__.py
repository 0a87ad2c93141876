"""Audio with NMF: spectrograms, spectral templates, source separation.

A spectrogram ``S`` (frequencies x frames) is factorized as ``S.T ~ W H``:
the rows of ``H`` (nmfkit's ``components_``) are spectral templates and the
columns of ``W`` their activations over time (:func:`decompose_spectrogram`).
Groups of components become sources through Wiener soft masks and the
inverse STFT (:func:`separate`), scored with BSS Eval
(:func:`evaluate_separation`, the ``audio`` extra's mir_eval).

>>> import numpy as np
>>> from nmfkit.audio import spectrogram, decompose_spectrogram, separate
>>> rate = 8000
>>> t = np.arange(rate) / rate
>>> x = np.sin(2 * np.pi * 200 * t) * (t < 0.5) + np.sin(2 * np.pi * 1500 * t)
>>> spec = spectrogram(x, rate, n_fft=256)
>>> factors = decompose_spectrogram(spec, 2, max_iter=300)
>>> parts = separate(spec, factors).signals
>>> parts.shape, bool(np.allclose(parts.sum(axis=0), x, atol=1e-12))
((2, 8000), True)
"""

from ._fit import (
    SourceTemplates,
    SpectralFactors,
    decompose_spectrogram,
    learn_templates,
)
from ._io import wav_bytes, write_wav
from ._separation import (
    Separation,
    check_groups,
    evaluate_separation,
    group_templates,
    separate,
    wiener_masks,
)
from ._stft import SPECTRUM_KINDS, Spectrogram, default_n_fft, spectrogram

__all__ = [
    "SPECTRUM_KINDS",
    "Separation",
    "SourceTemplates",
    "SpectralFactors",
    "Spectrogram",
    "check_groups",
    "decompose_spectrogram",
    "default_n_fft",
    "evaluate_separation",
    "group_templates",
    "learn_templates",
    "separate",
    "spectrogram",
    "wav_bytes",
    "wiener_masks",
    "write_wav",
]
