"""All-or-nothing output folders: a command's results appear together or not at all.

An :class:`OutputSet` is the folder a command hands its results over in
(``-o DIR``). It is checked when it is created, before any work: the
destination must not exist (or, with ``force``, be an earlier output folder),
and its parent must be writable, which is proven by creating the temporary
sibling folder ``.DIR.<pid>.<random>.nmfkit-tmp`` right away. Every file is
written into that folder; :meth:`OutputSet.commit` then puts it in place in
one step:

- a new destination: one ``rename``;
- an existing one (``force``): an atomic exchange of the two folders
  (``renameat2(RENAME_EXCHANGE)`` on Linux), then the old set is deleted; where
  the exchange is not available, two renames (the old set first moves aside).

So an interruption at any moment (Ctrl-C, SIGKILL, a full disk, a bug) leaves
the previous set untouched or, before a first set, nothing: never old files
beside new ones, never half a set. A temporary folder left by a killed
process is removed by the next command that writes beside it. Every set holds
``manifest.json`` (the command, the nmfkit version, the files); only a folder
with one (or an empty folder, or the W/H/fit.json folder of an earlier
``nmfkit fit``) is ever replaced, so ``--force`` cannot delete a folder
nmfkit did not write.

Files and folders get the permissions of the umask, as ``open`` gives.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import glob
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from ..reliability._atomic import OutputExistsError
from ._errors import CommandError

__all__ = [
    "MANIFEST",
    "OutputSet",
    "Subfolder",
    "json_safe_tree",
    "output_set",
    "write_report",
]

#: The file that marks a folder as an nmfkit output set.
MANIFEST = "manifest.json"
_SUFFIX = ".nmfkit-tmp"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _remove_stale(parent, name):
    """Remove the temporary folders of dead processes for ``name``."""
    for path in parent.glob(f".{glob.escape(name)}.*{_SUFFIX}"):
        parts = path.name[len(name) + 2 :].split(".")
        if parts and parts[0].isdigit() and not _pid_alive(int(parts[0])):
            shutil.rmtree(path, ignore_errors=True)


def _exchange(a, b):
    """Swap two paths atomically; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange):
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
            return False
        raise OSError(code, os.strerror(code), str(b))
    return True


