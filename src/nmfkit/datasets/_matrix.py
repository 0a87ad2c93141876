"""Reading a data matrix from a file: NumPy, CSV or Matrix Market.

Sizes are checked from the file's own description before anything is
allocated: the header of a ``.npy`` array (and of each array in an ``.npz``
archive), the size line of a Matrix Market file. A header that claims more
data than the file holds, or more than the memory available, is refused
with one line.

Delimited text (``.csv``, ``.tsv``, ``.txt``):

- the delimiter is detected (tab, comma, semicolon, ``|`` or blanks) unless
  given; ``.tsv`` means tabs;
- the first row is a header only if none of its cells is a number; its
  names become the column names;
- ``index_col`` names the column (header name, or position from 0) that holds
  the row names;
- an empty cell, or a ``nan`` cell, is an error naming its line and column,
  unless ``missing=True``: then both are missing entries (NaN in the matrix,
  for ``missing_values=np.nan``).
"""

from __future__ import annotations

import csv
import io
import math
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MATRIX_SUFFIXES", "available_memory", "load_matrix", "read_matrix"]

#: File name endings :func:`read_matrix` reads.
MATRIX_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".txt", ".mtx")

#: Delimiters tried, in order of preference; None means runs of blanks.
_DELIMITERS = ("\t", ",", ";", "|", None)


def available_memory():
    """Bytes of memory available to a new allocation (a generous estimate)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**63


def _size(nbytes):
    value = float(nbytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover


def _check_claim(label, what, nbytes, stored):
    """Refuse a claimed size the file cannot hold or memory cannot take."""
    if nbytes > stored:
        raise ValueError(
            f"{label} is truncated or corrupt: {what} needs {_size(nbytes)} but the "
            f"file holds {_size(stored)} of data; write the file again."
        )
    memory = available_memory()
    if nbytes > memory:
        raise ValueError(
            f"{label}: {what} needs {_size(nbytes)}, more than the {_size(memory)} "
            "of memory available; use a machine with more memory or a smaller "
            "matrix (a sparse .npz or .mtx file for sparse data)."
        )


def _read_npy_header(f, label):
    """Shape and dtype from an open ``.npy`` stream, without reading the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
    except (ValueError, OSError, SyntaxError) as exc:
        raise ValueError(f"{label} is not a readable .npy array ({exc}).") from None
    if dtype.hasobject:
        raise ValueError(
            f"{label} holds Python objects (dtype {dtype}), which are not read "
            "(they would need pickle); save a numeric array."
        )
    return shape, dtype


def _claim(shape, dtype):
    count = math.prod(shape)
    return count * dtype.itemsize, f"an array of shape {shape} ({dtype})"


def _load_npy(path):
    stored = path.stat().st_size
    with open(path, "rb") as f:
        shape, dtype = _read_npy_header(f, str(path))
        nbytes, what = _claim(shape, dtype)
        _check_claim(str(path), what, nbytes, stored - f.tell())
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path} is not a readable .npy array ({exc}).") from exc


