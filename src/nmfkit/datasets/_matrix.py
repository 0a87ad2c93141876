"""Reading a data matrix from a file: NumPy, CSV or Matrix Market."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp

from .._typing import PathLike

__all__ = ["MATRIX_SUFFIXES", "load_matrix"]

#: File name endings :func:`load_matrix` reads.
MATRIX_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".mtx")


def _load_npz(path, key):
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz archive ({exc}).") from exc
    with archive:
        names = list(archive.files)
        if {"format", "shape", "data"} <= set(names) and key is None:
            return sp.load_npz(path).tocsr()
        if key is None:
            if len(names) != 1:
                raise ValueError(
                    f"{path} holds {len(names)} arrays ({', '.join(names)}); say which "
                    "one to use (key=..., --key)."
                )
            key = names[0]
        if key not in names:
            raise ValueError(
                f"{path} has no array {key!r}; it holds {', '.join(names) or 'none'}."
            )
        try:
            return archive[key]
        except ValueError as exc:  # object arrays need pickle: refuse
            raise ValueError(f"{path}: array {key!r} is not numeric ({exc}).") from exc


def _load_text_table(path, delimiter):
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError(f"{path} is not a text file (it holds NUL bytes).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (offset {exc.start}).") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path} is empty; it needs at least one row of numbers.")
    rows = []
    for n, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split(delimiter)]
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if n == 1:  # a header row
                continue
            bad = next(c for c in cells if not _is_number(c))
            raise ValueError(
                f"{path}, line {n}: {bad!r} is not a number; every cell after the "
                "header must be numeric."
            ) from None
    if not rows:
        raise ValueError(f"{path} has a header but no rows of numbers.")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(
            f"{path}: rows have different numbers of cells ({sorted(widths)}); every "
            "row needs the same number of columns."
        )
    return np.array(rows, dtype=np.float64)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_matrix(path: PathLike, *, key: str | None = None) -> Any:
    """Read a matrix from ``.npy``, ``.npz``, ``.csv``/``.tsv`` or ``.mtx``.

    Parameters
    ----------
    path : str or path-like
        - ``.npy``: one array (no pickled objects);
        - ``.npz``: a SciPy sparse matrix (``scipy.sparse.save_npz``) or an
          archive of arrays (``key`` picks one when it holds several);
        - ``.csv`` / ``.tsv``: numbers separated by commas / tabs, with an
          optional header row;
        - ``.mtx``: Matrix Market (read as a CSR matrix when sparse).
    key : str, default=None
        Array of a ``.npz`` archive.

    Returns
    -------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Not yet checked for negative or missing values: pass it to an
        estimator, whose checks name the offending entries.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MATRIX_SUFFIXES:
        raise ValueError(
            f"cannot read {path}: the name must end in one of "
            f"{', '.join(MATRIX_SUFFIXES)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    if suffix == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path} is not a readable .npy array ({exc}).") from exc
    elif suffix == ".npz":
        X = _load_npz(path, key)
    elif suffix == ".mtx":
        try:
            X = scipy.io.mmread(path)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"{path} is not a readable Matrix Market file ({exc})."
            ) from exc
        X = X.tocsr() if sp.issparse(X) else np.asarray(X)
    else:
        X = _load_text_table(path, "\t" if suffix == ".tsv" else ",")
    if not sp.issparse(X):
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{path} holds {X.dtype} values; NMF needs numbers.")
        if X.ndim != 2:
            raise ValueError(
                f"{path} holds an array of shape {X.shape}; NMF needs a 2-D matrix "
                "(samples x features)."
            )
    return X
