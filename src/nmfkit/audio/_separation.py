"""Source separation: groups of components, Wiener soft masks, inverse STFT.

Each source is a group of components. Its model spectrogram ``V_j`` is the
sum of its components' ``outer(template, activation)``; its soft mask is
``V_j^q / sum_k V_k^q`` with ``q = 2 / exponent`` (the power-domain Wiener
filter, whether the spectrogram is of magnitudes or powers). The masks sum
to one in every bin, and the inverse STFT is linear, so the separated
signals add up to the mixture to rounding.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from .._optional import import_optional
from ._fit import SpectralFactors
from ._stft import Spectrogram

__all__ = [
    "Separation",
    "check_groups",
    "evaluate_separation",
    "group_templates",
    "separate",
    "wiener_masks",
]


def check_groups(groups, n_components):
    """Validate groups of components: every component in exactly one group.

    Parameters
    ----------
    groups : sequence of sequences of int, or None
        None: one group per component.
    n_components : int
        Number of components the groups share out.

    Returns
    -------
    groups : list of ndarray of int
        The groups as integer arrays.

    Raises
    ------
    TypeError
        If ``groups`` is a flat array (cluster labels) instead of groups.
    ValueError
        If a group is empty or not of integers, or the groups do not use
        every component exactly once.

    See Also
    --------
    group_templates : Finds groups of similar templates.
    separate : One signal per group.

    Examples
    --------
    >>> [g.tolist() for g in check_groups([[0, 2], [1]], 3)]
    [[0, 2], [1]]
    >>> [g.tolist() for g in check_groups(None, 2)]
    [[0], [1]]
    """
    if groups is None:
        return [np.array([k]) for k in range(n_components)]
    if isinstance(groups, np.ndarray) and groups.ndim == 1:
        raise TypeError(
            "groups must be a list of lists of component indices, e.g. "
            "[[0, 1], [2]]; to turn cluster labels into groups use "
            "[np.flatnonzero(labels == j) for j in range(n_sources)]."
        )
    out = []
    for j, group in enumerate(groups):
        g = np.asarray(group)
        if g.ndim != 1 or g.size == 0 or g.dtype.kind not in "iu":
            raise ValueError(
                f"group {j} is {group!r}; every group must be a non-empty list of "
                "component indices."
            )
        out.append(g.astype(np.intp))
    flat = np.concatenate(out) if out else np.array([], dtype=np.intp)
    if flat.size and (flat.min() < 0 or flat.max() >= n_components):
        raise ValueError(
            f"groups name components outside 0..{n_components - 1}; index the "
            f"{n_components} components from 0."
        )
    counts = np.bincount(flat, minlength=n_components)
    if np.any(counts != 1):
        missing = np.flatnonzero(counts == 0).tolist()
        twice = np.flatnonzero(counts > 1).tolist()
        raise ValueError(
            f"the groups must use every component exactly once (missing: {missing}, "
            f"repeated: {twice}); otherwise the sources would not add up to the "
            "mixture."
        )
    return out


def group_templates(templates, n_sources):
    """Groups of similar templates: agglomerative clustering of their shapes.

    Templates are compared by the cosine of their spectral envelopes (each
    template smoothed along frequency by a Gaussian of 1/16 of the band), with
    average linkage, so components that share frequency bands (the register
    of an instrument, a noise band) end up in one group even when their
    harmonics share no bin. Blind grouping is a
    heuristic: when clean examples of the sources exist, templates learned
    per source (:func:`nmfkit.audio.learn_templates`) separate far better.

    Parameters
    ----------
    templates : ndarray of shape (n_components, n_freqs)
        Spectral templates (``SpectralFactors.templates``).
    n_sources : int
        Number of groups, at most ``n_components``.

    Returns
    -------
    groups : list of ndarray of int
        Ordered by the lowest frequency of their centroid's peak, so the
        result does not depend on the order of the templates.

    Raises
    ------
    ValueError
        If ``n_sources`` is not an integer from 1 to ``n_components``, or a
        template is all zeros.

    See Also
    --------
    separate : Takes the groups.
    sklearn.cluster.AgglomerativeClustering : The clustering.

    Examples
    --------
    >>> import numpy as np
    >>> freqs = np.arange(64)
    >>> bump = lambda centre: np.exp(-0.5 * ((freqs - centre) / 2.0) ** 2)
    >>> templates = np.stack([bump(50), bump(8), bump(47), bump(11)])
    >>> [g.tolist() for g in group_templates(templates, 2)]
    [[1, 3], [0, 2]]
    """
    T = np.asarray(templates, dtype=np.float64)
    k = T.shape[0]
    if (
        isinstance(n_sources, (bool, np.bool_))
        or not isinstance(n_sources, numbers.Integral)
        or not 1 <= n_sources <= k
    ):
        raise ValueError(
            f"n_sources={n_sources!r} is not valid; give an integer from 1 to the "
            f"number of components ({k})."
        )
    if n_sources == k:
        return [np.array([j]) for j in range(k)]
    if n_sources == 1:
        return [np.arange(k)]
    from sklearn.cluster import AgglomerativeClustering

    if np.any(~T.any(axis=1)):
        raise ValueError(
            "a template is all zeros and has no direction to compare; drop it "
            "or fit again with another rank."
        )
    # spectral envelopes: templates smoothed along frequency (a Gaussian of
    # 1/16 of the band), so that the harmonics of one register, which share
    # no bin, still look alike, while disjoint registers stay apart
    from scipy.ndimage import gaussian_filter1d

    envelopes = gaussian_filter1d(
        T, sigma=max(1.0, T.shape[1] / 16), axis=1, mode="constant"
    )
    labels = AgglomerativeClustering(
        n_clusters=n_sources, metric="cosine", linkage="average"
    ).fit_predict(envelopes)
    groups = [np.flatnonzero(labels == j) for j in range(n_sources)]
    centre = [np.argmax(T[g].sum(axis=0)) for g in groups]
    return [groups[j] for j in np.argsort(centre, kind="stable")]


def wiener_masks(factors, groups=None, *, exponent=2.0):
    """Soft masks of the sources, one per group of components.

    Parameters
    ----------
    factors : SpectralFactors
        From :func:`nmfkit.audio.decompose_spectrogram`.
    groups : sequence of sequences of int, default=None
        Components of each source (see :func:`check_groups`).
    exponent : float, default=2.0
        The spectrogram's exponent of ``|STFT|`` (1 magnitude, 2 power); the
        masks are ``V_j^(2/exponent) / sum_k V_k^(2/exponent)``.

    Returns
    -------
    masks : ndarray of shape (n_sources, n_freqs, n_frames)
        In [0, 1], summing to 1 in every bin (bins that every source models
        as zero are shared equally).

    Raises
    ------
    TypeError
        If ``factors`` is not a :class:`~nmfkit.audio.SpectralFactors`.
    ValueError
        For groups :func:`check_groups` refuses.

    See Also
    --------
    separate : Applies the masks to the mixture's STFT.

    References
    ----------
    .. [1] A. Liutkus and R. Badeau, "Generalized Wiener filtering with
       fractional power spectrograms", IEEE International Conference on
       Acoustics, Speech and Signal Processing (ICASSP), 266-270, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.audio import decompose_spectrogram
    >>> S = np.outer([1.0, 2.0, 0.5], [1.0, 0.0, 3.0]) + np.outer([0, 1, 4], [2, 1, 0])
    >>> masks = wiener_masks(decompose_spectrogram(S, 2, max_iter=500, tol=0))
    >>> masks.shape, bool(np.allclose(masks.sum(axis=0), 1))
    ((2, 3, 3), True)
    """
    if not isinstance(factors, SpectralFactors):
        raise TypeError("factors must be the result of decompose_spectrogram.")
    groups = check_groups(groups, factors.n_components)
    V = np.stack([factors.model(g) for g in groups])
    top = V.max()
    if top > 0:
        V = V / top  # powers of values <= 1 cannot overflow
    V = V ** (2.0 / float(exponent))
    total = V.sum(axis=0)
    n = len(groups)
    return np.divide(V, total, out=np.full_like(V, 1.0 / n), where=(total > 0)[None])


@dataclass(eq=False)
class Separation:
    """The result of :func:`separate`.

    Attributes
    ----------
    signals : ndarray of shape (n_sources, n_samples) or \
            (n_sources, n_samples, n_channels)
        The separated signals, one per source.
    masks : ndarray of shape (n_sources, n_freqs, n_frames)
        The soft masks (:func:`wiener_masks`).
    groups : list of ndarray of int
        The components of each source.

    See Also
    --------
    separate : Returns it.
    evaluate_separation : Scores ``signals`` against the true sources.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.audio import decompose_spectrogram, spectrogram
    >>> t = np.arange(2000) / 8000
    >>> x = np.sin(2 * np.pi * 300 * t) + np.sin(2 * np.pi * 2000 * t)
    >>> spec = spectrogram(x, 8000, n_fft=128)
    >>> result = separate(spec, decompose_spectrogram(spec, 2, max_iter=100))
    >>> result.n_sources, result.signals.shape, result.masks.shape
    (2, (2, 2000), (2, 65, 66))
    """

    signals: np.ndarray
    masks: np.ndarray
    groups: list

    @property
    def n_sources(self):
        """Number of separated sources."""
        return len(self.groups)


def separate(spec, factors, groups=None):
    """One signal per group of components: Wiener masks and inverse STFT.

    Parameters
    ----------
    spec : Spectrogram
        The mixture's spectrogram (the one that was factorized).
    factors : SpectralFactors
        From :func:`nmfkit.audio.decompose_spectrogram` on ``spec``.
    groups : sequence of sequences of int, default=None
        Components of each source; None: one source per component. See
        :func:`group_templates` to find groups.

    Returns
    -------
    separation : Separation
        The signals add up to the mixture to rounding. A multichannel
        mixture gets the same masks on every channel.

    Raises
    ------
    TypeError
        If ``spec`` is not a :class:`~nmfkit.audio.Spectrogram`.
    ValueError
        If the factors do not model this spectrogram's frequencies and
        frames, or for groups :func:`check_groups` refuses.

    See Also
    --------
    wiener_masks : The masks.
    group_templates : Groups of components, found blindly.
    nmfkit.audio.learn_templates : Templates and groups from clean examples.
    evaluate_separation : BSS Eval scores of the result.

    References
    ----------
    .. [1] P. Smaragdis and J. C. Brown, "Non-negative matrix factorization
       for polyphonic music transcription", IEEE Workshop on Applications of
       Signal Processing to Audio and Acoustics (WASPAA), 2003.
    .. [2] A. Liutkus and R. Badeau, "Generalized Wiener filtering with
       fractional power spectrograms", IEEE International Conference on
       Acoustics, Speech and Signal Processing (ICASSP), 266-270, 2015.

    Examples
    --------
    A low tone throughout and a high one in the second half, 0.25 s at 8 kHz:

    >>> import numpy as np
    >>> from nmfkit.audio import decompose_spectrogram, spectrogram
    >>> t = np.arange(2000) / 8000
    >>> low = np.sin(2 * np.pi * 300 * t)
    >>> high = 0.5 * np.sin(2 * np.pi * 2000 * t) * (t >= 0.125)
    >>> spec = spectrogram(low + high, 8000, n_fft=128)
    >>> factors = decompose_spectrogram(spec, 2, max_iter=300, tol=0)
    >>> result = separate(spec, factors)
    >>> result.signals.shape
    (2, 2000)
    >>> bool(np.allclose(result.signals.sum(axis=0), low + high))
    True
    >>> peaks = factors.templates.argmax(axis=1) * 8000 / 128  # Hz
    >>> sorted(peaks.tolist())
    [312.5, 2000.0]
    """
    if not isinstance(spec, Spectrogram):
        raise TypeError("spec must be the Spectrogram that was factorized.")
    n_freqs, n_frames = spec.values.shape[-2:]
    if factors.templates.shape[1] != n_freqs or factors.activations.shape[0] != (
        n_frames
    ):
        raise ValueError(
            f"the factors model {factors.templates.shape[1]} frequencies x "
            f"{factors.activations.shape[0]} frames, the spectrogram is {n_freqs} "
            f"x {n_frames}; factorize this spectrogram."
        )
    groups = check_groups(groups, factors.n_components)
    masks = wiener_masks(factors, groups, exponent=spec.exponent)
    if spec.n_channels is None:
        stfts = masks * spec.stft[None]
    else:
        stfts = masks[:, None] * spec.stft[None]
    return Separation(signals=spec.istft(stfts), masks=masks, groups=groups)


def evaluate_separation(references, estimates, *, permutation=True):
    """BSS Eval (SDR, SIR, SAR) of separated signals against the true sources.

    Uses :func:`mir_eval.separation.bss_eval_sources` for mono signals and
    :func:`mir_eval.separation.bss_eval_images` for multichannel ones; both
    pair each reference with the estimate that scores best.

    Parameters
    ----------
    references : array-like of shape (n_sources, n_samples[, n_channels])
        The true sources.
    estimates : array-like of the same shape
        The separated signals (``Separation.signals``).
    permutation : bool, default=True
        Find the best pairing of estimates and references (BSS Eval's
        ``compute_permutation``; n_sources^2 decompositions); False scores
        ``estimates[j]`` against ``references[j]`` (n_sources decompositions).

    Returns
    -------
    scores : dict
        ``sdr``, ``sir``, ``sar`` (ndarray of shape (n_sources,), in dB, in
        reference order) and ``permutation`` (``estimates[permutation[j]]``
        matches ``references[j]``).

    Raises
    ------
    ValueError
        If the shapes differ or are not 2-D or 3-D, or a reference or an
        estimate is silent.
    ImportError
        If mir_eval (the ``audio`` extra) is not installed.

    See Also
    --------
    separate : The separated signals.
    mir_eval.separation.bss_eval_sources : The scores.

    References
    ----------
    .. [1] E. Vincent, R. Gribonval and C. Fevotte, "Performance measurement
       in blind audio source separation", IEEE Transactions on Audio,
       Speech, and Language Processing 14(4), 1462-1469, 2006.

    Examples
    --------
    Estimates in swapped order, each with noise 1% of the first source's
    amplitude:

    >>> import numpy as np
    >>> t = np.arange(2000) / 8000
    >>> refs = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 2000 * t)])
    >>> noise = 0.01 * np.random.default_rng(0).standard_normal(refs.shape)
    >>> scores = evaluate_separation(refs, refs[::-1] + noise)
    >>> scores["permutation"].tolist()
    [1, 0]
    >>> bool(np.all(scores["sdr"] > 30))  # the noise alone: 10 log10(0.5 / 1e-4) = 37
    True
    """
    separation = import_optional(
        "mir_eval.separation", purpose="BSS Eval scores", extra="audio"
    )
    ref = np.asarray(references, dtype=np.float64)
    est = np.asarray(estimates, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim not in (2, 3):
        raise ValueError(
            f"references {ref.shape} and estimates {est.shape} must have the same "
            "shape, (n_sources, n_samples) or (n_sources, n_samples, n_channels)."
        )
    for name, arr in (("reference", ref), ("estimate", est)):
        silent = np.flatnonzero(~np.any(arr.reshape(len(arr), -1) != 0, axis=1))
        if silent.size:
            raise ValueError(
                f"{name} {int(silent[0])} is silent (all zeros); BSS Eval is "
                "undefined for it. Leave it out."
            )
    with warnings.catch_warnings():
        # mir_eval 0.8 marks its separation module deprecated (FutureWarning).
        warnings.simplefilter("ignore", FutureWarning)
        if ref.ndim == 2:
            sdr, sir, sar, perm = separation.bss_eval_sources(
                ref, est, compute_permutation=permutation
            )
        else:
            sdr, _isr, sir, sar, perm = separation.bss_eval_images(
                ref, est, compute_permutation=permutation
            )
    return {
        "sdr": np.asarray(sdr, dtype=float),
        "sir": np.asarray(sir, dtype=float),
        "sar": np.asarray(sar, dtype=float),
        "permutation": np.asarray(perm, dtype=int),
    }
