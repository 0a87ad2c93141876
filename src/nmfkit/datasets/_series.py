"""Recordings: sets of non-negative time series, one per row.

:func:`load_recordings` reads them from a CSV/TSV table or a ``.npy`` array;
:func:`make_load_profiles` synthesizes a year of daily electricity load
profiles with a known structure, for the time-series templates view.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import numbers
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike, RandomStateLike

__all__ = ["RECORDING_SUFFIXES", "load_recordings", "make_load_profiles"]

#: File name endings :func:`load_recordings` reads.
RECORDING_SUFFIXES = (".csv", ".tsv", ".npy")


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _read_table(path, delimiter):
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError(f"{path} is not a text file (it holds NUL bytes).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (offset {exc.start}).") from None
    rows = [
        [c.strip() for c in row]
        for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        if any(c.strip() for c in row)
    ]
    if not rows:
        raise ValueError(f"{path} is empty; it needs one recording per row.")
    # A header: the first row has a non-number past its first cell, or the
    # table has names and the first row's first cell is empty.
    header = None
    first = rows[0]
    if any(_number(c) is None for c in first[1:]) or (
        len(rows) > 1 and _number(rows[1][0]) is None and first[0] == ""
    ):
        header, rows = first, rows[1:]
    if not rows:
        raise ValueError(f"{path} has a header but no recordings.")
    named = any(_number(row[0]) is None for row in rows)
    names, values = [], []
    for n, row in enumerate(rows, start=2 if header else 1):
        cells = row[1:] if named else row
        numbers_ = [_number(c) for c in cells]
        if None in numbers_:
            bad = cells[numbers_.index(None)]
            raise ValueError(
                f"{path}, line {n}: {bad!r} is not a number; every cell after the "
                "name column must be numeric."
            )
        names.append(row[0] if named else None)
        values.append(numbers_)
    widths = {len(v) for v in values}
    if len(widths) != 1:
        raise ValueError(
            f"{path}: recordings have different lengths ({sorted(widths)}); every "
            "row needs the same number of time points."
        )
    times = None
    if header is not None:
        times = header[1:] if named else header
        if len(times) != len(values[0]):
            times = None
    return np.array(values, dtype=np.float64), names, times


def load_recordings(path: PathLike) -> Bunch:
    """Read a set of recordings: one time series per row.

    Parameters
    ----------
    path : str or path-like
        - ``.csv`` / ``.tsv``: one recording per row. An optional header row
          names the time points; an optional first column (any cell that is
          not a number) names the recordings.
        - ``.npy``: a 2-D array (recordings x time points), or 1-D for one
          recording.

    Returns
    -------
    recordings : Bunch
        ``data`` (ndarray of shape (n_recordings, n_times), float64),
        ``names`` (one per recording: from the file, else ``"row 1"``...),
        ``times`` (labels of the time points: from the header, else
        ``"0"``, ``"1"``...), ``name`` (the file's stem) and ``path``. Values
        are not checked for sign here: an NMF fit names negative entries.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the suffix is not supported, or the file does not hold a 2-D table
        of finite numbers.

    See Also
    --------
    make_load_profiles : Synthetic daily profiles with known templates.
    nmfkit.apps.decompose_series : Time-series templates of recordings.

    Examples
    --------
    >>> from nmfkit.datasets import load_recordings
    >>> with open("days.csv", "w") as file:
    ...     _ = file.write("day,0h,1h,2h\\nmonday,1,2,3\\ntuesday,2,2,1\\n")
    >>> recordings = load_recordings("days.csv")
    >>> recordings.data.tolist(), recordings.names, recordings.times
    ([[1.0, 2.0, 3.0], [2.0, 2.0, 1.0]], ['monday', 'tuesday'], ['0h', '1h', '2h'])
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        raise ValueError(
            f"cannot read {path}: the name must end in one of "
            f"{', '.join(RECORDING_SUFFIXES)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    names = times = None
    if suffix == ".npy":
        try:
            data = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path} is not a readable .npy array ({exc}).") from None
        if data.dtype.kind not in "biuf":
            raise ValueError(f"{path} holds {data.dtype} values; give numbers.")
        if data.ndim == 1:
            data = data[None, :]
        if data.ndim != 2 or 0 in data.shape:
            raise ValueError(
                f"{path} holds an array of shape {data.shape}; give a 2-D array "
                "with one recording per row."
            )
        data = data.astype(np.float64)
    else:
        data, names, times = _read_table(path, "\t" if suffix == ".tsv" else ",")
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise ValueError(
            f"{path}: recording {row + 1}, time point {col + 1} is not a finite "
            "number; fill or drop it first."
        )
    if names is None or all(n is None for n in names):
        names = [f"row {i + 1}" for i in range(data.shape[0])]
    if times is None:
        times = [str(t) for t in range(data.shape[1])]
    return Bunch(
        data=data, names=list(names), times=list(times), name=path.stem, path=str(path)
    )


# --------------------------------------------------------------- synthesis
#: The four daily shapes of :func:`make_load_profiles` (hour -> relative load).
LOAD_TEMPLATE_NAMES = ("night", "morning", "office hours", "evening")


def _load_templates(hours):
    def bump(centre, width):
        d = (hours - centre + 12) % 24 - 12  # wraps around midnight
        return np.exp(-0.5 * (d / width) ** 2)

    def window(begin, end, edge=0.6):
        # a smooth plateau from begin to end (hours), wrapping around midnight
        length = (end - begin) % 24
        d = (hours - begin) % 24
        d = np.where(d > 12 + length / 2, d - 24, d)
        return 1 / (1 + np.exp(-d / edge)) / (1 + np.exp((d - length) / edge))

    T = np.stack(
        [
            window(23.0, 5.0),  # off-peak: storage and water heaters
            bump(7.0, 0.9),  # breakfast
            window(9.5, 17.0),  # business hours
            bump(19.5, 1.8),  # dinner, lights
        ]
    )
    return T / T.max(axis=1, keepdims=True)


def make_load_profiles(
    *,
    n_days: int = 365,
    points_per_day: int = 24,
    start: str = "2023-01-02",
    noise: float = 0.05,
    random_state: RandomStateLike = 0,
) -> Bunch:
    """A year of synthetic daily electricity load profiles, with known templates.

    Each day's profile is ``sum_k a_dk T_k(hour)`` times mild noise, with four
    daily shapes ``T`` (each scaled to a peak of 1, smooth edges):

    - **night**: off-peak heating, a plateau from 23:00 to 5:00;
    - **morning**: a breakfast peak at 7:00 (0.9 h wide);
    - **office hours**: a plateau from 9:30 to 17:00;
    - **evening**: a dinner and lighting peak at 19:30 (1.8 h wide).

    Their daily weights ``a`` follow the calendar: night heating
    ``0.05 + max(cos(2 pi (day of year - 1) / 365.25), 0)`` (on in winter
    only); morning 0.8 on weekdays and 0.3 on weekends; office hours 1 on
    weekdays and 0.05 on weekends; evening ``0.8 + 0.3 cos(...)``, times 1.2
    on weekends. Every weight gets a random daily factor (log-normal, sigma
    0.25) and every value multiplicative noise (log-normal, sigma
    ``noise``). Noise-free, the profiles are exactly ``weights @
    templates``, a non-negative rank-4 model that NMF identifies: every
    shape is nearly zero somewhere and every weight nearly zero on some days.

    Parameters
    ----------
    n_days : int, default=365
    points_per_day : int, default=24
        Time points per day (24: hourly; 48: half-hourly).
    start : str, default="2023-01-02"
        ISO date of the first day (a Monday).
    noise : float, default=0.05
    random_state : int, default=0

    Returns
    -------
    profiles : Bunch
        ``data`` (n_days, points_per_day) in kW, ``names`` (ISO dates),
        ``times`` ("00:00"...), ``templates`` (4, points_per_day) and
        ``weights`` (n_days, 4): the noise-free ``weights @ templates``,
        ``template_names``, ``weekend`` (bool per day) and ``description``.

    Raises
    ------
    ValueError
        If ``noise`` is outside [0, 1), or ``n_days`` or ``points_per_day`` is
        too small.

    See Also
    --------
    load_recordings : Read recordings from a file.

    Examples
    --------
    >>> from nmfkit.datasets import make_load_profiles
    >>> profiles = make_load_profiles(n_days=14)
    >>> profiles.data.shape, profiles.templates.shape
    ((14, 24), (4, 24))
    >>> profiles.template_names
    ['night', 'morning', 'office hours', 'evening']
    """
    for name, value, low in (
        ("n_days", n_days, 1),
        ("points_per_day", points_per_day, 4),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < low
        ):
            raise ValueError(
                f"{name}={value!r} is not valid; give an integer >= {low}."
            )
    if not (isinstance(noise, numbers.Real) and 0 <= noise < 1):
        raise ValueError(f"noise={noise!r} is not valid; give a number in [0, 1).")
    first = _dt.date.fromisoformat(start)
    days = [first + _dt.timedelta(days=d) for d in range(n_days)]
    hours = np.arange(points_per_day) * 24.0 / points_per_day
    templates = _load_templates(hours)
    rng = np.random.default_rng(random_state)
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
    winter = np.cos(2 * np.pi * (doy - 1) / 365.25)  # 1 in January, -1 in July
    weekend = np.array([d.weekday() >= 5 for d in days])
    weights = np.stack(
        [
            0.05 + np.maximum(winter, 0.0),
            np.where(weekend, 0.3, 0.8),
            np.where(weekend, 0.05, 1.0),
            (0.8 + 0.3 * winter) * np.where(weekend, 1.2, 1.0),
        ],
        axis=1,
    )
    weights = weights * rng.lognormal(0.0, 0.25, size=weights.shape)
    clean = weights @ templates
    data = clean * rng.lognormal(0.0, noise, size=clean.shape) if noise else clean
    times = [f"{int(h):02d}:{int(round((h % 1) * 60)):02d}" for h in hours]
    return Bunch(
        data=data,
        names=[d.isoformat() for d in days],
        times=times,
        templates=templates,
        weights=weights,
        template_names=list(LOAD_TEMPLATE_NAMES),
        weekend=weekend,
        description=(
            f"synthetic daily load profiles: {n_days} days x {points_per_day} "
            "points from 4 daily shapes (night, morning, office hours, evening)"
        ),
    )
