"""Saving and loading fitted estimators without pickle.

A model file is one NumPy ``.npz`` archive (a zip of ``.npy`` arrays) that
holds

- ``__nmfkit__``: UTF-8 JSON metadata stored as a ``uint8`` array: the
  format name and version, the nmfkit version that wrote it, the estimator
  class, every constructor parameter (``get_params()``), the scalar fitted
  attributes, a description (dtype, shape) of every stored array and a
  SHA-256 digest of the metadata and the arrays;
- one member per array-valued fitted attribute (every public attribute whose
  name ends with ``_``), named ``fitted.<attribute>``.

It is read with ``np.load(..., allow_pickle=False)``: nothing in a file is
ever executed, an archive member that holds a pickled object is refused, and
only estimator classes that nmfkit registered (subclasses of
:class:`PersistenceMixin`) can be instantiated. The digest detects truncated,
corrupted or edited files; it is a checksum, not a signature (whoever edits
a file on purpose can recompute it), so the safety against hostile files
comes from never unpickling and from validating everything read.

The same container, with another ``format`` name, stores fit checkpoints
(:mod:`nmfkit._checkpoint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ._atomic import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "PersistenceMixin",
    "decode_params",
    "encode_params",
    "load",
    "read_container",
    "save_estimator",
    "write_container",
]

#: Version of the file layout; files with a larger version are refused.
FORMAT_VERSION = 1
MODEL_FORMAT = "nmfkit-model"
_METADATA_KEY = "__nmfkit__"
_ARRAY_PREFIX = "fitted."
_ARRAY_KINDS = "biuf"  # numeric arrays; strings are stored as unicode ("U")

# Class name in a file -> class. Filled by PersistenceMixin.__init_subclass__.
_ESTIMATORS: dict[str, type] = {}


class ModelFileError(ValueError):
    """A file that is not a valid nmfkit model or checkpoint for this version."""


def _version():
    from . import __version__

    return __version__


# ------------------------------------------------------------------ encoding
def _encode_value(value, where):
    """Return a JSON-safe form of a parameter or scalar attribute value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) and np.dtype(value.dtype).kind in "biuf":
        return {
            "__scalar__": value.dtype.str,
            "value": _encode_value(value.item(), where),
        }
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if np.isfinite(value):
            return value
        return {"__float__": repr(value)}  # 'inf', '-inf', 'nan'
    if isinstance(value, (list, tuple)):
        items = [_encode_value(v, where) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, os.PathLike):
        return {"__path__": os.fspath(value)}
    if isinstance(value, np.random.RandomState):
        name, keys, pos, has_gauss, cached = value.get_state(legacy=True)
        return {
            "__random_state__": [name, keys.tolist(), pos, has_gauss, cached],
        }
    if isinstance(value, np.random.Generator):
        return {
            "__generator__": value.bit_generator.state,
        }
    raise TypeError(
        f"{where} holds a {type(value).__name__}, which nmfkit cannot store "
        "without pickle; use None, a number, a string, a list or a NumPy "
        "random state, or pickle the estimator instead."
    )


def _decode_value(value):
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__scalar__" in value:
        dtype = np.dtype(value["__scalar__"])
        if dtype.kind not in "biuf":
            raise ModelFileError(f"a stored scalar has the unsupported dtype {dtype}.")
        return dtype.type(_decode_value(value["value"]))
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode_value(v) for v in value["__tuple__"])
    if "__path__" in value:
        return Path(value["__path__"])
    if "__random_state__" in value:
        name, keys, pos, has_gauss, cached = value["__random_state__"]
        rs = np.random.RandomState()
        rs.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        return rs
    if "__generator__" in value:
        state = value["__generator__"]
        name = state.get("bit_generator")
        bit_generators = {
            "PCG64": np.random.PCG64,
            "PCG64DXSM": np.random.PCG64DXSM,
            "MT19937": np.random.MT19937,
            "Philox": np.random.Philox,
            "SFC64": np.random.SFC64,
        }
        if name not in bit_generators:
            raise ModelFileError(f"unknown bit generator {name!r} in the file.")
        bit_generator = bit_generators[name]()
        bit_generator.state = state
        return np.random.Generator(bit_generator)
    raise ModelFileError(f"unknown encoded value {sorted(value)} in the file.")


def encode_params(params, what="parameter"):
    """Encode a ``get_params()`` dictionary as JSON-safe values.

    Raises
    ------
    TypeError
        Naming the first parameter whose value cannot be stored without pickle.
    """
    return {
        name: _encode_value(value, f"the {what} {name!r}")
        for name, value in sorted(params.items())
    }


