"""Spectral templates and their activations: NMF of a spectrogram.

Orientation: nmfkit factorizes ``X (n_samples x n_features) ~ W H`` with the
dictionary ``H`` (``components_``) of shape (n_components, n_features). A
spectrogram ``S`` is (n_freqs x n_frames), so the fit runs on ``X = S.T``
(frames x frequencies): the rows of ``H`` are spectral **templates** (one
spectrum per component) and the columns of ``W`` their **activations** (the
gain of each template in each frame). ``S ~ (W H).T``, and component ``k``
alone is ``outer(templates[k], activations[:, k])``.

Scale: a beta-divergence scales as ``D(cX | cY) = c^beta D(X | Y)``, so its
minimizers scale with the data. The fit divides the spectrogram by its
largest value, factorizes the result and multiplies the activations back:
the same factors as a fit at the data's own scale, without relying on
floating-point behaviour at the power values of real recordings (1e-10 and
below). Itakura-Saito (beta <= 0) needs positive data: values below
``floor`` times the largest are raised to it (digital silence has zeros).
"""

from __future__ import annotations

import contextlib
import numbers
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._nmf import NMF, non_negative_factorization
from .._objective import beta_to_float
from ._stft import Spectrogram

__all__ = [
    "SourceTemplates",
    "SpectralFactors",
    "decompose_spectrogram",
    "learn_templates",
]

#: Relative floor of the spectrogram for beta <= 0 (Itakura-Saito): 60 dB
#: below the peak of a power spectrogram.
DEFAULT_FLOOR = 1e-6