def _check_npz_members(path, names):
    """Check each member's header against its stored size and the memory."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if names is not None and name not in names:
                continue
            with archive.open(info) as f:
                shape, dtype = _read_npy_header(f, f"{path}: array {name!r}")
                nbytes, what = _claim(shape, dtype)
                stored = info.file_size - f.tell()
            _check_claim(f"{path}: array {name!r}", what, nbytes, stored)
            total += nbytes
    _check_claim(str(path), "the arrays together", total, 2**63)


def _load_npz(path, key):
    import scipy.sparse as sp

    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz archive ({exc}).") from exc
    with archive:
        names = list(archive.files)
        if {"format", "shape", "data"} <= set(names) and key is None:
            _check_npz_members(path, None)
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
        _check_npz_members(path, {key})
        try:
            return archive[key]
        except ValueError as exc:  # object arrays need pickle: refuse
            raise ValueError(f"{path}: array {key!r} is not numeric ({exc}).") from exc


def _load_mtx(path):
    import scipy.io
    import scipy.sparse as sp

    try:
        rows, cols, entries, layout, field, _ = scipy.io.mminfo(path)
    except (ValueError, OSError, UnicodeDecodeError, IndexError) as exc:
        raise ValueError(
            f"{path} is not a readable Matrix Market file ({exc})."
        ) from None
    if field not in ("real", "integer", "pattern", "double"):
        raise ValueError(f"{path} holds {field} values; NMF needs real numbers.")
    stored = path.stat().st_size
    if layout == "coordinate":
        # Each entry is a text line of at least "i j\n"; in memory 16 bytes.
        _check_claim(str(path), f"{entries} stored entries", 4 * entries, stored)
        _check_claim(str(path), f"{entries} stored entries", 16 * entries, 2**63)
    else:
        count = rows * cols
        _check_claim(str(path), f"a dense {rows} x {cols} matrix", 2 * count, stored)
        _check_claim(str(path), f"a dense {rows} x {cols} matrix", 8 * count, 2**63)
    try:
        X = scipy.io.mmread(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path} is not a readable Matrix Market file ({exc})."
        ) from exc
    return X.tocsr() if sp.issparse(X) else np.asarray(X)


# ------------------------------------------------------------- delimited text
def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _split(text, delimiter):
    """Rows of cells with their line numbers; blank lines skipped."""
    if delimiter is None:
        for number, line in enumerate(text.splitlines(), start=1):
            cells = line.split()
            if cells:
                yield number, cells
        return
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    for row in reader:
        if row and any(cell.strip() for cell in row):
            yield reader.line_num, [cell.strip() for cell in row]


def detect_delimiter(text):
    """The delimiter of a table's text: tab, comma, semicolon, ``|`` or None (blanks).

    The first candidate that splits the first 20 non-blank lines into the
    same number of cells (more than one) wins; else the one that splits most
    of them; a single column gives None.
    """
    sample = "\n".join([line for line in text.splitlines() if line.strip()][:20])
    best, best_score = None, 0
    for delimiter in _DELIMITERS:
        try:
            counts = [len(cells) for _, cells in _split(sample, delimiter)]
        except csv.Error:
            continue
        if not counts:
            continue
        if min(counts) > 1 and len(set(counts)) == 1:
            return delimiter
        score = sum(count > 1 for count in counts)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _index_position(index_col, header, path):
    if index_col is None:
        return None
    if isinstance(index_col, int) or str(index_col).isdigit():
        return int(index_col)
    if header is None:
        raise ValueError(
            f"{path} has no header row, so there is no column named {index_col!r}; "
            "give the index column's position (0 for the first)."
        )
    if index_col not in header:
        raise ValueError(
            f"{path} has no column {index_col!r}; its columns are "
            f"{', '.join(map(repr, header[:10]))}{' ...' if len(header) > 10 else ''}."
        )
    return header.index(index_col)


def _cell_error(path, number, column, cell, missing):
    where = f"{path}, line {number}, column {column + 1}"
    if cell == "":
        return ValueError(
            f"{where} is empty; fill it, or give --missing (missing=True) to fit "
            "only the observed entries."
        )
    if _is_number(cell) and math.isnan(float(cell)):
        return ValueError(
            f"{where} is {cell!r} (missing); give --missing (missing=True) to fit "
            "only the observed entries."
        )
    if _is_number(cell):
        return ValueError(f"{where}: {cell!r} is not a finite number.")
    return ValueError(
        f"{where}: {cell!r} is not a number; every cell after the header must be "
        "numeric (give --index-col for a column of row names)."
    )


def _first_bad_cell(path, numbered, missing):
    for number, cells in numbered:
        for column, cell in enumerate(cells):
            if missing and (
                cell == "" or (_is_number(cell) and math.isnan(float(cell)))
            ):
                continue
            if not _is_number(cell) or not math.isfinite(float(cell)):
                return _cell_error(path, number, column, cell, missing)
    return None


def _read_text_table(path, *, delimiter, index_col, missing):
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError(f"{path} is not a text file (it holds NUL bytes).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (offset {exc.start}).") from exc
    if not text.strip():
        raise ValueError(f"{path} is empty; it needs at least one row of numbers.")
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else detect_delimiter(text)
    try:
        numbered = list(_split(text, delimiter))
    except csv.Error as exc:
        raise ValueError(f"{path} is not a readable delimited table ({exc}).") from None
    first = numbered[0][1]
    skip = (
        int(index_col) if index_col is not None and str(index_col).isdigit() else None
    )
    header = None
    if not any(_is_number(cell) for i, cell in enumerate(first) if i != skip):
        header = first
        numbered = numbered[1:]
    if not numbered:
        raise ValueError(f"{path} has a header but no rows of numbers.")
    width = len(header) if header is not None else len(numbered[0][1])
    for number, cells in numbered:
        if len(cells) != width:
            raise ValueError(
                f"{path}, line {number} has {len(cells)} cells where the "
                f"{'header' if header is not None else 'first row'} has {width}; "
                "every row needs the same number of columns."
            )
    index = _index_position(index_col, header, path)
    if index is not None and not 0 <= index < width:
        raise ValueError(
            f"{path} has {width} columns; --index-col {index_col} is not one of them "
            f"(give 0 to {width - 1} or a header name)."
        )
    row_names = None
    if index is not None:
        row_names = [cells[index] for _, cells in numbered]
        numbered = [(n, cells[:index] + cells[index + 1 :]) for n, cells in numbered]
        if header is not None:
            header = header[:index] + header[index + 1 :]
        if not numbered[0][1]:
            raise ValueError(
                f"{path} has no column of numbers beside the index column."
            )
    rows = [c for _, c in numbered]
    if missing:
        rows = [["nan" if cell == "" else cell for cell in row] for row in rows]
    try:
        X = np.array(rows, dtype=str).astype(np.float64)
    except ValueError:
        X = None
    if X is None or not np.isfinite(X).all():
        error = _first_bad_cell(path, numbered, missing)
        if error is not None:
            raise error
        if X is None:  # pragma: no cover - every failing cell is named above
            raise ValueError(f"{path} is not a readable table of numbers.")
    column_names = None
    if header is not None:
        column_names = [name or f"column {i + 1}" for i, name in enumerate(header)]
    return X, row_names, column_names


def read_matrix(path, *, key=None, index_col=None, missing=False, delimiter=None):
    """Read a matrix and the names of its rows and columns from a file.

    Parameters
    ----------
    path : str or path-like
        - ``.npy``: one array (no pickled objects);
        - ``.npz``: a SciPy sparse matrix (``scipy.sparse.save_npz``) or an
          archive of arrays (``key`` picks one when it holds several);
        - ``.csv``, ``.tsv``, ``.txt``: delimited numbers (see the module
          docstring);
        - ``.mtx``: Matrix Market (read as a CSR matrix when sparse).
    key : str, default=None
        Array of a ``.npz`` archive.
    index_col : str or int, default=None
        Delimited text only: the column of row names (header name or
        position from 0).
    missing : bool, default=False
        Delimited text: empty and ``nan`` cells are missing entries (NaN)
        instead of an error. Other formats: NaN entries are missing entries.
    delimiter : str, default=None
        Delimited text: the delimiter, detected when None.

    Returns
    -------
    table : Bunch
        ``data`` (ndarray or ``scipy.sparse.csr_matrix`` of shape
        ``(n_samples, n_features)``), ``row_names`` and ``column_names``
        (lists of str, or None where the file has none) and ``n_missing``
        (the NaN entries). ``data`` is not yet checked for negative values:
        an estimator's checks name the offending entries.

    Raises
    ------
    ValueError
        A file that cannot be read as a matrix, with the reason and the fix;
        NaN entries without ``missing``.
    FileNotFoundError
        No such file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder; give a matrix file ({', '.join(MATRIX_SUFFIXES)})."
        )
    if suffix not in MATRIX_SUFFIXES:
        raise ValueError(
            f"cannot read {path}: the name must end in one of "
            f"{', '.join(MATRIX_SUFFIXES)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    if index_col is not None and suffix not in (".csv", ".tsv", ".txt"):
        raise ValueError(
            f"index_col (--index-col) is for delimited text; {path} is a {suffix} file."
        )
    row_names = column_names = None
    if suffix == ".npy":
        X = _load_npy(path)
    elif suffix == ".npz":
        X = _load_npz(path, key)
    elif suffix == ".mtx":
        X = _load_mtx(path)
    else:
        X, row_names, column_names = _read_text_table(
            path, delimiter=delimiter, index_col=index_col, missing=missing
        )
    values = X.data if hasattr(X, "nnz") else np.asarray(X)
    if not hasattr(X, "nnz"):
        X = values
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{path} holds {X.dtype} values; NMF needs numbers.")
        if X.ndim != 2:
            raise ValueError(
                f"{path} holds an array of shape {X.shape}; NMF needs a 2-D matrix "
                "(samples x features)."
            )
    n_missing = int(np.isnan(values).sum()) if values.dtype.kind == "f" else 0
    if n_missing and not missing:
        raise ValueError(
            f"{path} has {n_missing} missing (NaN) entries; give --missing "
            "(missing=True) to fit only the observed entries."
        )
    from sklearn.utils import Bunch

    return Bunch(
        data=X, row_names=row_names, column_names=column_names, n_missing=n_missing
    )


def load_matrix(path, *, key=None, index_col=None, missing=False):
    """Read a matrix from ``.npy``, ``.npz``, ``.csv``/``.tsv``/``.txt`` or ``.mtx``.

    The matrix of :func:`read_matrix`.

    Parameters
    ----------
    path : str or path-like
        - ``.npy``: one array (no pickled objects);
        - ``.npz``: a SciPy sparse matrix (``scipy.sparse.save_npz``) or an
          archive of arrays (``key`` picks one when it holds several);
        - ``.csv``, ``.tsv``, ``.txt``: delimited numbers;
        - ``.mtx``: Matrix Market (read as a CSR matrix when sparse).
    key : str, default=None
        Array of a ``.npz`` archive.
    index_col : str or int, default=None
        Delimited text only: the column of row names (header name or
        position from 0).
    missing : bool, default=False
        Delimited text: empty and ``nan`` cells are missing entries (NaN)
        instead of an error. Other formats: NaN entries are missing entries.

    Returns
    -------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        A file that cannot be read as a matrix, with the reason and the fix;
        NaN entries without ``missing``.
    FileNotFoundError
        No such file.

    See Also
    --------
    nmfkit.NMF : Factorize the matrix (``missing_values=np.nan`` for NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.datasets import load_matrix
    >>> with open("counts.csv", "w") as file:
    ...     _ = file.write("doc,a,b\\nd1,1,0\\nd2,,3\\n")
    >>> load_matrix("counts.csv", index_col="doc", missing=True)
    array([[ 1.,  0.],
           [nan,  3.]])
    >>> np.save("X.npy", np.eye(2))
    >>> load_matrix("X.npy")
    array([[1., 0.],
           [0., 1.]])
    """
    return read_matrix(path, key=key, index_col=index_col, missing=missing)["data"]