def decode_params(encoded):
    """Inverse of :func:`encode_params`."""
    if not isinstance(encoded, dict):
        raise ModelFileError("the stored parameters are not a mapping.")
    return {name: _decode_value(value) for name, value in encoded.items()}


# ----------------------------------------------------------------- container
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
        h.update(array.tobytes())
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
    if kind == "U":
        return array, "ndarray"
    raise TypeError(
        f"the array {name!r} has dtype {array.dtype}, which nmfkit does not store."
    )


def write_container(path, fmt, metadata, arrays):
    """Write ``metadata`` (JSON-safe dict) and ``arrays`` atomically to ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination; replaced in one step (never half-written).
    fmt : str
        Format name, e.g. ``"nmfkit-model"``.
    metadata : dict
        JSON-safe content.
    arrays : dict of str to ndarray
        Numeric or string arrays.
    """
    stored = {}
    described = {}
    for name, array in arrays.items():
        array, kind = _storable_array(name, array)
        stored[name] = np.ascontiguousarray(array)
        described[name] = {
            "dtype": stored[name].dtype.str,
            "shape": list(stored[name].shape),
            "kind": kind,
        }
    meta = dict(metadata)
    meta.update(
        format=fmt,
        format_version=FORMAT_VERSION,
        nmfkit_version=_version(),
        arrays=described,
    )
    meta["sha256"] = _digest(meta, stored)
    blob = np.frombuffer(
        json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8"),
        dtype=np.uint8,
    )
    members = {_METADATA_KEY: blob}
    members.update({_ARRAY_PREFIX + name: a for name, a in stored.items()})
    with atomic_write(path, "wb") as f:
        np.savez(f, **members)


def read_container(path, fmt):
    """Read and verify a file written by :func:`write_container`.

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
        incompatible version, is truncated or altered, or holds a pickled
        object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file.")
    what = "model" if fmt == MODEL_FORMAT else "checkpoint"
    not_ours = (
        f"{path} is not an nmfkit {what} file (expected a NumPy .npz archive "
        f"written by nmfkit's save)"
    )
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x80"):  # pickle protocol 2 and later
        raise ModelFileError(
            f"{path} holds a pickled object, which nmfkit refuses to load "
            "(loading it could run arbitrary code)."
        )
    if not magic.startswith((b"PK", b"\x93NUMPY")):
        raise ModelFileError(f"{not_ours}; it is neither a zip nor a NumPy file.")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(
                f"{path} holds a pickled object, which nmfkit refuses to load "
                "(loading it could run arbitrary code)."
            ) from None
        raise ModelFileError(f"{not_ours}: {exc}.") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(
            f"{not_ours}; it is unreadable or truncated ({exc})."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{not_ours}; it holds a single array.")
    with archive:
        members = {}
        try:
            for key in archive.files:
                members[key] = archive[key]
        except ValueError as exc:
            if "pickle" in str(exc):
                raise ModelFileError(
                    f"{path}: the member {key!r} holds a pickled object, which "
                    "nmfkit refuses to load (loading it could run arbitrary code)."
                ) from None
            raise ModelFileError(f"{path} is damaged: member {key!r}: {exc}.") from None
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(
                f"{path} is truncated or damaged ({type(exc).__name__}: {exc}); "
                f"save the {what} again."
            ) from None
    if _METADATA_KEY not in members:
        raise ModelFileError(f"{not_ours}; it has no nmfkit metadata.")
    blob = members.pop(_METADATA_KEY)
    try:
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise ValueError("metadata is not a byte string")
        meta = json.loads(blob.tobytes().decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("metadata is not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"{path}: the nmfkit metadata is unreadable ({exc})."
        ) from None
    found = meta.get("format")
    if found != fmt:
        raise ModelFileError(
            f"{path} holds {found!r} data, not an nmfkit {what} ({fmt!r})."
            if isinstance(found, str)
            else f"{not_ours}; its metadata names no nmfkit format."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by nmfkit {meta.get('nmfkit_version')} in file "
            f"format version {version}; this nmfkit ({_version()}) reads format "
            f"versions up to {FORMAT_VERSION}. Upgrade nmfkit to load it."
        )
    arrays = {}
    for key, value in members.items():
        if not key.startswith(_ARRAY_PREFIX):
            raise ModelFileError(f"{path}: unexpected member {key!r}.")
        arrays[key[len(_ARRAY_PREFIX) :]] = value
    described = meta.get("arrays")
    if not isinstance(described, dict) or set(described) != set(arrays):
        raise ModelFileError(
            f"{path}: the arrays in the file do not match its metadata; the file "
            "was altered or damaged."
        )
    if meta.get("sha256") != _digest(meta, arrays):
        raise ModelFileError(
            f"{path} failed its SHA-256 integrity check: the file was altered or "
            f"damaged after it was written. Save the {what} again."
        )
    for name, array in arrays.items():
        info = described[name]
        if array.dtype.kind not in _ARRAY_KINDS + "U":
            raise ModelFileError(f"{path}: the array {name!r} has dtype {array.dtype}.")
        if info.get("kind") == "object_str":
            arrays[name] = array.astype(object)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ModelFileError(f"{path}: the array {name!r} holds NaN or Inf.")
    return meta, arrays


# --------------------------------------------------------------- estimators
def _registry_name(cls):
    if cls.__module__.split(".")[0] == "nmfkit":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def _fitted_attributes(estimator):
    return {
        name: value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_")
    }


def save_estimator(estimator, path):
    """Save a fitted estimator to ``path`` (see the module docstring).

    Parameters
    ----------
    estimator : PersistenceMixin
        A fitted estimator.
    path : str or path-like
        Destination file (``.npz`` is a good suffix); replaced atomically.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.
    TypeError
        When a parameter or attribute cannot be stored without pickle.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    arrays = {}
    scalars = {}
    for name, value in _fitted_attributes(estimator).items():
        if isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            scalars[name] = _encode_value(value, f"the fitted attribute {name!r}")
    metadata = {
        "estimator": _registry_name(type(estimator)),
        "params": encode_params(estimator.get_params(deep=False)),
        "attributes": scalars,
    }
    write_container(path, MODEL_FORMAT, metadata, arrays)


