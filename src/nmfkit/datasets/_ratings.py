"""Reading ratings files: ``user, item, rating[, timestamp]`` per line.

The layout of MovieLens (``u.data``, ``u1.base``: tab-separated, no header;
``ratings.csv``: a header ``userId,movieId,rating,timestamp``; ``ratings.dat``:
``::``-separated) and of any CSV/TSV with 3 or 4 columns. The delimiter is
detected; the first row is a header only if none of its cells is a number.
Anything else (another number of columns, a rating that is not a finite
non-negative number) is refused with the line number and the expected layout.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from ._matrix import _is_number, _split, detect_delimiter

__all__ = ["LAYOUT", "read_ratings", "read_titles"]

#: The layout every message names.
LAYOUT = "user, item, rating[, timestamp] per line"


def _text(path, what):
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder; give a {what} file ({LAYOUT}; for MovieLens 100K: "
            "ml-100k/u.data, or ml-100k/u1.base with --test ml-100k/u1.test)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError(f"{path} is not a text file (it holds NUL bytes)")
    try:
        return path, raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return path, raw.decode("latin-1")


def read_ratings(path):
    """Read a ratings file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    users, items : list of str
        The labels as written in the file.
    ratings : ndarray of float64

    Raises
    ------
    ValueError
        A folder, a file with another layout (naming the line and the
        expected one), a rating that is not a finite non-negative number, or
        no ratings at all.
    FileNotFoundError
        No such file.
    """
    path, text = _text(path, "ratings")
    if "::" in text.split("\n", 1)[0]:
        text = text.replace("::", "\t")
    delimiter = detect_delimiter(text)
    try:
        numbered = list(_split(text, delimiter))
    except csv.Error as exc:
        raise ValueError(f"{path} is not a readable ratings file ({exc})") from None
    start = 0
    if numbered and not any(_is_number(cell) for cell in numbered[0][1]):
        start = 1  # a header, checked for its width below
    users, items, values = [], [], []
    for k, (number, cells) in enumerate(numbered):
        if len(cells) not in (3, 4):
            hint = "; for a matrix of numbers use nmfkit fit" if len(cells) > 4 else ""
            raise ValueError(
                f"{path}, line {number} has {len(cells)} column(s); a ratings file "
                f"has 3 or 4: {LAYOUT}{hint}"
            )
        if k < start:
            continue
        user, item, rating = cells[:3]
        if not _is_number(rating):
            raise ValueError(
                f"{path}, line {number}: rating {rating!r} is not a number ({LAYOUT})"
            )
        value = float(rating)
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"{path}, line {number}: rating {rating} is not a finite "
                "non-negative number; NMF needs non-negative ratings"
            )
        if not user or not item:
            raise ValueError(
                f"{path}, line {number}: the user or the item is empty ({LAYOUT})"
            )
        users.append(user)
        items.append(item)
        values.append(value)
    if not values:
        raise ValueError(f"{path} holds no ratings ({LAYOUT})")
    return users, items, np.asarray(values, dtype=np.float64)


def read_titles(path):
    """Item titles from MovieLens ``u.item`` (``|``-separated) or CSV ``item,title``.

    Returns
    -------
    titles : dict
        Item label -> title.
    """
    path, text = _text(path, "titles")
    first = text.split("\n", 1)[0]
    delimiter = "|" if "|" in first else detect_delimiter(text) or ","
    titles = {}
    for _, cells in _split(text, delimiter):
        if len(cells) >= 2:
            titles[cells[0]] = cells[1]
    return titles
