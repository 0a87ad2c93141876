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
        Mono or multichannel samples, finite.
    sample_rate : int
        Samples per second (rounded to an integer).
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
        A complete WAV file (header and samples).

    Raises
    ------
    ValueError
        If the signal is not 1-D or 2-D or has non-finite values, the rate is
        not positive, or ``encoding`` is unknown.

    See Also
    --------
    write_wav : Writes these bytes to a file.
    scipy.io.wavfile.read : Reads them back.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> import scipy.io.wavfile
    >>> x = 2 * np.sin(2 * np.pi * 440 * np.arange(2000) / 8000)
    >>> rate, back = scipy.io.wavfile.read(io.BytesIO(wav_bytes(x, 8000)))
    >>> rate, back.dtype, bool(np.allclose(back, x, atol=1e-6))
    (8000, dtype('float32'), True)
    >>> data = wav_bytes(x, 8000, encoding="pcm16")
    >>> rate, pcm = scipy.io.wavfile.read(io.BytesIO(data))
    >>> pcm.dtype, int(np.abs(pcm).max())  # divided by its peak of 2
    (dtype('int16'), 32767)
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
        The file to write.
    signal : array-like of shape (n_samples,) or (n_samples, n_channels)
        Mono or multichannel samples, finite.
    sample_rate : int
        Samples per second.
    force : bool, default=False
        Replace an existing file.
    encoding : {"float32", "pcm16"}, default="float32"
        As in :func:`wav_bytes`.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For a signal, rate or encoding :func:`wav_bytes` refuses.
    FileExistsError
        If ``path`` exists and ``force`` is False (nmfkit's
        ``OutputExistsError``, a subclass).
    FileNotFoundError
        If the folder of ``path`` does not exist.

    See Also
    --------
    wav_bytes : The bytes, for a web page or a stream.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.io.wavfile
    >>> x = np.sin(2 * np.pi * 440 * np.arange(2000) / 8000)
    >>> path = write_wav("tone.wav", x, 8000)
    >>> rate, back = scipy.io.wavfile.read(path)
    >>> path.name, rate, back.shape
    ('tone.wav', 8000, (2000,))
    """
    data = wav_bytes(signal, sample_rate, encoding=encoding)
    with atomic_write(path, "wb", force=force) as f:
        f.write(data)
    return Path(path)