def divergence(X, Y, beta):
    """``D_beta(X | Y)`` summed over all entries, from its formula (no clipping).

    Parameters
    ----------
    X, Y : ndarray of the same shape
        Data (non-negative; positive for beta <= 0) and model.
    beta : float

    Returns
    -------
    value : float
        ``inf`` where the divergence is infinite (a zero of the model under a
        positive data value for beta <= 1).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if beta == 2:
            return 0.5 * float(np.sum((X - Y) ** 2))
        if beta == 1:
            pos = X > 0
            log_term = np.zeros_like(X)
            log_term[pos] = X[pos] * np.log(X[pos] / Y[pos])
            return float(np.sum(log_term - X + Y))
        if beta == 0:
            ratio = X / Y
            return float(np.sum(ratio - np.log(ratio) - 1))
        terms = (
            X**beta / (beta * (beta - 1))
            + Y**beta / beta
            - X * Y ** (beta - 1) / (beta - 1)
        )
        return float(np.sum(terms))


@dataclass(eq=False)
class SpectralFactors:
    """The result of :func:`decompose_spectrogram`.

    Attributes
    ----------
    templates : ndarray of shape (n_components, n_freqs)
        One spectrum per component (nmfkit's ``components_``). Learned
        templates are scaled to a largest value of 1; fixed ones are kept.
    activations : ndarray of shape (n_frames, n_components)
        Gain of each template in each frame (nmfkit's ``W``), in the units
        of the spectrogram.
    beta : float
        The beta of the divergence (2 Frobenius, 1 KL, 0 Itakura-Saito).
    objective : float
        ``D_beta(X | activations @ templates)`` at the data's scale, with X
        the frames x frequencies matrix after the floor.
    n_iter : int
    seconds : float
        Time in the solver.
    history : ndarray of shape (n_iter + 1, 3) or None
        nmfkit's ``history_`` (iteration, seconds, objective at the data's
        scale); None when the templates were fixed.
    fixed_templates : bool
    scale : float
        The largest value of the spectrogram (the fit ran on ``X / scale``).
    floor : float
        Relative floor applied before the fit (0 for beta > 0).

    See Also
    --------
    decompose_spectrogram : Returns it.
    nmfkit.audio.separate : Turns it into one signal per source.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.outer([1.0, 2.0, 0.5], [1.0, 0.0, 3.0]) + np.outer([0, 1, 4], [2, 1, 0])
    >>> f = decompose_spectrogram(S, 2, max_iter=2000, tol=0)
    >>> f.n_components, f.templates.shape, f.activations.shape, f.beta
    (2, (2, 3), (3, 2), 1.0)
    >>> bool(np.allclose(f.templates.max(axis=1), 1))  # learned: peak 1
    True
    """

    templates: np.ndarray
    activations: np.ndarray
    beta: float
    objective: float
    n_iter: int
    seconds: float
    history: np.ndarray | None
    fixed_templates: bool
    scale: float
    floor: float

    @property
    def n_components(self):
        """Number of templates."""
        return self.templates.shape[0]

    @property
    def reconstruction_error(self):
        """``sqrt(2 objective)``, scikit-learn's ``reconstruction_err_``."""
        return float(np.sqrt(2 * max(self.objective, 0.0)))

    def model(self, components=None):
        """The modelled spectrogram (n_freqs, n_frames) of some components.

        Parameters
        ----------
        components : sequence of int, default=None
            All components when None.

        Returns
        -------
        V : ndarray of shape (n_freqs, n_frames)
            ``(activations[:, components] @ templates[components]).T``.

        See Also
        --------
        nmfkit.audio.wiener_masks : Masks built from the models of groups.

        Examples
        --------
        >>> import numpy as np
        >>> S = np.outer([1.0, 2.0, 0.5], [1.0, 0.0, 3.0])
        >>> S += np.outer([0, 1, 4], [2, 1, 0])
        >>> f = decompose_spectrogram(S, 2, max_iter=2000, tol=0)
        >>> f.model().shape
        (3, 3)
        >>> bool(np.allclose(f.model([0]) + f.model([1]), f.model()))
        True
        """
        idx = slice(None) if components is None else np.asarray(components, int)
        return self.templates[idx].T @ self.activations[:, idx].T


def _spectrogram_matrix(spec):
    """The frames x frequencies matrix of a Spectrogram or an (F, T) array."""
    if isinstance(spec, Spectrogram):
        X = spec.values_for_nmf()
    else:
        S = np.asarray(spec)
        if S.dtype.kind not in "biuf" or S.ndim != 2:
            raise ValueError(
                f"the spectrogram has shape {S.shape} and dtype {S.dtype}; give a "
                "Spectrogram or a real (n_freqs, n_frames) array."
            )
        X = np.ascontiguousarray(S.T, dtype=np.float64)
    if X.size == 0:
        raise ValueError(
            "the spectrogram is empty; give a signal of at least one frame."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(
            "the spectrogram has NaN or infinite values; check the signal."
        )
    if X.min() < 0:
        raise ValueError(
            f"the spectrogram has negative values (smallest {X.min():.3g}); give "
            "magnitudes or powers (abs of the STFT)."
        )
    return X


def _check_floor(floor, beta):
    if floor == "auto":
        return DEFAULT_FLOOR if beta <= 0 else 0.0
    if isinstance(floor, (bool, np.bool_)) or not (
        isinstance(floor, numbers.Real) and 0 <= floor < 1
    ):
        raise ValueError(
            f"floor={floor!r} is not valid; give 'auto' or a number in [0, 1)."
        )
    if beta <= 0 and floor <= 0:
        raise ValueError(
            "the Itakura-Saito divergence needs positive values: give floor > 0 "
            "(for example 1e-6) or floor='auto'."
        )
    return float(floor)


def decompose_spectrogram(
    spec,
    n_components=None,
    *,
    beta_loss="kullback-leibler",
    templates=None,
    init=None,
    solver="auto",
    max_iter=200,
    tol=1e-4,
    random_state=0,
    floor="auto",
    progress=None,
):
    """Factorize a spectrogram into spectral templates and activations.

    Parameters
    ----------
    spec : Spectrogram or array-like of shape (n_freqs, n_frames)
        A multichannel :class:`Spectrogram` is summed over its channels.
    n_components : int, default=None
        Number of templates; taken from ``templates`` when those are given.
    beta_loss : {"kullback-leibler", "itakura-saito", "frobenius"} or float, \
            default="kullback-leibler"
        Divergence (nmfkit's ``beta_loss``). KL suits magnitude spectrograms,
        Itakura-Saito power spectrograms (Fevotte, Bertin and Durrieu 2009).
    templates : array-like of shape (n_components, n_freqs), default=None
        Fixed templates (for example from :func:`learn_templates`): only the
        activations are fitted (supervised separation).
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"} or None, default=None
        nmfkit's initialization of a fit with learned templates.
    solver : {"auto", "mu", "cd"}, default="auto"
        nmfkit's solver ("auto": multiplicative updates for KL and IS).
    max_iter : int, default=200
        Largest number of iterations.
    tol : float, default=1e-4
        Tolerance of the stopping test (nmfkit's ``tol``).
    random_state : int or None, default=0
        Seed of the initialization.
    floor : "auto" or float, default="auto"
        Values below ``floor * max(spec)`` are raised to it before the fit;
        "auto" is 1e-6 for beta <= 0 (which needs positive data) and 0 else.
    progress : nmfkit.apps.Progress, default=None
        Shows the iterations of a fit with learned templates
        (:meth:`~nmfkit.apps.Progress.watch`; a bar only on a terminal).

    Returns
    -------
    factors : SpectralFactors
        Templates, activations and the fit's objective at the data's scale.

    Raises
    ------
    ValueError
        If the spectrogram is not a non-negative finite 2-D array, is empty
        or all zeros; if ``floor`` is not valid; if ``n_components`` is
        missing, or the fixed templates do not fit the spectrogram.

    See Also
    --------
    nmfkit.audio.spectrogram : The spectrogram of a signal.
    learn_templates : Templates from clean examples, to give as ``templates``.
    nmfkit.audio.separate : One signal per group of components.
    nmfkit.NMF : The estimator behind the fit.

    References
    ----------
    .. [1] P. Smaragdis and J. C. Brown, "Non-negative matrix factorization
       for polyphonic music transcription", IEEE Workshop on Applications of
       Signal Processing to Audio and Acoustics (WASPAA), 2003.
    .. [2] C. Fevotte, N. Bertin and J.-L. Durrieu, "Nonnegative matrix
       factorization with the Itakura-Saito divergence: with application to
       music analysis", Neural Computation 21(3), 793-830, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.outer([1.0, 2.0, 0.5], [1.0, 0.0, 3.0]) + np.outer([0, 1, 4], [2, 1, 0])
    >>> f = decompose_spectrogram(S, 2, max_iter=2000, tol=0)
    >>> bool(np.allclose(f.model(), S, atol=1e-3))
    True
    """
    beta = beta_to_float(beta_loss)
    floor = _check_floor(floor, beta)
    X = _spectrogram_matrix(spec)
    scale = float(X.max())
    if scale == 0:
        raise ValueError(
            "the spectrogram is all zeros (a silent signal); there is nothing to "
            "factorize."
        )
    Xn = X / scale
    if floor > 0:
        Xn = np.maximum(Xn, floor)
    if templates is None:
        if n_components is None:
            raise ValueError("give n_components (the number of templates).")
        model = NMF(
            n_components,
            init=init,
            solver=solver,
            beta_loss=beta,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        watch = progress.watch(model, "audio") if progress is not None else None
        start = time.perf_counter()
        with watch if watch is not None else contextlib.nullcontext():
            W = model.fit_transform(Xn)
        seconds = time.perf_counter() - start
        H = model.components_
        peak = H.max(axis=1)
        peak[peak == 0] = 1.0
        templates_out = H / peak[:, None]
        activations = W * (peak * scale)[None, :]
        objective = divergence(Xn, W @ H, beta) * scale**beta
        history = model.history_.copy()
        history[:, 2] *= scale**beta
        n_iter = int(model.n_iter_)
    else:
        T = np.asarray(templates, dtype=np.float64)
        if T.ndim != 2 or T.shape[1] != X.shape[1]:
            raise ValueError(
                f"the templates have shape {T.shape}; give (n_components, "
                f"{X.shape[1]}), one spectrum per row over the spectrogram's "
                "frequencies."
            )
        if n_components is not None and n_components != T.shape[0]:
            raise ValueError(
                f"n_components={n_components} differs from the {T.shape[0]} "
                "templates given; leave n_components out."
            )
        if not np.all(np.isfinite(T)) or T.min() < 0:
            raise ValueError("the templates must be finite and non-negative.")
        peak = T.max(axis=1)
        if np.any(peak == 0):
            zero = int(np.flatnonzero(peak == 0)[0])
            raise ValueError(
                f"template {zero} is all zeros; drop it, it cannot explain anything."
            )
        start = time.perf_counter()
        W, _, n_iter = non_negative_factorization(
            Xn,
            H=T / peak[:, None],
            update_H=False,
            solver=solver,
            beta_loss=beta,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        seconds = time.perf_counter() - start
        templates_out = T
        activations = W * (scale / peak)[None, :]
        objective = divergence(Xn, W @ (T / peak[:, None]), beta) * scale**beta
        history = None
    return SpectralFactors(
        templates=templates_out,
        activations=activations,
        beta=beta,
        objective=float(objective),
        n_iter=int(n_iter),
        seconds=seconds,
        history=history,
        fixed_templates=templates is not None,
        scale=scale,
        floor=floor,
    )


@dataclass(eq=False)
class SourceTemplates:
    """Templates learned per source by :func:`learn_templates`.

    Attributes
    ----------
    templates : ndarray of shape (n_components, n_freqs)
        The templates of all sources, stacked in source order.
    groups : list of ndarray of int
        ``groups[j]``: the rows of ``templates`` that belong to source ``j``.
    names : list of str
        The sources' names (``"source 1"``... for a list of examples).

    See Also
    --------
    learn_templates : Returns it.
    decompose_spectrogram : Takes ``templates`` as fixed templates.

    Examples
    --------
    >>> import numpy as np
    >>> learned = learn_templates([np.eye(4)[:, :2] + 0.1, np.eye(4)[:, 2:] + 0.1], 1)
    >>> learned.names, learned.templates.shape, [g.tolist() for g in learned.groups]
    (['source 1', 'source 2'], (2, 4), [[0], [1]])
    """

    templates: np.ndarray
    groups: list
    names: list


def learn_templates(examples, n_components, **options):
    """Learn templates from clean examples of each source.

    Parameters
    ----------
    examples : sequence or mapping of Spectrogram or (n_freqs, n_frames) arrays
        One clean example per source (a mapping gives the sources' names);
        all with the same frequencies as the mixture to separate.
    n_components : int or sequence of int
        Templates per source (one number for all, or one per source).
    **options
        Passed to :func:`decompose_spectrogram` (``beta_loss``, ``max_iter``...).

    Returns
    -------
    learned : SourceTemplates
        Give ``learned.templates`` to :func:`decompose_spectrogram` as fixed
        templates and ``learned.groups`` to :func:`nmfkit.audio.separate`.

    Raises
    ------
    TypeError
        If ``examples`` is not a list or dict, or ``templates`` is passed.
    ValueError
        If there is no example, the ranks do not match the examples, the
        examples have different frequencies, or a fit refuses its example.

    See Also
    --------
    decompose_spectrogram : Fits the activations to the learned templates.
    nmfkit.audio.group_templates : Blind grouping, without examples.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.audio import spectrogram
    >>> t = np.arange(2000) / 8000
    >>> low = spectrogram(np.sin(2 * np.pi * 300 * t), 8000, n_fft=128)
    >>> high = spectrogram(np.sin(2 * np.pi * 2000 * t), 8000, n_fft=128)
    >>> learned = learn_templates({"low": low, "high": high}, [1, 2])
    >>> learned.names, learned.templates.shape, [g.tolist() for g in learned.groups]
    (['low', 'high'], (3, 65), [[0], [1, 2]])
    >>> mix = spectrogram(np.sin(2 * np.pi * 300 * t) + np.sin(2 * np.pi * 2000 * t),
    ...                   8000, n_fft=128)
    >>> fixed = decompose_spectrogram(mix, templates=learned.templates)
    >>> fixed.fixed_templates, fixed.activations.shape
    (True, (66, 3))
    """
    if "templates" in options:
        raise TypeError("learn_templates learns the templates; do not pass templates.")
    if isinstance(examples, Mapping):
        names, specs = list(map(str, examples)), list(examples.values())
    elif isinstance(examples, Sequence) and not isinstance(examples, str):
        specs = list(examples)
        names = [f"source {j + 1}" for j in range(len(specs))]
    else:
        raise TypeError(
            "examples must be a list (or dict) of spectrograms, one per source."
        )
    if not specs:
        raise ValueError("give at least one example.")
    ranks = (
        [n_components] * len(specs)
        if isinstance(n_components, numbers.Integral)
        else list(n_components)
    )
    if len(ranks) != len(specs):
        raise ValueError(
            f"{len(ranks)} ranks for {len(specs)} examples; give one per example "
            "or a single number."
        )
    blocks, groups, start = [], [], 0
    for spec, rank in zip(specs, ranks, strict=True):
        factors = decompose_spectrogram(spec, rank, **options)
        blocks.append(factors.templates)
        groups.append(np.arange(start, start + rank))
        start += rank
    widths = {b.shape[1] for b in blocks}
    if len(widths) != 1:
        raise ValueError(
            f"the examples have different numbers of frequencies ({sorted(widths)}); "
            "compute every spectrogram with the same n_fft."
        )
    return SourceTemplates(templates=np.vstack(blocks), groups=groups, names=names)
