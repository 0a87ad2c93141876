"""Saving and loading fitted estimators without pickle.

A model file is the container of :mod:`nmfkit._container` (one NumPy
``.npz`` archive) in the format ``"nmfkit-model"``. Its metadata holds the
estimator class, every constructor parameter (``get_params()``) and the
scalar fitted attributes; each array-valued fitted attribute is one member
``fitted.<attribute>.npy``.

Nothing in a file is ever executed: it is read with ``allow_pickle=False``
(a member that holds a pickled object is refused) and only estimator classes
that nmfkit registered (subclasses of :class:`PersistenceMixin`) can be
instantiated. The SHA-256 digest detects truncated, corrupted or edited
files; it is a checksum, not a signature (whoever edits a file on purpose can
recompute it), so :func:`load` validates everything before it trusts it:

1. the zip directory, the ``.npy`` headers and the JSON metadata, within
   bounds, before any array is read (:func:`nmfkit._container.read_container`);
2. the estimator class, the parameters (the estimator's own parameter
   checks: a known ``solver``, ``beta_loss``, ``init`` and so on) and the
   scalar attributes (``n_features_in_`` and ``n_components_`` positive
   integers, ``loss_`` finite, ...), then the arrays each may hold with the
   shapes they imply (``components_`` of shape ``(n_components_,
   n_features_in_)``): a limit on the data known before reading it;
3. after reading and the digest, the values: finite, ``components_``
   non-negative and small enough that ``transform`` cannot overflow (the
   range nmfkit accepts for data).

:func:`save_estimator` applies the same checks before writing, so a file
nmfkit writes always loads back.

The same container, with another ``format`` name, stores fit checkpoints
(:mod:`nmfkit._checkpoint`).
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import PathLike
from ._container import (
    FORMAT_VERSION,
    ArrayRule,
    FileProblem,
    ModelFileError,
    _digest,  # noqa: F401 (re-exported: tests recompute digests)
    read_container,
    storable_arrays,
    write_container,
)

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

MODEL_FORMAT = "nmfkit-model"

# Class name in a file -> class. Filled by PersistenceMixin.__init_subclass__.
_ESTIMATORS: dict[str, type] = {}


def _version():
    from .. import __version__

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
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        # solver_options_: string keys, values of the kinds above
        return {"__dict__": [[k, _encode_value(v, where)] for k, v in value.items()]}
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
        "without pickle; use None, a number, a string, a list, a dict with "
        "string keys or a NumPy "
        "random state, or pickle the estimator instead."
    )


def _decode_value(value):
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__scalar__" in value:
        if not isinstance(value["__scalar__"], str) or len(value["__scalar__"]) > 16:
            raise ModelFileError("a stored scalar has an invalid dtype.")
        dtype = np.dtype(value["__scalar__"])
        if dtype.kind not in "biuf":
            raise ModelFileError(f"a stored scalar has the unsupported dtype {dtype}.")
        return dtype.type(_decode_value(value["value"]))
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode_value(v) for v in value["__tuple__"])
    if "__dict__" in value:
        items = value["__dict__"]
        if not isinstance(items, list) or not all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
            for item in items
        ):
            raise ModelFileError("a stored dictionary is malformed.")
        return {key: _decode_value(v) for key, v in items}
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


# ------------------------------------------------------------ model schema
_FLOATS = ("f4", "f8")
_INTS = ("i4", "i8", "u4", "u8")

#: Scalar fitted attributes a model may hold: name -> (type, smallest value).
_SCALAR_ATTRIBUTES = {
    "n_features_in_": ("an integer", 1),
    "n_components_": ("an integer", 1),
    "n_iter_": ("an integer", 0),
    "n_steps_": ("an integer", 0),
    "loss_": ("a finite real number", None),
    "reconstruction_err_": ("a finite real number", 0),
    "solver_": ("a solver name", None),
    "solver_options_": ("a mapping of solver options", None),
}
_REQUIRED_SCALARS = ("n_features_in_", "n_components_")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )


def _known_scalars(cls):
    """Scalar attributes ``cls`` may hold: the common ones and its own.

    An estimator class with attributes of its own declares them in
    ``_persistence_scalars`` (name -> (kind, smallest value)), its arrays in
    a classmethod ``_persistence_arrays(scalars, params)`` (name ->
    ArrayRule) and those that must be non-negative in
    ``_persistence_non_negative``.
    """
    return {**_SCALAR_ATTRIBUTES, **getattr(cls, "_persistence_scalars", {})}


def _check_scalars(scalars, cls=None):
    """The scalar fitted attributes: known names, types and ranges."""
    known = _known_scalars(cls)
    unknown = sorted(set(scalars) - set(known))
    if unknown:
        raise FileProblem(
            f"unknown fitted attribute(s) {unknown}; a model holds only "
            f"{sorted(known)} and the arrays of its estimator"
        )
    missing = [name for name in _REQUIRED_SCALARS if name not in scalars]
    if missing:
        raise FileProblem(f"the model lacks the fitted attribute(s) {missing}")
    for name, value in scalars.items():
        kind, low = known[name]
        if kind == "a solver name":
            valid = isinstance(value, str) and value != "auto"
        elif kind == "a mapping of solver options":
            valid = isinstance(value, dict) and all(isinstance(k, str) for k in value)
        elif kind == "an integer":
            valid = _is_int(value)
        else:
            valid = isinstance(value, numbers.Real) and not isinstance(
                value, (bool, np.bool_)
            )
            try:
                valid = valid and math.isfinite(float(value))
            except OverflowError:  # an integer beyond float64
                valid = False
        if not valid or (low is not None and value < low):
            bound = "" if low is None else f" >= {low}"
            raise FileProblem(
                f"the fitted attribute {name}={value!r} is not valid; it must be "
                f"{kind}{bound}"
            )


def _array_rules(scalars, params, cls=None):
    """The arrays a model may hold, with the shapes its scalars imply."""
    n_components = int(scalars["n_components_"])
    n_features = int(scalars["n_features_in_"])
    rules = {
        "components_": ArrayRule(_FLOATS, (n_components, n_features)),
        "feature_names_in_": ArrayRule(("U",), (n_features,), required=False),
    }
    if "n_iter_" in scalars:
        rows = (1, int(scalars["n_iter_"]) + 1)
        rules["history_"] = ArrayRule(_FLOATS, (rows, 3), required=False)
        rules["loss_curve_"] = ArrayRule(_FLOATS, (rows,), required=False)
    n_init = params.get("n_init", 1)
    if _is_int(n_init) and n_init > 1:
        rules["n_init_seeds_"] = ArrayRule(_INTS, (int(n_init),), required=False)
        rules["n_init_losses_"] = ArrayRule(_FLOATS, (int(n_init),), required=False)
    own = getattr(cls, "_persistence_arrays", None)
    if own is not None:
        rules.update(own(scalars, params))
    return rules


def _check_array_rules(rules, arrays):
    """``arrays`` (name -> ndarray) against ``rules``, as the reader does."""
    unknown = sorted(set(arrays) - set(rules))
    if unknown:
        raise FileProblem(
            f"unknown fitted attribute(s) {unknown}; a model holds only the "
            f"arrays {sorted(rules)}"
        )
    for name, rule in rules.items():
        if name not in arrays:
            if rule.required:
                raise FileProblem(f"the model lacks the array {name!r}")
            continue
        problem = rule.problem(name, arrays[name].dtype, arrays[name].shape)
        if problem:
            raise FileProblem(problem)


def _check_values(arrays, cls=None):
    """Finite arrays; ``components_`` non-negative and within the data range."""
    from .._validation import magnitude_range

    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise FileProblem(f"the array {name!r} holds NaN or Inf")
    for name in getattr(cls, "_persistence_non_negative", ()):
        if name in arrays and arrays[name].size and arrays[name].min() < 0:
            raise FileProblem(f"{name} holds negative values; it is non-negative")
    H = arrays["components_"]
    if H.size == 0:
        return
    if H.min() < 0:
        raise FileProblem(
            f"components_ holds negative values (the smallest is {H.min():.6g}); "
            "NMF factors are non-negative"
        )
    high = magnitude_range(H.dtype)[1]
    if H.max() > high:
        raise FileProblem(
            f"components_'s largest value is {H.max():.6g}, above {high:.3g}, "
            f"beyond which transform overflows in {H.dtype}"
        )


def _estimator_class(name):
    cls = _ESTIMATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise FileProblem(
            f"it holds a {name!r} model, which this nmfkit ({_version()}) does "
            f"not know; known: {sorted(_ESTIMATORS)}"
        )
    return cls


def _build_estimator(cls, params, scalars, written_by):
    """An unfitted ``cls(**params)`` whose parameters passed its own checks."""
    from .._validation import check_n_components

    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise FileProblem(
            f"it was saved by nmfkit {written_by} with parameters this nmfkit "
            f"({_version()}) does not accept ({exc}); load it with that version"
        ) from None
    try:
        check = getattr(estimator, "_check_params", None)
        if check is not None:
            check()
        if "n_components" in params:
            check_n_components(params["n_components"], scalars["n_features_in_"])
        n_init = params.get("n_init", 1)
        if not _is_int(n_init) or n_init < 1:
            raise ValueError(f"n_init={n_init!r} is not valid; it must be >= 1")
    except (ValueError, TypeError, OverflowError) as exc:
        raise FileProblem(f"a saved parameter is invalid: {exc}") from None
    n_components = params.get("n_components")
    if _is_int(n_components):
        expected = n_components + (2 if params.get("bias") else 0)
        if scalars["n_components_"] != expected:
            raise FileProblem(
                f"n_components_={scalars['n_components_']} contradicts the "
                f"parameters (n_components={n_components}, "
                f"bias={params.get('bias', False)}: {expected} components)"
            )
    return estimator


def _check_model(cls, params, scalars, arrays, written_by):
    """Every check of :func:`load` on a model's state; returns the estimator."""
    _check_scalars(scalars, cls)
    estimator = _build_estimator(cls, params, scalars, written_by)
    _check_array_rules(_array_rules(scalars, params, cls), arrays)
    _check_values(arrays, cls)
    return estimator