def load(path):
    """Load an estimator saved with ``save``; never unpickles anything.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator
        The fitted estimator, of the class that saved it.

    Raises
    ------
    ModelFileError
        (a ValueError) for a file that is not an nmfkit model, comes from an
        incompatible nmfkit version, is truncated or altered, or holds a
        pickled object.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import nmfkit
    >>> X = np.abs(np.random.default_rng(0).normal(size=(20, 6)))
    >>> model = nmfkit.NMF(n_components=2, random_state=0, max_iter=400).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> model.save(path)
    >>> restored = nmfkit.load(path)
    >>> bool(np.array_equal(restored.components_, model.components_))
    True
    """
    meta, arrays = read_container(path, MODEL_FORMAT)
    name = meta.get("estimator")
    cls = _ESTIMATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ModelFileError(
            f"{path} holds a {name!r} model, which this nmfkit ({_version()}) "
            f"does not know; known: {sorted(_ESTIMATORS)}."
        )
    params = decode_params(meta.get("params"))
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ModelFileError(
            f"{path} was saved by nmfkit {meta.get('nmfkit_version')} with "
            f"parameters this nmfkit ({_version()}) does not accept ({exc}); load "
            "it with that version."
        ) from None
    attributes = meta.get("attributes")
    if not isinstance(attributes, dict):
        raise ModelFileError(f"{path}: the fitted attributes are missing.")
    for attr, value in attributes.items():
        if not (isinstance(attr, str) and attr.endswith("_")):
            raise ModelFileError(f"{path}: invalid attribute name {attr!r}.")
        setattr(estimator, attr, _decode_value(value))
    for attr, value in arrays.items():
        if not attr.endswith("_") or attr.startswith("_"):
            raise ModelFileError(f"{path}: invalid attribute name {attr!r}.")
        setattr(estimator, attr, value)
    return estimator


class PersistenceMixin:
    """Adds :meth:`save`; subclasses become loadable by :func:`load`.

    Generic over ``get_params()`` and the fitted attributes (public names
    ending with ``_``): any nmfkit estimator whose parameters and attributes
    are numbers, strings, None, lists, NumPy random states or numeric/string
    arrays can inherit it.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _ESTIMATORS[_registry_name(cls)] = cls

    def save(self, path):
        """Save the fitted model to one ``.npz`` file, without pickle.

        Load it back with :func:`nmfkit.load`. The file holds every
        parameter and fitted attribute, the nmfkit version and a SHA-256
        checksum; it is written atomically (complete or absent).

        Parameters
        ----------
        path : str or path-like
            Destination; an existing file is replaced.
        """
        save_estimator(self, path)
