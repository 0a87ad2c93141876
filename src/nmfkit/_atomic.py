"""Atomic file output: a file is either complete or absent, never half-written.

Every file nmfkit writes (models, checkpoints, factors, reports) goes through
:func:`atomic_write`: the content is written to a temporary file in the
destination folder, flushed to disk, then renamed over the destination in one
step (``os.replace``), so an interruption leaves the old file or nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["OutputExistsError", "atomic_write", "check_writable"]


class OutputExistsError(FileExistsError):
    """The destination exists and overwriting was not allowed."""


def check_writable(path, *, force=False):
    """Raise :class:`OutputExistsError` if ``path`` exists and ``force`` is False.

    Parameters
    ----------
    path : str or path-like
    force : bool
        Allow replacing an existing file.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(
            f"{path} already exists; choose another path or allow overwriting "
            "(force=True, or --force on the command line)."
        )
    if not path.parent.exists():
        raise FileNotFoundError(
            f"the folder {path.parent} does not exist; create it first."
        )


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, force=True):
    """Open a temporary file that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or path-like
        Destination.
    mode : {"wb", "w"}
        Binary or text mode.
    force : bool, default=True
        Allow replacing an existing file.

    Yields
    ------
    file : file object
        Write the content to it. If the block raises, the temporary file is
        removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(target, "w") as f:
    ...     _ = f.write("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    check_writable(path, force=force)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(
            fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
