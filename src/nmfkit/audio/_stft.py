"""Spectrograms that remember how to rebuild their signal.

:func:`spectrogram` runs SciPy's :class:`scipy.signal.ShortTimeFFT` and keeps
the complex short-time Fourier transform, the transform object and the
signal's length, so :meth:`Spectrogram.istft` rebuilds a signal from any
complex spectrogram of the same layout (the mixture's, or a masked one).

Layout: ``values`` and ``stft`` are (n_freqs, n_frames) for a mono signal
and (n_channels, n_freqs, n_frames) for a multichannel one, SciPy's order.
NMF works on ``values_for_nmf()``, the frames x frequencies matrix (summed
over channels), so that its ``components_`` are spectral templates and its
codes ``W`` the activations over time.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.signal

__all__ = ["SPECTRUM_KINDS", "Spectrogram", "default_n_fft", "spectrogram"]

#: Spectrogram kinds and the exponent of ``|STFT|`` each one takes.
SPECTRUM_KINDS = {"magnitude": 1, "power": 2}


def default_n_fft(sample_rate):
    """The power of two nearest to 64 ms of signal (512 samples at 8 kHz).

    Parameters
    ----------
    sample_rate : float
        Samples per second.

    Returns
    -------
    n_fft : int
        ``2 ** round(log2(0.064 * sample_rate))``.

    See Also
    --------
    spectrogram : Uses it when ``n_fft`` is None.

    Examples
    --------
    >>> default_n_fft(8000), default_n_fft(16000), default_n_fft(44100)
    (512, 1024, 2048)
    """
    return int(2 ** round(math.log2(0.064 * float(sample_rate))))


def _check_signal(signal):
    x = np.asarray(signal)
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"the signal holds {x.dtype} values; give real numbers (a float array)."
        )
    x = x.astype(np.float64, copy=False)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(
            f"the signal has shape {x.shape}; give (n_samples,) for mono or "
            "(n_samples, n_channels) for several channels."
        )
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x.reshape(x.shape[0], -1)).any(1))[0])
        raise ValueError(
            f"the signal has a NaN or infinite value at sample {bad}; remove or "
            "replace it first."
        )
    return x


def _check_positive_int(name, value):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < 1
    ):
        raise ValueError(f"{name}={value!r} is not valid; give an integer >= 1.")
    return int(value)


@dataclass(eq=False)
class Spectrogram:
    """A spectrogram with what it needs to go back to a signal.

    Built by :func:`spectrogram`; see there for the parameters.

    Attributes
    ----------
    values : ndarray of shape (n_freqs, n_frames) or (n_channels, n_freqs, n_frames)
        ``|stft| ** exponent``: magnitude (exponent 1) or power (2).
    stft : complex ndarray, the same shape
        The short-time Fourier transform.
    kind : {"magnitude", "power"}
    sample_rate : float
    n_samples : int
        Length of the signal, to cut the rebuilt signal to.
    n_channels : int or None
        None for a mono (1-D) signal.
    transform : scipy.signal.ShortTimeFFT
        The transform, which :meth:`istft` inverts.

    See Also
    --------
    spectrogram : Builds it from a signal.
    nmfkit.audio.decompose_spectrogram : Factorizes it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(2 * np.pi * 440 * np.arange(2000) / 8000)
    >>> spec = spectrogram(x, 8000, n_fft=128)
    >>> spec.shape, spec.n_fft, spec.hop_length, spec.n_channels
    ((65, 66), 128, 32, None)
    >>> spec.values_for_nmf().shape  # frames x frequencies
    (66, 65)
    """

    values: np.ndarray
    stft: np.ndarray
    kind: str
    sample_rate: float
    n_samples: int
    n_channels: int | None
    transform: scipy.signal.ShortTimeFFT

    @property
    def exponent(self):
        """The exponent of ``|stft|``: 1 for magnitude, 2 for power."""
        return SPECTRUM_KINDS[self.kind]

    @property
    def n_fft(self):
        """Window length and FFT size in samples."""
        return self.transform.mfft

    @property
    def hop_length(self):
        """Samples between the starts of consecutive frames."""
        return self.transform.hop

    @property
    def frequencies(self):
        """Frequency of each bin in Hz, shape (n_freqs,)."""
        return self.transform.f

    @property
    def times(self):
        """Centre of each frame in seconds, shape (n_frames,)."""
        return self.transform.t(self.n_samples)

    @property
    def shape(self):
        """Shape of :attr:`values`: (n_freqs, n_frames), channels first if any."""
        return self.values.shape

    def values_for_nmf(self):
        """The frames x frequencies matrix that NMF factorizes.

        Returns
        -------
        X : ndarray of shape (n_frames, n_freqs)
            ``values.T``, summed over the channels of a multichannel signal.

        See Also
        --------
        nmfkit.audio.decompose_spectrogram : Factorizes this matrix.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.arange(2000) / 8000
        >>> phase = 2 * np.pi * 440 * t
        >>> stereo = np.stack([np.sin(phase), np.cos(phase)], axis=1)
        >>> spec = spectrogram(stereo, 8000, n_fft=128)
        >>> spec.shape
        (2, 65, 66)
        >>> X = spec.values_for_nmf()
        >>> X.shape, bool(np.allclose(X, spec.values.sum(axis=0).T))
        ((66, 65), True)
        """
        v = self.values if self.n_channels is None else self.values.sum(axis=0)
        return np.ascontiguousarray(v.T)

    def istft(self, stft=None):
        """Rebuild a signal from a complex spectrogram of this layout.

        Parameters
        ----------
        stft : complex ndarray, default=None
            Of the shape of :attr:`stft`, or with one more leading axis (one
            spectrogram per source). None rebuilds this spectrogram's signal.

        Returns
        -------
        signal : ndarray
            ``(n_samples,)`` or ``(n_samples, n_channels)``, with the leading
            source axis kept when ``stft`` has one.

        Raises
        ------
        ValueError
            If ``stft`` is not of this spectrogram's shape (with or without a
            leading source axis).

        See Also
        --------
        nmfkit.audio.separate : Rebuilds one signal per source with it.

        Examples
        --------
        >>> import numpy as np
        >>> x = np.sin(2 * np.pi * 440 * np.arange(2000) / 8000)
        >>> spec = spectrogram(x, 8000, n_fft=128)
        >>> float(np.max(np.abs(spec.istft() - x))) < 1e-12
        True
        >>> halves = spec.istft(np.stack([0.5 * spec.stft, 0.5 * spec.stft]))
        >>> halves.shape, bool(np.allclose(halves.sum(axis=0), x))
        ((2, 2000), True)
        """
        S = self.stft if stft is None else np.asarray(stft)
        base = self.stft.shape
        if S.shape != base and S.shape[1:] != base:
            raise ValueError(
                f"the spectrogram has shape {S.shape}; this transform rebuilds "
                f"shape {base} (or (n_sources, *{base}))."
            )
        x = self.transform.istft(S, k1=self.n_samples, f_axis=-2, t_axis=-1)
        if self.n_channels is not None:
            x = np.moveaxis(x, -2, -1)  # (..., n_samples, n_channels)
        return np.ascontiguousarray(x)


def spectrogram(
    signal,
    sample_rate,
    *,
    n_fft=None,
    hop_length=None,
    window="hann",
    kind="magnitude",
):
    """Short-time Fourier transform of a signal, magnitude or power.

    Parameters
    ----------
    signal : array-like of shape (n_samples,) or (n_samples, n_channels)
        Mono or multichannel samples, real and finite.
    sample_rate : float
        Samples per second.
    n_fft : int, default=None
        Window length and FFT size; None: :func:`default_n_fft` (about 64 ms).
    hop_length : int, default=None
        Samples between frames; None: ``n_fft // 4``.
    window : str, tuple or ndarray, default="hann"
        Anything :func:`scipy.signal.get_window` takes (periodic windows), or
        the window's values (length ``n_fft``).
    kind : {"magnitude", "power"}, default="magnitude"
        ``|STFT|`` or ``|STFT|^2``.

    Returns
    -------
    spec : Spectrogram
        Frames cover the whole signal (SciPy's ``p_min`` to ``p_max``), so
        :meth:`Spectrogram.istft` rebuilds it to rounding.

    Raises
    ------
    TypeError
        If the signal does not hold real numbers.
    ValueError
        If the signal is empty, not 1-D or 2-D, or not finite; if
        ``sample_rate``, ``kind``, ``n_fft``, ``hop_length`` or ``window``
        is not valid, or the window and hop cannot rebuild the signal.
    ImportError
        If SciPy is older than 1.12 (no :class:`scipy.signal.ShortTimeFFT`).

    See Also
    --------
    Spectrogram : The result, with :meth:`Spectrogram.istft`.
    nmfkit.audio.decompose_spectrogram : Factorizes a spectrogram.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
    >>> spec = spectrogram(x, 8000, n_fft=256)
    >>> spec.values.shape[0]  # n_fft // 2 + 1 frequencies
    129
    >>> spec.values.shape[1] >= 8000 // 64  # frames of hop n_fft // 4 cover it all
    True
    >>> float(np.max(np.abs(spec.istft() - x))) < 1e-12
    True
    """
    x = _check_signal(signal)
    if isinstance(sample_rate, (bool, np.bool_)) or not (
        isinstance(sample_rate, numbers.Real) and 0 < sample_rate < math.inf
    ):
        raise ValueError(
            f"sample_rate={sample_rate!r} is not valid; give the samples per "
            "second, a positive number."
        )
    if kind not in SPECTRUM_KINDS:
        raise ValueError(f"kind={kind!r} is not valid; choose 'magnitude' or 'power'.")
    n_fft = default_n_fft(sample_rate) if n_fft is None else n_fft
    n_fft = _check_positive_int("n_fft", n_fft)
    hop = max(1, n_fft // 4) if hop_length is None else hop_length
    hop = _check_positive_int("hop_length", hop)
    if hop > n_fft:
        raise ValueError(
            f"hop_length={hop} is longer than n_fft={n_fft}; frames would leave "
            "gaps. Give hop_length <= n_fft."
        )
    if isinstance(window, np.ndarray):
        win = np.asarray(window, dtype=np.float64)
        if win.shape != (n_fft,):
            raise ValueError(
                f"the window has shape {win.shape}; give n_fft={n_fft} values."
            )
    else:
        win = scipy.signal.get_window(window, n_fft, fftbins=True)
    if not hasattr(scipy.signal, "ShortTimeFFT"):
        raise ImportError(
            f"spectrograms need SciPy >= 1.12 (ShortTimeFFT); this is SciPy "
            f'{scipy.__version__}: pip install "nmfkit[audio]".'
        )
    try:
        transform = scipy.signal.ShortTimeFFT(
            win, hop, float(sample_rate), fft_mode="onesided", mfft=n_fft
        )
    except ValueError as exc:  # no dual window: the frames cannot be inverted
        raise ValueError(
            f"this window and hop_length={hop} cannot rebuild the signal ({exc}); "
            "use a smaller hop_length."
        ) from None
    n = x.shape[0]
    if x.ndim == 1:
        S = transform.stft(x)
        channels = None
    else:
        S = transform.stft(x.T, axis=-1)  # (n_channels, n_freqs, n_frames)
        channels = x.shape[1]
    values = np.abs(S) if kind == "magnitude" else S.real**2 + S.imag**2
    return Spectrogram(
        values=values,
        stft=S,
        kind=kind,
        sample_rate=float(sample_rate),
        n_samples=n,
        n_channels=channels,
        transform=transform,
    )
