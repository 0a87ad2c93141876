"""The file container of nmfkit models and checkpoints, read within bounds.

A container is one NumPy ``.npz`` archive (a zip of ``.npy`` members):

- ``__nmfkit__.npy``: UTF-8 JSON metadata stored as a ``uint8`` array (the
  format name and version, the nmfkit version, a description (dtype, shape,
  kind) of every stored array and a SHA-256 digest of the metadata and the
  arrays, plus what the format adds);
- ``fitted.<name>.npy``: one member per array.

:func:`read_container` trusts nothing it has not checked, in this order, so
that a hostile file is refused before it costs time or memory:

1. the zip directory: at most :data:`MAX_MEMBERS` members (counted from the
   end-of-directory record before the directory is parsed), each named as
   above, unencrypted, stored or deflated, its data inside the file, and no
   member of more than 1 MiB expanding more than :data:`MAX_COMPRESSION_RATIO`
   times (a zip bomb);
2. the metadata member: its ``.npy`` header (a 1-D ``uint8`` array of at most
   :data:`MAX_METADATA_BYTES`), then JSON of at most :data:`MAX_JSON_DEPTH`
   levels of nesting (checked before parsing, so no ``RecursionError``);
3. the format and its version; then the format's own rules on the metadata
   (``layout``: which arrays may be stored, their dtypes and their shapes,
   derived from the metadata, for example ``(n_components_,
   n_features_in_)``);
4. every array member's ``.npy`` header (no object dtype, so nothing is ever
   unpickled; dtype and shape equal to the metadata's description) and its
   size (header plus ``prod(shape) * itemsize`` bytes, exactly);

and only then reads the arrays, verifies the digest and refuses NaN or Inf in
floating-point arrays. Every refusal is a :class:`ModelFileError` naming the
file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ._atomic import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "MAX_COMPRESSION_RATIO",
    "MAX_JSON_DEPTH",
    "MAX_MEMBERS",
    "MAX_METADATA_BYTES",
    "ArrayRule",
    "FileProblem",
    "ModelFileError",
    "read_container",
    "write_container",
]

#: Version of the file layout; files with a larger version are refused.
FORMAT_VERSION = 1
#: Largest metadata (JSON bytes) a file may hold.
MAX_METADATA_BYTES = 1 << 20
#: Deepest nesting of lists and objects in the metadata.
MAX_JSON_DEPTH = 32
#: Most members an archive may have.
MAX_MEMBERS = 64
#: Largest expansion of a compressed member above 1 MiB (nmfkit writes
#: uncompressed members; NumPy's ``savez_compressed`` of real factors stays
#: far below this, a zip bomb of zeros is near 1000).
MAX_COMPRESSION_RATIO = 100
_RATIO_FREE_BYTES = 1 << 20
METADATA_KEY = "__nmfkit__"
ARRAY_PREFIX = "fitted."
_ARRAY_KINDS = "biufU"  # numeric arrays; strings are stored as unicode ("U")
_MEMBER_NAME = re.compile(r"fitted\.([A-Za-z_][A-Za-z0-9_]*)\.npy")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_PICKLED = (
    "holds a pickled object, which nmfkit refuses to load (loading it could "
    "run arbitrary code)"
)


class ModelFileError(ValueError):
    """A file that is not a valid nmfkit model or checkpoint for this version.

    See Also
    --------
    nmfkit.load : Raises it for files it cannot trust.

    Examples
    --------
    A ValueError, raised by :func:`nmfkit.load` for a file that is not a
    model file:

    >>> import nmfkit
    >>> from nmfkit import ModelFileError
    >>> with open("notes.txt", "w") as file:
    ...     _ = file.write("not a model")
    >>> try:
    ...     nmfkit.load("notes.txt")
    ... except ModelFileError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    ModelFileError True
    """


def _version():
    from .. import __version__

    return __version__


@dataclass(frozen=True)
class ArrayRule:
    """What one stored array may be.

    Parameters
    ----------
    dtypes : tuple of str
        Accepted dtypes as kind and item size (``"f8"``, ``"i4"``); ``"U"``
        accepts unicode strings of any length.
    shape : tuple
        One entry per dimension: an int (that exact size) or ``(low, high)``
        (inclusive; ``high=None`` for no upper bound).
    required : bool, default=True
        Whether the array must be present.
    """

    dtypes: tuple
    shape: tuple
    required: bool = True

    def problem(self, name, dtype, shape):
        """Why an array ``name`` of ``dtype`` and ``shape`` breaks the rule, or None."""
        dtype = np.dtype(dtype)
        code = "U" if dtype.kind == "U" else f"{dtype.kind}{dtype.itemsize}"
        if code not in self.dtypes:
            return (
                f"the array {name!r} has dtype {dtype}; expected one of "
                f"{list(self.dtypes)}"
            )
        if len(shape) != len(self.shape):
            return (
                f"the array {name!r} has {len(shape)} dimension(s) (shape "
                f"{tuple(shape)}); expected {len(self.shape)} ({_describe(self.shape)})"
            )
        for size, expected in zip(shape, self.shape, strict=True):
            low, high = (expected, expected) if isinstance(expected, int) else expected
            if size < low or (high is not None and size > high):
                return (
                    f"the array {name!r} has shape {tuple(shape)}; expected "
                    f"{_describe(self.shape)}"
                )
        return None


def _describe(shape):
    parts = []
    for entry in shape:
        if isinstance(entry, int):
            parts.append(str(entry))
        else:
            low, high = entry
            parts.append(f"{low}..{'' if high is None else high}")
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# ----------------------------------------------------------------- writing
def _digest(metadata, arrays):
    """SHA-256 of the metadata (without its digest) and of every array."""
    h = hashlib.sha256()
    body = {k: v for k, v in metadata.items() if k != "sha256"}
    h.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(array.dtype.str.encode())
        h.update(repr(array.shape).encode())
        h.update(array)  # the raw bytes, without a copy
    return h.hexdigest()


def _storable_array(name, array):
    array = np.asarray(array)
    kind = array.dtype.kind
    if kind == "O":
        # Object arrays of strings (scikit-learn's feature_names_in_) are
        # stored as unicode and restored as object arrays.
        if not all(isinstance(v, str) for v in array.ravel()):
            raise TypeError(
                f"the array {name!r} holds Python objects that are not strings; "
                "nmfkit stores only numeric and string arrays."
            )
        return array.astype(str), "object_str"
    if kind in _ARRAY_KINDS:
        return array, "ndarray"
    raise TypeError(
        f"the array {name!r} has dtype {array.dtype}, which nmfkit does not store."
    )


def storable_arrays(arrays):
    """The arrays as stored (object string arrays as unicode) and their kinds.

    Returns
    -------
    stored : dict of str to ndarray
    kinds : dict of str to str
        ``"ndarray"`` or ``"object_str"`` (restored as an object array).
    """
    stored, kinds = {}, {}
    for name, array in arrays.items():
        array, kinds[name] = _storable_array(name, array)
        stored[name] = np.ascontiguousarray(array)
    return stored, kinds


def write_container(path, fmt, metadata, arrays):
    """Write ``metadata`` (JSON-safe dict) and ``arrays`` atomically to ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination; replaced in one step (never half-written), see
        :func:`nmfkit._atomic.atomic_write` for links and permissions.
    fmt : str
        Format name, e.g. ``"nmfkit-model"``.
    metadata : dict
        JSON-safe content.
    arrays : dict of str to ndarray
        Numeric or string arrays.
    """
    stored, kinds = storable_arrays(arrays)
    described = {
        name: {"dtype": a.dtype.str, "shape": list(a.shape), "kind": kinds[name]}
        for name, a in stored.items()
    }
    meta = dict(metadata)
    meta.update(
        format=fmt,
        format_version=FORMAT_VERSION,
        nmfkit_version=_version(),
        arrays=described,
    )
    meta["sha256"] = _digest(meta, stored)
    text = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
    if len(text) > MAX_METADATA_BYTES:
        raise ValueError(
            f"the metadata of {path} would take {len(text)} bytes, more than the "
            f"{MAX_METADATA_BYTES} nmfkit reads back; store large values as arrays."
        )
    members = {METADATA_KEY: np.frombuffer(text, dtype=np.uint8)}
    members.update({ARRAY_PREFIX + name: a for name, a in stored.items()})
    with atomic_write(path, "wb") as f:
        np.savez(f, **members)


# ----------------------------------------------------------------- reading
class FileProblem(Exception):
    """A problem found in a file; :func:`read_container` raises it as a
    :class:`ModelFileError` that starts with the path (a ``layout`` may raise
    it too)."""


def _json_depth(text):
    """Deepest nesting of ``[`` and ``{`` in JSON text (strings ignored)."""
    skeleton = _JSON_STRING.sub('""', text).encode("ascii", "replace")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int32)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _parse_metadata(raw):
    """Parse metadata bytes: bounded size and nesting, a JSON object, no NaN.

    Raises
    ------
    FileProblem
        Naming the problem.
    """
    if len(raw) > MAX_METADATA_BYTES:
        raise FileProblem(
            f"the nmfkit metadata is {len(raw)} bytes, more than the "
            f"{MAX_METADATA_BYTES} bytes a valid file holds"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"the nmfkit metadata is not UTF-8 ({exc})") from None
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise FileProblem(
            f"the nmfkit metadata nests {depth} levels deep, more than the "
            f"{MAX_JSON_DEPTH} a valid file has"
        )
    try:
        meta = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise FileProblem(f"the nmfkit metadata is unreadable ({exc})") from None
    if not isinstance(meta, dict):
        raise FileProblem("the nmfkit metadata is not a JSON object")
    return meta


def _read_header(stream, what):
    """``(shape, fortran_order, dtype, header_bytes)`` of a ``.npy`` stream."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as exc:  # NumPy's header parser raises many types
        # (ValueError, SyntaxError, tokenize.TokenError, ...) on hostile bytes
        raise FileProblem(
            f"{what} has an invalid .npy header ({type(exc).__name__}: {exc})"
        ) from None
    return shape, fortran, dtype, stream.tell()


def _count_members(path):
    """The member count in the zip's end-of-directory record, or None.

    Read from the last 64 KiB of the file (and the zip64 record it points
    to), without parsing the directory; None when there is no such record
    (``zipfile`` then reports the damage).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        tail_bytes = min(size, 22 + 65535)
        f.seek(size - tail_bytes)
        tail = f.read(tail_bytes)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
        if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
            (offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
            if offset + 56 <= size:
                f.seek(offset)
                record = f.read(56)
                if record[:4] == b"PK\x06\x06":
                    (count,) = struct.unpack("<Q", record[32:40])
    return count


def _check_directory(archive, size_on_disk):
    """Member name -> ZipInfo, after the checks of step 1 (module docstring)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise FileProblem(
            f"the archive has {len(infos)} members; an nmfkit file has at most "
            f"{MAX_MEMBERS}"
        )
    members = {}
    for info in infos:
        name = info.filename
        if name in members:
            raise FileProblem(f"the archive holds the member {name!r} twice")
        if name != METADATA_KEY + ".npy" and not _MEMBER_NAME.fullmatch(name):
            raise FileProblem(
                f"unexpected member {name!r}; an nmfkit file holds only "
                f"{METADATA_KEY}.npy and {ARRAY_PREFIX}<attribute>.npy"
            )
        if info.flag_bits & 0x1:
            raise FileProblem(f"the member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileProblem(
                f"the member {name!r} uses zip compression method "
                f"{info.compress_type}; nmfkit reads stored or deflated members"
            )
        if info.header_offset + info.compress_size > size_on_disk or (
            info.compress_type == zipfile.ZIP_STORED
            and info.compress_size != info.file_size
        ):
            raise FileProblem(
                f"the member {name!r} claims {info.file_size} bytes, beyond the "
                f"{size_on_disk} bytes of the file (truncated or damaged)"
            )
        if (
            info.file_size > _RATIO_FREE_BYTES
            and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size
        ):
            raise FileProblem(
                f"the member {name!r} expands {info.compress_size} compressed "
                f"bytes to {info.file_size} (ratio "
                f"{info.file_size / max(info.compress_size, 1):.0f}:1, above the "
                f"{MAX_COMPRESSION_RATIO}:1 limit): a zip bomb or a damaged file"
            )
        members[name] = info
    return members


def _check_member_header(archive, info, name, dtype, shape):
    """Step 4: header of one array member equal to its description, exact size."""
    with archive.open(info) as stream:
        found_shape, _, found_dtype, header_bytes = _read_header(
            stream, f"the member {info.filename!r}"
        )
    if found_dtype.hasobject:
        raise FileProblem(f"the member {info.filename!r} {_PICKLED}")
    if found_dtype != dtype or tuple(found_shape) != tuple(shape):
        raise FileProblem(
            f"the member {info.filename!r} holds a {found_dtype} array of shape "
            f"{tuple(found_shape)}, but the metadata describes {name!r} as {dtype} "
            f"of shape {tuple(shape)}; the file was altered or damaged"
        )
    expected = header_bytes + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if info.file_size != expected:
        raise FileProblem(
            f"the member {info.filename!r} holds {info.file_size} bytes, but its "
            f"header announces {expected} (a {dtype} array of shape {tuple(shape)}); "
            "the file is truncated or damaged"
        )


def _described_arrays(meta):
    """name -> (dtype, shape, kind) from the metadata, checked for form."""
    described = meta.get("arrays")
    if not isinstance(described, dict):
        raise FileProblem("the metadata does not describe the stored arrays")
    result = {}
    for name, info in described.items():
        try:
            if not isinstance(info["dtype"], str) or len(info["dtype"]) > 16:
                raise ValueError("not a dtype string")
            dtype = np.dtype(info["dtype"])
            shape = tuple(info["shape"])
            kind = info.get("kind", "ndarray")
            if not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
            ):
                raise ValueError("bad shape")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise FileProblem(
                f"the metadata's description of the array {name!r} is invalid"
            ) from None
        if dtype.kind not in _ARRAY_KINDS or dtype.hasobject:
            raise FileProblem(f"the array {name!r} has the unsupported dtype {dtype}")
        if kind not in ("ndarray", "object_str"):
            raise FileProblem(f"the array {name!r} has the unknown kind {kind!r}")
        result[name] = (dtype, shape, kind)
    return result


def _check_rules(rules, described):
    unknown = sorted(set(described) - set(rules))
    if unknown:
        raise FileProblem(
            f"unknown array(s) {unknown} in the file; this format stores only "
            f"{sorted(rules)}"
        )
    missing = sorted(
        n for n, rule in rules.items() if rule.required and n not in described
    )
    if missing:
        raise FileProblem(f"the file lacks the array(s) {missing}")
    for name, (dtype, shape, _) in described.items():
        problem = rules[name].problem(name, dtype, shape)
        if problem:
            raise FileProblem(problem)


def _open_single_npy(path):
    """Refuse a bare ``.npy`` file, saying whether it holds a pickle."""
    with open(path, "rb") as f:
        try:
            dtype = _read_header(f, "it")[2]
        except FileProblem:
            dtype = None
    if dtype is not None and dtype.hasobject:
        raise FileProblem(f"it {_PICKLED}")
    raise FileProblem("not an nmfkit file; it holds a single array")


def read_container(path, fmt, layout=None):
    """Read and verify a file written by :func:`write_container`.

    Parameters
    ----------
    path : str or path-like
    fmt : str
        The expected format name.
    layout : callable, optional
        ``layout(metadata) -> dict of str to ArrayRule``: the arrays the
        format allows, derived from the (bounded, parsed) metadata before any
        array is read. It may raise :class:`ModelFileError` itself. Without
        it, any array the metadata describes is read (within the bounds of
        the module docstring).

    Returns
    -------
    metadata : dict
    arrays : dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ModelFileError
        For a file that is not an nmfkit file of format ``fmt``, comes from an
        incompatible version, is truncated, altered or too large for what it
        describes, or holds a pickled object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file.")
    what = "checkpoint" if "checkpoint" in fmt else "model"
    try:
        return _read(path, fmt, what, layout)
    except FileProblem as exc:
        text = str(exc)
        if text.startswith("not an nmfkit file"):
            text = f"not an nmfkit {what} file{text[len('not an nmfkit file') :]}"
        raise ModelFileError(f"{path}: {text}.") from None


def _read(path, fmt, what, layout):
    not_ours = (
        f"not an nmfkit {what} file (expected a NumPy .npz archive written by "
        "nmfkit's save)"
    )
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x80"):  # pickle protocol 2 and later
        raise FileProblem(f"it {_PICKLED}")
    if magic.startswith(b"\x93NUMPY"):
        _open_single_npy(path)
    if not magic.startswith(b"PK"):
        raise FileProblem(f"{not_ours}; it is neither a zip nor a NumPy file")
    count = _count_members(path)
    if count is not None and count > MAX_MEMBERS:
        # before zipfile builds one object per member of the directory
        raise FileProblem(
            f"the archive has {count} members; an nmfkit file has at most {MAX_MEMBERS}"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (
        OSError, EOFError, zipfile.BadZipFile, ValueError, NotImplementedError
    ) as exc:  # NotImplementedError: a damaged version field ("version 14.0")
        raise FileProblem(
            f"{not_ours}; it is unreadable or truncated ({exc})"
        ) from None
    try:
        with archive:
            return _read_archive(archive, path, fmt, what, layout, not_ours)
    except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise FileProblem(
            f"the file is truncated or damaged ({type(exc).__name__}: {exc}); save "
            f"the {what} again"
        ) from None


def _read_archive(archive, path, fmt, what, layout, not_ours):
    if METADATA_KEY + ".npy" not in archive.namelist():
        raise FileProblem(f"{not_ours}; it has no nmfkit metadata")
    members = _check_directory(archive, os.path.getsize(path))
    info = members.pop(METADATA_KEY + ".npy")
    meta = _read_metadata(archive, info)
    found = meta.get("format")
    if found != fmt:
        raise FileProblem(
            f"it holds {found!r} data, not an nmfkit {what} ({fmt!r})"
            if isinstance(found, str)
            else f"{not_ours}; its metadata names no nmfkit format"
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FileProblem(f"invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise FileProblem(
            f"it was written by nmfkit {meta.get('nmfkit_version')} in file "
            f"format version {version}; this nmfkit ({_version()}) reads format "
            f"versions up to {FORMAT_VERSION}. Upgrade nmfkit to load it"
        )
    described = _described_arrays(meta)
    stored = {_MEMBER_NAME.fullmatch(n).group(1): i for n, i in members.items()}
    if set(stored) != set(described):
        raise FileProblem(
            "the arrays in the file do not match its metadata; the file was "
            "altered or damaged"
        )
    if layout is not None:
        _check_rules(layout(meta), described)
    for name, (dtype, shape, _) in described.items():
        _check_member_header(archive, stored[name], name, dtype, shape)
    arrays = {}
    for name, info in stored.items():
        with archive.open(info) as stream:
            arrays[name] = npy_format.read_array(stream, allow_pickle=False)
            stream.read(1)  # reach the end, where zipfile verifies the CRC-32
    if meta.get("sha256") != _digest(meta, arrays):
        raise FileProblem(
            "it failed its SHA-256 integrity check: the file was altered or "
            f"damaged after it was written. Save the {what} again"
        )
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise FileProblem(f"the array {name!r} holds NaN or Inf")
        if described[name][2] == "object_str":
            arrays[name] = array.astype(object)
    return meta, arrays


def _read_metadata(archive, info):
    limit = MAX_METADATA_BYTES + 65536  # the JSON plus the largest v1/v2 header
    if info.file_size > limit:
        raise FileProblem(
            f"the nmfkit metadata member is {info.file_size} bytes, more than the "
            f"{limit} bytes a valid file holds"
        )
    with archive.open(info) as stream:
        shape, _, dtype, header_bytes = _read_header(stream, "the nmfkit metadata")
        if dtype.hasobject:
            raise FileProblem(f"the nmfkit metadata {_PICKLED}")
        if dtype != np.uint8 or len(shape) != 1:
            raise FileProblem("the nmfkit metadata is not a byte string")
        if shape[0] > MAX_METADATA_BYTES:
            raise FileProblem(
                f"the nmfkit metadata is {shape[0]} bytes, more than the "
                f"{MAX_METADATA_BYTES} bytes a valid file holds"
            )
        if header_bytes + shape[0] != info.file_size:
            raise FileProblem("the nmfkit metadata is truncated or damaged")
        raw = stream.read(shape[0])
    return _parse_metadata(raw)
