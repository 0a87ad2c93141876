"""Atomic file output: a file is either complete or absent, never half-written.

Every file nmfkit writes (models, checkpoints, factors, reports) goes through
:func:`atomic_write`: the content is written to a temporary file in the
destination folder, flushed to disk, then renamed over the destination in one
step (``os.replace``), so an interruption leaves the old file or nothing.

The rules every write follows:

- **Symbolic links are written through**: when the destination is a link,
  the file it points to is replaced (in that file's folder) and the link
  stays a link.
- **Permissions**: a file that already exists keeps its permission bits
  (read, write, execute for user, group and others); a new file gets
  ``0o666`` less the process umask, as with ``open(path, "w")``.
- **Temporary files** are named ``.<name>.<pid>.<random>.nmfkit.tmp`` next to
  the destination ``<name>`` and locked (``flock``) while written. A writer
  killed before the rename (SIGKILL, power loss) leaves one behind; the next
  write to the same destination removes it. Only such files of that
  destination are candidates, and only those no writer still holds: on POSIX
  the lock is free and the process ``<pid>`` no longer runs (or is this
  process, which does not write it any more); elsewhere they are older than
  a day. Files of other names are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import threading
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "OutputExistsError",
    "atomic_write",
    "check_writable",
    "remove_stale_temporaries",
    "resolve_destination",
]

_TMP_SUFFIX = ".nmfkit.tmp"
# Room left in a 255-byte file name for ".", ".<pid>.<random>" and the suffix.
_MAX_NAME_IN_TMP = 200
#: Where a process's liveness cannot be asked (no POSIX signals), temporaries
#: older than this many seconds count as stale.
_STALE_AFTER_S = 24 * 3600.0
# Temporaries this process is writing now (so that a thread never removes
# another thread's file, even when a former process had the same pid).
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


class OutputExistsError(FileExistsError):
    """The destination exists and overwriting was not allowed."""


def resolve_destination(path):
    """The file a write to ``path`` replaces: ``path``, or a link's target.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    target : Path
        ``path`` itself unless it is a symbolic link; then the file the link
        chain ends at (which need not exist yet).
    """
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def check_writable(path, *, force=False):
    """Raise :class:`OutputExistsError` if ``path`` exists and ``force`` is False.

    Parameters
    ----------
    path : str or path-like
    force : bool
        Allow replacing an existing file.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``force`` is False.
    IsADirectoryError
        When ``path`` is a folder.
    FileNotFoundError
        When the folder of ``path`` (of its target, for a link) does not exist.
    """
    path = Path(path)
    target = resolve_destination(path)
    if target.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of a file.")
    if path.exists() and not force:
        raise OutputExistsError(
            f"{path} already exists; choose another path or allow overwriting "
            "(force=True, or --force on the command line)."
        )
    if not target.parent.exists():
        raise FileNotFoundError(
            f"the folder {target.parent} does not exist; create it first."
        )


def _tmp_prefix(target):
    return f".{target.name[:_MAX_NAME_IN_TMP]}."


def _tmp_pattern(target):
    return re.compile(
        re.escape(_tmp_prefix(target)) + r"(\d+)\.[0-9a-f]{16}" + re.escape(_TMP_SUFFIX)
    )


def _process_runs(pid):
    """Whether a process ``pid`` exists on this machine (POSIX)."""
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or not a pid we may judge
    return True


def _lock(fd):
    """Take the writer's lock of a temporary file; False if another holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a file system without locks: rely on the process check
    return True


def _remove_if_stale(path, pid, mtime):
    if pid == os.getpid():
        with _ACTIVE_LOCK:
            if str(path) in _ACTIVE:
                return False
        return _unlink(path)
    if fcntl is None:  # pragma: no cover - Windows: no signals, no flock
        return time.time() - mtime > _STALE_AFTER_S and _unlink(path)
    if _process_runs(pid):
        return False
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return _lock(fd) and _unlink(path)
    finally:
        os.close(fd)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError:
        return False  # no right to delete here: leave it
    return True


def remove_stale_temporaries(path):
    """Remove the temporary files that killed writes to ``path`` left behind.

    Only files named like this module's temporaries *for this destination*
    (``.<name>.<pid>.<random>.nmfkit.tmp``) that no writer still holds are
    removed (see the module docstring); anything else in the folder is left
    alone.

    Parameters
    ----------
    path : str or path-like
        The destination (a link is followed, as :func:`atomic_write` does).

    Returns
    -------
    removed : list of Path
        The files removed.
    """
    target = resolve_destination(path)
    pattern = _tmp_pattern(target)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and _remove_if_stale(
            Path(entry.path), int(match.group(1)), info.st_mtime
        ):
            removed.append(Path(entry.path))
    return removed


def _create_temporary(target):
    """Create, lock and register a new temporary file beside ``target``.

    The mode ``0o666`` is given to ``os.open``, so the kernel applies the
    umask (and any default ACL) exactly as for an ordinary new file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        token = f"{os.getpid()}.{secrets.token_hex(8)}"
        tmp = target.parent / f"{_tmp_prefix(target)}{token}{_TMP_SUFFIX}"
        with _ACTIVE_LOCK:
            _ACTIVE.add(str(tmp))
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            _release(tmp)
            continue
        except BaseException:
            _release(tmp)
            raise
        _lock(fd)
        return fd, tmp
    raise FileExistsError(f"could not create a temporary file beside {target}.")


def _release(tmp):
    with _ACTIVE_LOCK:
        _ACTIVE.discard(str(tmp))


def _fsync_folder(folder):
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, force=True):
    """Open a temporary file that replaces ``path`` when the block succeeds.

    Follows the rules of the module docstring: a symbolic link is written
    through, an existing file keeps its permission bits, a new one gets
    ``0o666 & ~umask``, and stale temporaries of killed writes to ``path``
    are removed first.

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
    check_writable(path, force=force)
    target = resolve_destination(path)
    remove_stale_temporaries(target)
    try:
        keep_mode = stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except FileNotFoundError:
        keep_mode = None
    fd, tmp = _create_temporary(target)
    try:
        with os.fdopen(
            fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})
        ) as f:
            if keep_mode is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), keep_mode)
                else:  # pragma: no cover - Windows
                    os.chmod(tmp, keep_mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        _release(tmp)
    _fsync_folder(target.parent)
