"""Writing signals as WAV: float32 files, 16-bit PCM for web pages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import scipy.io.wavfile

from ..reliability._atomic import atomic_write

__all__ = ["wav_bytes", "write_wav"]


def wav_bytes(signal, sample_rate, *, encoding="float32", peak=None):
    """A signal as the bytes of a WAV file.

    Parameters
    ----------
    signal : array-like of shape (n_samples,) or (n_samples, n_channels)
    sample_rate : int
    encoding : {"float32", "pcm16"}, default="float32"
        ``"float32"`` keeps the values as they are (no clipping);
        ``"pcm16"`` writes 16-bit integers, which every browser plays, after
        dividing by ``peak`` when the signal would clip.
    peak : float, default=None
        For ``"pcm16"``: the value that maps to full scale when larger than 1
        (give the same one to several signals to keep their levels); None
        uses the signal's largest absolute value.

    Returns
    -------
    data : bytes
    """
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim not in (1, 2) or not np.all(np.isfinite(x)):
        raise ValueError(
            f"cannot write a signal of shape {x.shape} with non-finite values; "
            "give finite (n_samples,) or (n_samples, n_channels) values."
        )
    rate = int(round(float(sample_rate)))
    if rate < 1:
        raise ValueError(f"sample_rate={sample_rate!r} is not a positive rate.")
    buffer = io.BytesIO()
    if encoding == "float32":
        scipy.io.wavfile.write(buffer, rate, x.astype(np.float32))
    elif encoding == "pcm16":
        top = float(np.max(np.abs(x), initial=0.0)) if peak is None else float(peak)
        if top > 1:
            x = x / top
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
        scipy.io.wavfile.write(buffer, rate, pcm)
    else:
        raise ValueError(
            f"encoding={encoding!r} is not valid; choose 'float32' or 'pcm16'."
        )
    return buffer.getvalue()


def write_wav(path, signal, sample_rate, *, force=False, encoding="float32"):
    """Write a WAV file atomically (never half-written, never replaced unasked).

    Parameters
    ----------
    path : str or path-like
    signal : array-like of shape (n_samples,) or (n_samples, n_channels)
    sample_rate : int
    force : bool, default=False
        Replace an existing file.
    encoding : {"float32", "pcm16"}, default="float32"

    Returns
    -------
    path : pathlib.Path
    """
    data = wav_bytes(signal, sample_rate, encoding=encoding)
    with atomic_write(path, "wb", force=force) as f:
        f.write(data)
    return Path(path)