def _decoded(encoded, what):
    """Decode stored values, turning any malformed value into a FileProblem."""
    if not isinstance(encoded, dict):
        raise FileProblem(f"the stored {what} are not a mapping")
    try:
        return {name: _decode_value(value) for name, value in encoded.items()}
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        AttributeError,
    ) as exc:
        raise FileProblem(f"the stored {what} are invalid ({exc})") from None


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
    ValueError
        When the state would not load back: a parameter or attribute that
        :func:`load` refuses (an unknown attribute, an invalid parameter,
        non-finite or negative factors, inconsistent shapes); nothing is
        written.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    arrays = {}
    scalars = {}
    encoded = {}
    for name, value in _fitted_attributes(estimator).items():
        if isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            encoded[name] = _encode_value(value, f"the fitted attribute {name!r}")
            scalars[name] = value
    params = estimator.get_params(deep=False)
    metadata = {
        "estimator": _registry_name(type(estimator)),
        "params": encode_params(params),
        "attributes": encoded,
    }
    stored, _ = storable_arrays(arrays)
    try:
        _check_model(type(estimator), params, scalars, stored, _version())
    except FileProblem as exc:
        raise ValueError(
            f"cannot save this {type(estimator).__name__}: {exc}; nmfkit.load "
            "would refuse the file. Fit the model again, or undo the change to "
            "its attributes or parameters."
        ) from None
    write_container(path, MODEL_FORMAT, metadata, arrays)


