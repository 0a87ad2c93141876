"""Audio: reading sound files, and a synthesized mixture with known sources.

:func:`load_audio` reads WAV and FLAC (and the other formats of libsndfile)
through soundfile, the ``audio`` extra, or WAV alone through
:mod:`scipy.io.wavfile` without it. :func:`make_music_mixture` synthesizes a
short piece of three instruments whose separate tracks are known, for the
separation demo, tests and benchmark.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._optional import import_optional
from .._typing import PathLike, RandomStateLike

__all__ = ["AUDIO_SUFFIXES", "load_audio", "make_music_mixture"]

#: File name endings :func:`load_audio` reads (WAV alone without soundfile).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def _pcm_to_float(x):
    """Integer PCM samples to floats in [-1, 1), as soundfile scales them."""
    if x.dtype.kind == "f":
        return x.astype(np.float64)
    if x.dtype == np.uint8:
        return (x.astype(np.float64) - 128.0) / 128.0
    bits = 8 * x.dtype.itemsize
    return x.astype(np.float64) / float(2 ** (bits - 1))


def _read_scipy(path):
    import scipy.io.wavfile

    try:
        rate, x = scipy.io.wavfile.read(path)
    except ValueError as exc:
        raise ValueError(f"{path} is not a readable WAV file ({exc}).") from None
    return _pcm_to_float(np.asarray(x)), float(rate)


def _read_soundfile(path):
    soundfile = import_optional(
        "soundfile", purpose=f"reading {path.suffix} files", extra="audio"
    )
    try:
        x, rate = soundfile.read(path, dtype="float64", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ValueError(f"{path} is not a readable sound file ({exc}).") from None
    return x, float(rate)


def _resample(x, rate, target):
    import scipy.signal

    if float(rate) != int(rate) or float(target) != int(target):
        raise ValueError(
            f"resampling from {rate} Hz to {target} Hz needs whole numbers of "
            "samples per second."
        )
    ratio = Fraction(int(target), int(rate))
    return scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0)


def load_audio(
    path: PathLike,
    *,
    mono: bool = False,
    sample_rate: int | None = None,
    backend: str = "auto",
) -> Bunch:
    """Read a sound file as float samples in [-1, 1].

    Parameters
    ----------
    path : str or path-like
        A WAV, FLAC, OGG or AIFF file (WAV only without soundfile).
    mono : bool, default=False
        Average the channels into one.
    sample_rate : int, default=None
        Resample to this rate (polyphase filtering,
        :func:`scipy.signal.resample_poly`) when it differs from the file's;
        None keeps the file's rate: nothing is resampled unless asked.
    backend : {"auto", "soundfile", "scipy"}, default="auto"
        ``"auto"``: soundfile when installed, else :mod:`scipy.io.wavfile`
        (WAV only).

    Returns
    -------
    audio : Bunch
        ``signal`` (ndarray of shape (n_samples,) for one channel, else
        (n_samples, n_channels), float64), ``sample_rate``, ``n_channels``,
        ``duration`` (seconds), ``original_sample_rate``, ``name`` (the
        file's stem) and ``path``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the name has no audio suffix, the backend is unknown or cannot read
        the format, the file holds no samples or non-finite ones, or
        ``sample_rate`` is not positive.

    See Also
    --------
    make_music_mixture : A synthesized mixture with its tracks.
    nmfkit.audio.spectrogram : The spectrogram NMF factorizes.
    nmfkit.audio.write_wav : Write samples back to a WAV file.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.io import wavfile
    >>> from nmfkit.datasets import load_audio
    >>> tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(800) / 8000) * 32767)
    >>> wavfile.write("tone.wav", 8000, tone.astype(np.int16))
    >>> audio = load_audio("tone.wav", backend="scipy")
    >>> audio.sample_rate, audio.signal.shape
    (8000.0, (800,))
    >>> round(float(np.abs(audio.signal).max()), 2)
    0.5
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise ValueError(
            f"cannot read {path}: the name must end in one of "
            f"{', '.join(AUDIO_SUFFIXES)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    if backend not in ("auto", "soundfile", "scipy"):
        raise ValueError(
            f"backend={backend!r} is not valid; choose 'auto', 'soundfile' or 'scipy'."
        )
    if backend == "auto":
        try:
            import soundfile  # noqa: F401

            backend = "soundfile"
        except ImportError:
            if suffix != ".wav":  # raises, saying how to install soundfile
                import_optional(
                    "soundfile", purpose=f"reading {suffix} files", extra="audio"
                )
            backend = "scipy"
    if backend == "scipy" and suffix != ".wav":
        raise ValueError(
            f"scipy reads WAV files only, not {suffix}; use backend='soundfile' "
            '(pip install "nmfkit[audio]").'
        )
    x, rate = _read_scipy(path) if backend == "scipy" else _read_soundfile(path)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] == 0:
        raise ValueError(f"{path} holds no samples.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{path} holds NaN or infinite samples.")
    original = rate
    if sample_rate is not None:
        if isinstance(sample_rate, (bool, np.bool_)) or not (
            isinstance(sample_rate, numbers.Real) and sample_rate > 0
        ):
            raise ValueError(
                f"sample_rate={sample_rate!r} is not valid; give a positive rate "
                "or None to keep the file's."
            )
        if float(sample_rate) != rate:
            x = _resample(x, rate, sample_rate)
            rate = float(sample_rate)
    if mono or x.shape[1] == 1:
        x = x.mean(axis=1)
    return Bunch(
        signal=np.ascontiguousarray(x),
        sample_rate=rate,
        n_channels=1 if x.ndim == 1 else x.shape[1],
        duration=x.shape[0] / rate,
        original_sample_rate=original,
        name=path.stem,
        path=str(path),
    )