def _fsync(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM back while the set is put in place."""
    held = {signal.SIGINT, signal.SIGTERM}
    if (
        not hasattr(signal, "pthread_sigmask")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


#: What ``nmfkit fit`` wrote before output sets had a manifest.
_EARLIER_FIT_FILES = frozenset({"W.npy", "H.npy", "W.csv", "H.csv", "fit.json"})


def _is_output_set(folder):
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    if (folder / MANIFEST).is_file():
        return True
    return all(e.is_file() and e.name in _EARLIER_FIT_FILES for e in entries)


def _cell(value):
    return repr(float(value))


class _Writer:
    """The ways to write a file into an output set (``path(name)`` gives where)."""

    def path(self, name):  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def write_bytes(self, name, data):
        """Write ``data`` (bytes) as ``name``.

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders: ``a/b.bin``).
        data : bytes
            The file's content.

        See Also
        --------
        write_text : Text, as UTF-8.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_bytes("raw.bin", b"NMF")
        >>> (root / "out" / "raw.bin").read_bytes()
        b'NMF'
        >>> tmp.cleanup()
        """
        with open(self.path(name), "wb") as f:
            f.write(data)

    def write_text(self, name, text):
        """Write ``text`` (UTF-8) as ``name``.

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        text : str
            The file's content, written as is (no newline translation).

        See Also
        --------
        write_json : An object as JSON.
        write_bytes : Bytes.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_text("notes/summary.txt", "rank 3")
        >>> (root / "out" / "notes" / "summary.txt").read_text()
        'rank 3'
        >>> tmp.cleanup()
        """
        with open(self.path(name), "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def write_json(self, name, obj):
        """Write ``obj`` as indented JSON (NaN and infinities refused).

        NumPy scalars and arrays are written as numbers and lists, paths as
        strings.

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        obj : object
            A tree of dicts, lists, strings, finite numbers, NumPy values and
            paths.

        Raises
        ------
        ValueError
            ``obj`` holds NaN or an infinity (see :func:`json_safe_tree`).
        TypeError
            ``obj`` holds a value JSON cannot represent.

        See Also
        --------
        json_safe_tree : Replaces the non-finite numbers by None first.
        write_text : Text, as UTF-8.

        Examples
        --------
        >>> import json
        >>> import numpy as np
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_json("fit.json", {"rank": np.int64(3), "error": 0.5})
        >>> json.loads((root / "out" / "fit.json").read_text())
        {'rank': 3, 'error': 0.5}
        >>> tmp.cleanup()
        """
        self.write_text(
            name, json.dumps(obj, indent=2, allow_nan=False, default=_json_default)
        )

    def write_npy(self, name, array):
        """Write an array as ``.npy`` (no pickled objects).

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        array : array-like
            A numeric array (object arrays are refused by NumPy).

        See Also
        --------
        write_matrix_csv : A 2-D array as CSV, with row and column names.
        numpy.save : The format.

        Examples
        --------
        >>> import numpy as np
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_npy("W.npy", np.eye(2))
        >>> np.load(root / "out" / "W.npy")
        array([[1., 0.],
               [0., 1.]])
        >>> tmp.cleanup()
        """
        import numpy as np

        with open(self.path(name), "wb") as f:
            np.save(f, np.asarray(array), allow_pickle=False)

    def write_matrix_csv(self, name, array, *, row_names, column_names, corner):
        """Write a 2-D array as CSV with a header row and a first column of names.

        The header is ``corner, column_names...``; each row is its name then
        its values, written exactly (``repr`` of the float64 value).

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        array : array-like of shape (n_rows, n_columns)
            The values, converted to float64.
        row_names : sequence of length n_rows
            The first column (written with ``str``).
        column_names : sequence of length n_columns
            The header after ``corner`` (written with ``str``).
        corner : str
            The header's first cell.

        Raises
        ------
        ValueError
            ``array`` is not 2-D or its shape does not match the names.

        See Also
        --------
        write_rows_csv : A table of records.
        write_npy : The array in NumPy's format.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_matrix_csv("H.csv", [[0.5, 1.0]], row_names=["c0"],
        ...                          column_names=["a", "b"], corner="component")
        >>> print((root / "out" / "H.csv").read_text())
        component,a,b
        c0,0.5,1.0
        <BLANKLINE>
        >>> tmp.cleanup()
        """
        import numpy as np

        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape != (len(row_names), len(column_names)):
            raise ValueError(
                f"{name}: {array.shape} values for {len(row_names)} row and "
                f"{len(column_names)} column names"
            )
        with open(self.path(name), "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([corner, *map(str, column_names)])
            for label, row in zip(row_names, array.tolist(), strict=True):
                writer.writerow([str(label), *map(_cell, row)])

    def write_rows_csv(self, name, header, rows):
        """Write a table of records (numbers exact, text quoted where needed).

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        header : sequence of str
            The first row.
        rows : iterable of sequences
            The records; a float is written with ``repr`` (exactly), any
            other value as :mod:`csv` writes it.

        See Also
        --------
        write_matrix_csv : A 2-D array with row and column names.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     rows = [(2, 0.25), (3, 0.125)]
        ...     out.write_rows_csv("ranks.csv", ["rank", "error"], rows)
        >>> print((root / "out" / "ranks.csv").read_text())
        rank,error
        2,0.25
        3,0.125
        <BLANKLINE>
        >>> tmp.cleanup()
        """
        with open(self.path(name), "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_cell(v) if isinstance(v, float) else v for v in row])

    def save_model(self, name, estimator):
        """Save a fitted nmfkit estimator (``estimator.save``) as ``name``.

        Parameters
        ----------
        name : str
            The file's name inside the set (may hold folders).
        estimator : NMF or MiniBatchNMF
            A fitted nmfkit estimator (anything with a ``save(path)`` method).

        See Also
        --------
        nmfkit.load : Reads the file back.

        Examples
        --------
        >>> import numpy as np
        >>> import nmfkit
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> model = nmfkit.NMF(n_components=1, random_state=0, max_iter=20)
        >>> _ = model.fit(np.ones((4, 3)))
        >>> with OutputSet(root / "out") as out:
        ...     out.save_model("model.nmfkit", model)
        >>> nmfkit.load(root / "out" / "model.nmfkit").n_components
        1
        >>> tmp.cleanup()
        """
        estimator.save(self.path(name))


class Subfolder(_Writer):
    """A folder inside an :class:`OutputSet`: names are relative to it.

    Attributes
    ----------
    files : list of str
        The files written through this view, relative to the set.
    """

    def __init__(self, outputs, folder):
        self._outputs = outputs
        self._prefix = folder.strip("/") + "/" if folder else ""
        self.files = []

    def path(self, name):
        """The temporary path of ``name`` inside this folder."""
        self.files.append(self._prefix + name)
        return self._outputs.path(self._prefix + name)

    def subfolder(self, name):
        """A view of the folder ``name`` inside this one."""
        return Subfolder(self._outputs, self._prefix + name)

    @property
    def root(self):
        """The :class:`OutputSet` this folder belongs to."""
        return self._outputs


class OutputSet(_Writer):
    """The files of one command, written together or not at all.

    Parameters
    ----------
    folder : str or path-like
        The destination folder (``-o DIR``).
    force : bool, default=False
        Replace an existing output folder as a whole.
    command : str, default="nmfkit"
        Recorded in the manifest.

    Raises
    ------
    OutputExistsError
        ``folder`` exists and ``force`` is False.
    CommandError
        ``folder`` is a file, is a folder nmfkit did not write (no manifest),
        or its parent cannot be written to.

    See Also
    --------
    CommandError : What a bad destination raises.
    nmfkit.report.Report : The HTML report a command writes into its set.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = pathlib.Path(tmp.name)
    >>> with OutputSet(root / "out", command="demo") as out:
    ...     out.write_json("numbers.json", {"one": 1})
    >>> sorted(p.name for p in (root / "out").iterdir())
    ['manifest.json', 'numbers.json']

    Nothing appears when the block raises:

    >>> try:
    ...     with OutputSet(root / "failed") as out:
    ...         out.write_text("half.txt", "half")
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> (root / "failed").exists()
    False
    >>> tmp.cleanup()
    """

    def __init__(self, folder, *, force=False, command="nmfkit"):
        self.folder = Path(folder)
        self.command = command
        self.force = force
        self.files = []
        self._created = []
        self._tmp = None
        self._committed = False
        self._check()
        self._open()

    # ---------------------------------------------------------------- setup
    def _check(self):
        folder = self.folder
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise CommandError(
                    f"{folder} exists and is not a folder; give another -o/--output-dir"
                )
            if not self.force:
                raise OutputExistsError(
                    f"{folder} already exists; give --force to replace the whole "
                    "folder, or another -o/--output-dir"
                )
            if folder.is_symlink() or not _is_output_set(folder):
                raise CommandError(
                    f"{folder} is not an nmfkit output folder (it has no {MANIFEST}); "
                    "--force replaces only those: give another -o/--output-dir"
                )

    def _open(self):
        parent = self.folder.absolute().parent
        missing = []
        probe = parent
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        if not probe.is_dir():
            raise CommandError(
                f"cannot create {self.folder}: {probe} is not a folder; give another "
                "-o/--output-dir"
            )
        try:
            for path in reversed(missing):
                path.mkdir()
                self._created.append(path)
            _remove_stale(parent, self.folder.name)
            self._tmp = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.folder.name}.{os.getpid()}.",
                    suffix=_SUFFIX,
                    dir=parent,
                )
            )
            os.chmod(self._tmp, 0o777 & ~_umask())
        except OSError as exc:
            self._remove_created()
            raise CommandError(
                f"cannot write the results in {parent} ({exc.strerror or exc}); "
                "give a writable -o/--output-dir"
            ) from None

    def _remove_created(self):
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                path.rmdir()
        self._created = []

    # --------------------------------------------------------------- writing
    def path(self, name):
        """The temporary path of the file ``name`` (may hold folders: ``a/b.png``).

        Write the file there; it is part of the set from now on.

        Parameters
        ----------
        name : str
            A relative name inside the set (no ``..``); its folders are
            created.

        Returns
        -------
        path : pathlib.Path
            Inside the set's temporary folder, until :meth:`commit`.

        Raises
        ------
        RuntimeError
            The set is already committed or aborted.
        ValueError
            ``name`` is absolute or goes outside the set (``..``).

        See Also
        --------
        final_path : Where the file will be after :meth:`commit`.
        written_path : The same place, without adding a file.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     _ = out.path("plots/W.txt").write_text("W")
        >>> (root / "out" / "plots" / "W.txt").read_text()
        'W'
        >>> tmp.cleanup()
        """
        if self._tmp is None or self._committed:
            raise RuntimeError("this output set is closed")
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"{name!r} is not a name inside the output folder")
        target = self._tmp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(relative.as_posix())
        return target

    def subfolder(self, name):
        """A view of the folder ``name`` of the set (``""``: the set itself).

        Parameters
        ----------
        name : str
            The folder, relative to the set.

        Returns
        -------
        folder : Subfolder
            Writes with names relative to that folder; its ``files`` lists
            what it wrote, relative to the set.

        See Also
        --------
        path : Where a file of the set is written.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     faces = out.subfolder("faces")
        ...     faces.write_text("notes.txt", "ok")
        >>> faces.files
        ['faces/notes.txt']
        >>> tmp.cleanup()
        """
        return Subfolder(self, name)

    @property
    def root(self):
        """The set itself (as :attr:`Subfolder.root` gives a folder's set)."""
        return self

    def written_path(self, name):
        """Where the already written ``name`` is now (for links from the report).

        Unlike :meth:`path`, this adds nothing to the set.

        Parameters
        ----------
        name : str
            A name inside the set.

        Returns
        -------
        path : pathlib.Path
            Its place inside the set's temporary folder.

        Raises
        ------
        RuntimeError
            The set is already committed or aborted.

        See Also
        --------
        path : Adds a file to the set.
        final_path : Where it will be after :meth:`commit`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> with OutputSet(root / "out") as out:
        ...     out.write_text("a.txt", "A")
        ...     print(out.written_path("a.txt").read_text())
        A
        >>> tmp.cleanup()
        """
        if self._tmp is None or self._committed:
            raise RuntimeError("this output set is closed")
        return self._tmp / Path(name)

    def final_path(self, name):
        """Where ``name`` will be once the set is committed.

        Parameters
        ----------
        name : str
            A name inside the set.

        Returns
        -------
        path : pathlib.Path
            ``folder / name``.

        See Also
        --------
        written_path : Where it is before :meth:`commit`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> out = OutputSet(root / "out")
        >>> out.final_path("W.npy") == root / "out" / "W.npy"
        True
        >>> out.abort()
        >>> tmp.cleanup()
        """
        return self.folder / name

    # ------------------------------------------------------------ finishing
    def commit(self):
        """Put the set in place in one step; return the destination folder.

        Writes ``manifest.json``, flushes the files to disk and renames the
        temporary folder to the destination (exchanging it atomically with
        an earlier set under ``force``). A second call does nothing. Leaving
        a ``with`` block normally commits.

        Returns
        -------
        folder : pathlib.Path
            The destination folder.

        See Also
        --------
        abort : Removes the set instead.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> out = OutputSet(root / "out", command="demo")
        >>> out.write_text("a.txt", "A")
        >>> out.commit() == root / "out"
        True
        >>> sorted(p.name for p in (root / "out").iterdir())
        ['a.txt', 'manifest.json']
        >>> tmp.cleanup()
        """
        if self._committed:
            return self.folder
        manifest = {
            "command": self.command,
            "nmfkit_version": _version(),
            "files": sorted(set(self.files)),
        }
        with open(self._tmp / MANIFEST, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
        for root, _, names in os.walk(self._tmp):
            for file_name in names:
                _fsync(os.path.join(root, file_name))
        try:
            with _signals_deferred():
                self._swap_in()
                self._committed = True
        except BaseException:
            self.abort()
            raise
        _fsync(self.folder.absolute().parent, directory=True)
        return self.folder

    def _swap_in(self):
        folder, tmp = self.folder, self._tmp
        if not (folder.exists() or folder.is_symlink()):
            os.rename(tmp, folder)
            return
        self._check()  # still an output set we may replace
        if _exchange(tmp, folder):
            shutil.rmtree(tmp, ignore_errors=True)  # now the old set
            return
        aside = tmp.with_name(tmp.name.replace(_SUFFIX, ".old" + _SUFFIX))
        os.rename(folder, aside)
        os.rename(tmp, folder)
        shutil.rmtree(aside, ignore_errors=True)

    def abort(self):
        """Remove everything written; the destination stays as it was.

        Also removes the parent folders the set created. Does nothing after
        :meth:`commit`. Leaving a ``with`` block by an exception aborts.

        See Also
        --------
        commit : Puts the set in place instead.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from nmfkit.apps import OutputSet
        >>> tmp = tempfile.TemporaryDirectory()
        >>> root = pathlib.Path(tmp.name)
        >>> out = OutputSet(root / "new" / "out")
        >>> out.write_text("a.txt", "A")
        >>> out.abort()
        >>> sorted(root.iterdir())
        []
        >>> tmp.cleanup()
        """
        if self._tmp is not None and not self._committed:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._remove_created()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

    def __del__(self):  # an exception before commit; never leave the folder
        with contextlib.suppress(Exception):
            self.abort()


@contextlib.contextmanager
def output_set(output_dir, outputs=None, *, force=False, command="nmfkit"):
    """Where an application writes: its own set, the caller's, or nowhere.

    Parameters
    ----------
    output_dir : str, path-like or None
        Open an :class:`OutputSet` there (checked now, before any work): it
        is committed when the block ends normally and removed when it raises.
    outputs : OutputSet or Subfolder, default=None
        A set the caller opened (and commits); not with ``output_dir``.
    force : bool, default=False
    command : str, default="nmfkit"

    Yields
    ------
    writer : OutputSet, Subfolder or None
    """
    if output_dir is not None and outputs is not None:
        raise ValueError("give output_dir or outputs, not both.")
    if output_dir is None:
        yield outputs
        return
    with OutputSet(output_dir, force=force, command=command) as owned:
        yield owned


def write_report(report, outputs, files, *, title, key):
    """Add links to ``files`` to ``report`` and write it as ``report.html``.

    Returns
    -------
    names : list of str
        ``["report.html"]`` with the folder of ``outputs``, relative to the set.
    """
    from ._sections import add_output_files

    add_output_files(report, outputs, files, title=title, key=key)
    sub = outputs.subfolder("")
    report.write(sub.path("report.html"))
    return sub.files


def json_safe_tree(value):
    """``value`` for JSON: NumPy scalars and arrays as Python, non-finite as None."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_safe_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe_tree(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe_tree(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _version():
    from .. import __version__

    return __version__


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")