def load(path: PathLike) -> Any:
    """Load an estimator saved with ``save``; never unpickles anything.

    Everything is validated before it is trusted (see the module docstring):
    the archive's structure and sizes before any array is read, then the
    parameters, attributes and values, even when the checksum matches.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator
        The fitted estimator, of the class that saved it.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ModelFileError
        (a ValueError) for a file that is not an nmfkit model, comes from an
        incompatible nmfkit version, is truncated or altered, holds a pickled
        object, is larger than what it describes (a zip bomb), or holds
        invalid parameters, attributes or factors; the message names the
        problem.

    See Also
    --------
    NMF.save : Write a model file.
    ModelFileError : The error for files that are not valid model files.

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
    state: dict[str, Any] = {}

    def layout(meta):
        cls = _estimator_class(meta.get("estimator"))
        params = _decoded(meta.get("params"), "parameters")
        scalars = _decoded(meta.get("attributes"), "fitted attributes")
        _check_scalars(scalars, cls)
        written_by = meta.get("nmfkit_version")
        state.update(
            estimator=_build_estimator(cls, params, scalars, written_by),
            scalars=scalars,
            params=params,
        )
        return _array_rules(scalars, params, cls)

    meta, arrays = read_container(path, MODEL_FORMAT, layout)
    try:
        _check_values(arrays, type(state["estimator"]))
    except FileProblem as exc:
        raise ModelFileError(f"{path}: {exc}.") from None
    estimator = state["estimator"]
    for attr, value in {**state["scalars"], **arrays}.items():
        setattr(estimator, attr, value)
    return estimator


class PersistenceMixin:
    """Adds :meth:`save`; subclasses become loadable by :func:`load`.

    Generic over ``get_params()``; the fitted attributes (public names ending
    with ``_``) must be those of nmfkit's estimators (``components_``,
    ``n_components_``, ``n_features_in_``, ``n_iter_``, ``history_``, ...):
    :func:`load` refuses any other.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _ESTIMATORS[_registry_name(cls)] = cls

    def save(self, path):
        """Save the fitted model to one ``.npz`` file, without pickle.

        Load it back with :func:`nmfkit.load`. The file holds every
        parameter and fitted attribute, the nmfkit version and a SHA-256
        checksum; it is written atomically (complete or absent, never half
        written), after the checks :func:`nmfkit.load` applies.

        Parameters
        ----------
        path : str or path-like
            Destination; an existing file is replaced. When ``path`` is a
            symbolic link, the file it points to is replaced and the link
            stays. An existing file keeps its permission bits; a new one gets
            ``0o666`` less the umask (as ``open`` gives). Temporary files that
            an interrupted save to the same path left behind
            (``.<name>.<pid>.<random>.nmfkit.tmp``) are removed.

        Raises
        ------
        ValueError
            When the model's state would not load back (see
            :func:`nmfkit._persistence.save_estimator`).

        See Also
        --------
        nmfkit.load : Load the file back.

        Examples
        --------
        >>> import numpy as np
        >>> import nmfkit
        >>> X = np.abs(np.random.default_rng(0).normal(size=(10, 4)))
        >>> model = nmfkit.NMF(n_components=2, random_state=0, max_iter=400).fit(X)
        >>> model.save("model.npz")
        >>> restored = nmfkit.load("model.npz")
        >>> bool(np.array_equal(restored.components_, model.components_))
        True
        """
        save_estimator(self, path)