# --------------------------------------------------------------- synthesis
#: The instruments of :func:`make_music_mixture`: pitches in Hz, note length
#: in beats (0.25 s each) and timbre.
INSTRUMENTS = {
    "bass": dict(pitches=(98.0, 110.0, 130.81, 146.83, 164.81), beats=2),
    "lead": dict(pitches=(523.25, 587.33, 659.26, 783.99, 880.0), beats=1),
    "drums": dict(pitches=(), beats=1),
}
_BEAT = 0.25


def _envelope(n, rate, attack, release, decay=None):
    t = np.arange(n) / rate
    env = np.minimum(1.0, t / attack) if attack > 0 else np.ones(n)
    if decay is not None:
        env = env * np.exp(-t / decay)
    tail = np.clip((n / rate - t) / release, 0.0, 1.0)
    return env * tail


def _harmonic_note(f0, n, rate, amplitudes):
    t = np.arange(n) / rate
    note = np.zeros(n)
    for h, a in enumerate(amplitudes, start=1):
        if h * f0 < rate / 2:
            note += a * np.sin(2 * np.pi * h * f0 * t)
    return note


def _bass_note(f0, n, rate):
    amps = [math.exp(-h / 4.0) / h for h in range(1, 13)]
    return _harmonic_note(f0, n, rate, amps) * _envelope(n, rate, 0.005, 0.05, 0.45)


def _lead_note(f0, n, rate):
    amps = [(1.0 if h % 2 else 0.08) / h for h in range(1, 9)]
    return _harmonic_note(f0, n, rate, amps) * _envelope(n, rate, 0.03, 0.06)


def _drum_hit(n, rate, rng, low):
    import scipy.signal

    noise = rng.standard_normal(n)
    nyq = rate / 2
    if low:  # a snare-like band
        b, a = scipy.signal.butter(2, [1000 / nyq, min(3000 / nyq, 0.95)], "band")
        decay = 0.08
    else:  # a hi-hat-like top
        b, a = scipy.signal.butter(2, min(2500 / nyq, 0.9), "high")
        decay = 0.03
    return scipy.signal.lfilter(b, a, noise) * _envelope(n, rate, 0.001, 0.01, decay)


