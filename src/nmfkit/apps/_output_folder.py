"""An application's output folder: every path checked first, every file atomic.

:class:`OutputFolder` checks, before any work, that the folder can hold the
named files (none exists unless ``force``), then writes each one atomically
(:func:`nmfkit._atomic.atomic_write`): a failed run leaves no half-written
file and replaces nothing it was not allowed to.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..reliability._atomic import OutputExistsError, atomic_write

__all__ = ["OutputFolder", "csv_text"]


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.17g}"
    return str(value)


def csv_text(header, rows):
    """CSV text: a header row, then rows (floats at full precision).

    Parameters
    ----------
    header : sequence of str
    rows : iterable of sequences

    Returns
    -------
    text : str
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


class OutputFolder:
    """A folder that receives named files, all checked before any is written.

    Parameters
    ----------
    folder : str or path-like
        Created (with its parents) at the first write.
    names : iterable of str
        File names the run will write.
    force : bool, default=False
        Allow replacing existing files.

    Raises
    ------
    ValueError
        ``folder`` exists and is not a folder.
    OutputExistsError
        One of the files exists and ``force`` is False.
    """

    def __init__(self, folder, names, *, force=False):
        self.folder = Path(folder)
        self.force = force
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(
                f"{self.folder} exists and is not a folder; choose another output "
                "folder."
            )
        self.paths = {name: self.folder / name for name in names}
        for path in self.paths.values():
            if path.exists() and not force:
                raise OutputExistsError(
                    f"{path} already exists; choose another output folder or allow "
                    "overwriting (force=True, or --force on the command line)."
                )
        self.written = {}

    def _open(self, name, mode):
        if name not in self.paths:
            raise KeyError(f"{name} was not announced to the output folder.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written[name] = self.paths[name]
        return atomic_write(self.paths[name], mode, force=self.force)

    def write_bytes(self, name, data):
        """Write ``data`` (bytes) to the file ``name``; return its path."""
        with self._open(name, "wb") as f:
            f.write(data)
        return self.paths[name]

    def write_text(self, name, text):
        """Write ``text`` to the file ``name``; return its path."""
        with self._open(name, "w") as f:
            f.write(text)
        return self.paths[name]

    def write_npy(self, name, array):
        """Write an array as ``.npy`` (no pickle); return its path."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        return self.write_bytes(name, buffer.getvalue())

    def write_csv(self, name, header, rows):
        """Write a CSV table (see :func:`csv_text`); return its path."""
        return self.write_text(name, csv_text(header, rows))

    def write_json(self, name, data):
        """Write ``data`` as indented JSON; return its path."""
        return self.write_text(name, json.dumps(data, indent=2, default=_json_default))


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)