def make_music_mixture(
    *,
    duration: float = 4.0,
    sample_rate: int = 8000,
    random_state: RandomStateLike = 0,
) -> Bunch:
    """A short synthesized piece of three instruments, with its separate tracks.

    Deterministic for a given ``random_state`` (which picks the notes and the
    drum noise; the timbres are fixed):

    - **bass**: plucked notes (5 ms attack, 0.45 s decay), two beats each,
      from G2 to E3 (98 to 165 Hz), 12 harmonics falling as ``exp(-h/4)/h``;
    - **lead**: clarinet-like notes (odd harmonics ``1/h``, even ones 0.08/h)
      from C5 to A5 (523 to 880 Hz), one beat each, with rests;
    - **drums**: noise bursts on every beat, a hi-hat (high-passed above
      2.5 kHz, 30 ms decay) or, on every other beat at random, a snare-like
      band of 1 to 3 kHz (80 ms decay).

    A beat is 0.25 s. Each track is scaled to an RMS of 0.1 and the mixture is
    their sum (no clipping: peak below 1).

    Parameters
    ----------
    duration : float, default=4.0
        Seconds.
    sample_rate : int, default=8000
    random_state : int, default=0

    Returns
    -------
    music : Bunch
        ``mixture`` (n_samples,), ``sources`` (3, n_samples) that add up to
        it, ``source_names``, ``sample_rate``, ``notes`` (``(source, onset in
        s, length in s, pitch in Hz or None)`` for each note) and
        ``description``.

    Raises
    ------
    ValueError
        If ``duration`` is outside 0.5 to 600 s or ``sample_rate`` is below
        4000 Hz.

    See Also
    --------
    load_audio : Read a recording from a file.
    nmfkit.audio.separate : Separate such a mixture into its sources.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.datasets import make_music_mixture
    >>> music = make_music_mixture(duration=1.0)
    >>> music.sources.shape, music.source_names
    ((3, 8000), ['bass', 'lead', 'drums'])
    >>> bool(np.allclose(music.sources.sum(axis=0), music.mixture))
    True
    """
    if not (isinstance(duration, numbers.Real) and 0.5 <= duration <= 600):
        raise ValueError(f"duration={duration!r} is not valid; give 0.5 to 600 s.")
    if not (isinstance(sample_rate, numbers.Integral) and sample_rate >= 4000):
        raise ValueError(
            f"sample_rate={sample_rate!r} is not valid; give an integer >= 4000 Hz."
        )
    rng = np.random.default_rng(random_state)
    n = int(round(duration * sample_rate))
    n_beats = int(duration / _BEAT)
    names = list(INSTRUMENTS)
    tracks = {name: np.zeros(n) for name in names}
    notes = []

    def place(name, onset_beat, wave):
        start = int(round(onset_beat * _BEAT * sample_rate))
        stop = min(n, start + wave.size)
        tracks[name][start:stop] += wave[: stop - start]

    for beat in range(0, n_beats, 2):  # bass: one note every two beats
        f0 = float(rng.choice(INSTRUMENTS["bass"]["pitches"]))
        length = int(2 * _BEAT * sample_rate)
        place("bass", beat, _bass_note(f0, length, sample_rate))
        notes.append(("bass", beat * _BEAT, 2 * _BEAT, f0))
    for beat in range(n_beats):  # lead: a note on 3 beats of 4, random rests
        if rng.random() < 0.25:
            continue
        f0 = float(rng.choice(INSTRUMENTS["lead"]["pitches"]))
        length = int(_BEAT * sample_rate)
        place("lead", beat, _lead_note(f0, length, sample_rate))
        notes.append(("lead", beat * _BEAT, _BEAT, f0))
    for beat in range(n_beats):  # drums: a hit on every beat
        low = beat % 2 == 1 and rng.random() < 0.7
        length = int(_BEAT * sample_rate)
        place("drums", beat, _drum_hit(length, sample_rate, rng, low))
        notes.append(("drums", beat * _BEAT, _BEAT, None))
    sources = np.stack([tracks[name] for name in names])
    rms = np.sqrt(np.mean(sources**2, axis=1, keepdims=True))
    sources = 0.1 * sources / np.where(rms > 0, rms, 1.0)
    mixture = sources.sum(axis=0)
    peak = float(np.max(np.abs(mixture)))
    if peak >= 0.99:
        sources, mixture = sources * (0.95 / peak), mixture * (0.95 / peak)
    return Bunch(
        mixture=mixture,
        sources=sources,
        source_names=names,
        sample_rate=int(sample_rate),
        notes=notes,
        description=(
            f"synthesized mixture, {duration:g} s at {sample_rate} Hz: bass "
            "(98-165 Hz notes), lead (523-880 Hz notes) and drums (noise bursts)"
        ),
    )
