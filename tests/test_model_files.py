"""Model files are validated before they are trusted (nmfkit.load).

Hostile files: zip bombs, ``.npy`` headers that claim huge arrays, oversized
or deeply nested metadata, and files whose SHA-256 digest was recomputed after
an edit (so only the content checks can catch them). Every one must be a
``ModelFileError`` naming the problem, with bounded memory (measured with
tracemalloc: the peak of traced allocations during ``load``).
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF, MiniBatchNMF, ModelFileError, load
from nmfkit._container import MAX_JSON_DEPTH, MAX_METADATA_BYTES
from nmfkit._persistence import _digest

MEMORY_BOUND = 50 * 2**20  # bytes of traced allocations a refusal may take


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((30, 8))


@pytest.fixture(scope="module")
def model(X):
    return NMF(n_components=3, random_state=0, max_iter=50).fit(X)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    return path


def _refused(path, match):
    """``load(path)`` raises ModelFileError matching ``match``; bounded memory."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"load took {peak / 2**20:.1f} MiB before refusing"
    assert str(path) in str(info.value)
    return info.value


def _members(path):
    """The archive's metadata (dict) and arrays (name -> ndarray)."""
    with np.load(path, allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    meta = json.loads(members.pop("__nmfkit__").tobytes())
    arrays = {k[len("fitted.") :]: v for k, v in members.items()}
    return meta, arrays


def _resave(path, meta, arrays):
    """Write ``meta`` and ``arrays`` as a consistent file: descriptions and
    digest recomputed, as someone editing a file on purpose would do."""
    meta = dict(meta)
    meta["arrays"] = {
        name: {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "kind": meta["arrays"].get(name, {}).get("kind", "ndarray"),
        }
        for name, a in arrays.items()
    }
    meta["sha256"] = _digest(meta, arrays)
    members = {"__nmfkit__": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    members.update({f"fitted.{k}": v for k, v in arrays.items()})
    with open(path, "wb") as f:
        np.savez(f, **members)


def _npy_header(dtype, shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _write_zip(path, members):
    """A zip written byte by byte: ``members`` maps a name to ``(method, crc,
    size, data)`` with ``data`` already compressed, so that a member may
    expand to far more than this test ever holds in memory."""
    out = bytearray()
    central = bytearray()
    for name, (method, crc, size, data) in members.items():
        encoded = name.encode()
        fields = (20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, len(out)
        )
        central += encoded
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded + data
    offset = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        len(members),
        len(members),
        len(central),
        offset,
        0,
    )
    path.write_bytes(bytes(out))


def _stored(array_bytes):
    return (zipfile.ZIP_STORED, zlib.crc32(array_bytes), len(array_bytes), array_bytes)


def _deflated_zeros(header, n_mib):
    """A deflate stream of ``header`` followed by ``n_mib`` MiB of zero bytes,
    built from one compressed MiB repeated (full flushes reset the encoder)."""
    chunk = bytes(2**20)
    encoder = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = encoder.compress(header) + encoder.flush(zlib.Z_FULL_FLUSH)
    block = encoder.compress(chunk) + encoder.flush(zlib.Z_FULL_FLUSH)
    assert encoder.compress(chunk) + encoder.flush(zlib.Z_FULL_FLUSH) == block
    data = head + block * n_mib + encoder.flush()
    crc = zlib.crc32(header)
    for _ in range(n_mib):
        crc = zlib.crc32(chunk, crc)
    return (zipfile.ZIP_DEFLATED, crc, len(header) + n_mib * 2**20, data)


def _metadata_member(meta):
    raw = json.dumps(meta).encode()
    return _stored(_npy_header(np.uint8, (len(raw),)) + raw)


# ----------------------------------------------------------- before reading
BOMB_MIB = 256


@pytest.mark.parametrize("where", ["components_", "extra member", "bad name"])
def test_zip_bomb_is_refused_from_the_directory(saved, tmp_path, where):
    meta, arrays = _members(saved)
    n_features = BOMB_MIB * 2**20 // 8
    if where == "components_":
        # Entirely consistent metadata: one component of 32 Mi features,
        # 256 MiB of zeros compressed to about 256 KiB.
        meta["attributes"]["n_components_"] = 1
        meta["attributes"]["n_features_in_"] = n_features
        meta["params"]["n_components"] = 1
        meta["arrays"] = {
            "components_": {"dtype": "<f8", "shape": [1, n_features], "kind": "ndarray"}
        }
        members = {}
    else:
        members = {
            f"fitted.{k}.npy": _stored(_npy_header(v.dtype, v.shape) + v.tobytes())
            for k, v in arrays.items()
        }
    name = {"components_": "fitted.components_.npy", "extra member": "fitted.x_.npy"}
    bomb = _deflated_zeros(_npy_header(np.float64, (1, n_features)), BOMB_MIB)
    members["__nmfkit__.npy"] = _metadata_member(meta)
    members[name.get(where, "bomb.npy")] = bomb
    path = tmp_path / "bomb.npz"
    _write_zip(path, members)
    assert path.stat().st_size < 2**20
    match = "unexpected member 'bomb.npy'" if where == "bad name" else "zip bomb"
    _refused(path, match)


def test_header_claiming_a_trillion_elements_is_refused(saved, tmp_path):
    meta, arrays = _members(saved)
    header = _npy_header(np.float64, (10**6, 10**6))
    members = {
        "fitted.history_.npy": _stored(
            _npy_header(np.float64, arrays["history_"].shape)
            + arrays["history_"].tobytes()
        ),
        "fitted.loss_curve_.npy": _stored(
            _npy_header(np.float64, arrays["loss_curve_"].shape)
            + arrays["loss_curve_"].tobytes()
        ),
        "fitted.components_.npy": _stored(header + bytes(192)),
    }
    path = tmp_path / "huge.npz"
    # The metadata still describes (3, 8): the header disagrees with it.
    _write_zip(path, {"__nmfkit__.npy": _metadata_member(meta), **members})
    _refused(path, r"shape \(1000000, 1000000\), but the metadata describes")
    # The metadata agrees (10^6 components of 10^6 features): the member is
    # far smaller than its header announces.
    meta["attributes"].update(n_components_=10**6, n_features_in_=10**6)
    meta["params"]["n_components"] = 10**6
    meta["arrays"]["components_"]["shape"] = [10**6, 10**6]
    _write_zip(path, {"__nmfkit__.npy": _metadata_member(meta), **members})
    _refused(path, "header announces 8000000000128 .*truncated or damaged")


def test_oversized_and_deeply_nested_metadata_are_refused(saved, tmp_path):
    meta, arrays = _members(saved)
    path = tmp_path / "m.npz"
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(meta)[:-1] + f', "x": {deep}}}'
    raw = text.encode()
    json_bomb = {"__nmfkit__.npy": _stored(_npy_header(np.uint8, (len(raw),)) + raw)}
    _write_zip(path, json_bomb)
    _refused(path, f"nests 100001 levels deep, more than the {MAX_JSON_DEPTH}")
    # deep objects, with brackets inside strings that must not count
    deep = '{"a": ' * 40 + '"]]]]"' + "}" * 40
    raw = (json.dumps(meta)[:-1] + f', "x": {deep}}}').encode()
    _write_zip(
        path, {"__nmfkit__.npy": _stored(_npy_header(np.uint8, (len(raw),)) + raw)}
    )
    _refused(path, "nests 41 levels deep")
    raw = b" " * (MAX_METADATA_BYTES + 1) + json.dumps(meta).encode()
    _write_zip(
        path, {"__nmfkit__.npy": _stored(_npy_header(np.uint8, (len(raw),)) + raw)}
    )
    _refused(path, "metadata is .* bytes, more than")


def test_unknown_members_and_arrays_are_refused(saved, tmp_path):
    meta, arrays = _members(saved)
    path = tmp_path / "m.npz"
    # an array the estimator does not have, described and digested
    _resave(path, meta, {**arrays, "weights_": np.ones(3)})
    _refused(path, r"unknown array\(s\) \['weights_'\]")
    _resave(path, meta, {k: v for k, v in arrays.items() if k != "components_"})
    _refused(path, r"lacks the array\(s\) \['components_'\]")
    # a member that is not a .npy array of the container
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("run.py", "print('hello')")
    _refused(path, "unexpected member 'run.py'")


def test_archive_with_thousands_of_members_is_refused_before_parsing(tmp_path):
    members = {f"fitted.a{i}_.npy": _stored(b"") for i in range(20_000)}
    path = tmp_path / "many.npz"
    _write_zip(path, members)
    _refused(path, "the archive has 20000 members; an nmfkit file has at most 64")


def test_savez_compressed_model_still_loads(saved, model, tmp_path):
    # deflated members with a normal ratio are accepted
    path = tmp_path / "compressed.npz"
    with np.load(saved, allow_pickle=False) as archive:
        np.savez_compressed(path, **{k: archive[k] for k in archive.files})
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    np.testing.assert_array_equal(load(path).components_, model.components_)


# ------------------------------------------------- content, digest matching
def _edit_components(value):
    def edit(meta, arrays):
        arrays["components_"] = value(arrays["components_"])

    return edit


def _edit_attribute(name, value):
    def edit(meta, arrays):
        meta["attributes"][name] = value

    return edit


def _edit_param(name, value):
    def edit(meta, arrays):
        meta["params"][name] = value

    return edit


def _with_nan(H):
    H = H.copy()
    H[1, 2] = np.nan
    return H


def _with_negative(H):
    H = H.copy()
    H[0, 0] = -0.5
    return H


@pytest.mark.parametrize(
    "edit, message",
    [
        (_edit_attribute("loss_", {"__float__": "nan"}), r"loss_=nan is not valid"),
        (_edit_attribute("loss_", {"__float__": "inf"}), r"loss_=inf is not valid"),
        (_edit_components(lambda H: H * 0 + 1e300), "largest value is 1e.300, above"),
        (_edit_components(_with_nan), "'components_' holds NaN or Inf"),
        (_edit_components(_with_negative), "negative values .*smallest is -0.5"),
        (_edit_components(lambda H: H[:, :7]), r"shape \(3, 7\); expected \(3, 8\)"),
        (_edit_components(lambda H: H.ravel()), r"1 dimension\(s\)"),
        (_edit_components(lambda H: H.astype(np.int64)), "has dtype int64"),
        (_edit_attribute("n_features_in_", -1), "n_features_in_=-1 is not valid"),
        (_edit_attribute("n_components_", 2.5), "n_components_=2.5 is not valid"),
        (_edit_attribute("n_iter_", True), "n_iter_=True is not valid"),
        (
            _edit_attribute("n_iter_", 3),
            r"'history_' has shape .*expected \(1\.\.4, 3\)",
        ),
        (_edit_attribute("n_components_", 4), r"n_components_=4 contradicts"),
        (_edit_attribute("weird_", 1), r"unknown fitted attribute\(s\) \['weird_'\]"),
        (_edit_param("solver", "bogus"), "saved parameter is invalid.*bogus"),
        (_edit_param("beta_loss", "bogus"), "saved parameter is invalid.*bogus"),
        (_edit_param("tol", -1.0), "parameter is invalid: The 'tol' param.*tol=-1"),
        (_edit_param("n_components", 0), "invalid: The 'n_components' parameter"),
        (_edit_param("max_iter", {"__float__": "nan"}), "saved parameter is invalid"),
        (_edit_param("init", {"__scalar__": "<f8", "value": "x"}), "parameters are"),
        (_edit_param("random_state", {"__random_state__": [1]}), "parameters are"),
        (_edit_param("tol", {"__what__": 1}), "unknown encoded value"),
    ],
)
def test_edited_file_with_a_matching_digest_is_refused(saved, tmp_path, edit, message):
    meta, arrays = _members(saved)
    edit(meta, arrays)
    _resave(saved, meta, arrays)
    _refused(saved, message)


def test_the_edit_helper_writes_files_that_load(saved, model, X):
    # without an edit, _resave gives a valid file: the refusals above come
    # from the edits alone
    _resave(saved, *_members(saved))
    restored = load(saved)
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


@pytest.mark.parametrize(
    "estimator, data",
    [
        (NMF(3, n_init=3, random_state=0, max_iter=30), "dense"),
        (NMF(2, missing_values=np.nan, bias=True, max_iter=30), "missing"),
        (NMF(None, max_iter=30), "dense"),
        (NMF("auto", max_iter=30), "float32"),
        (NMF(2, beta_loss="kullback-leibler", solver="mu", max_iter=30), "dense"),
        (MiniBatchNMF(3, batch_size=10, max_iter=3, random_state=0), "dense"),
    ],
)
def test_every_kind_of_fitted_model_passes_the_checks(tmp_path, X, estimator, data):
    Xfit = X.astype(np.float32) if data == "float32" else X.copy()
    if data == "missing":
        Xfit[0, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(Xfit)
    estimator.save(tmp_path / "m.npz")
    restored = load(tmp_path / "m.npz")
    for name, value in vars(estimator).items():
        if name.endswith("_") and not name.startswith("_"):
            np.testing.assert_array_equal(getattr(restored, name), value)


def test_save_refuses_a_state_that_would_not_load(model, tmp_path):
    path = tmp_path / "m.npz"
    broken = NMF(n_components=3, random_state=0, max_iter=50)
    broken.__dict__.update(vars(model))
    broken.components_ = model.components_.copy()
    broken.components_[0, 0] = -1.0
    with pytest.raises(ValueError, match="cannot save this NMF: components_ holds"):
        broken.save(path)
    broken.components_ = model.components_
    broken.set_params(solver="bogus")
    with pytest.raises(ValueError, match="cannot save this NMF: a saved parameter"):
        broken.save(path)
    broken.set_params(solver="mu")
    broken.extra_ = 1
    with pytest.raises(ValueError, match=r"unknown fitted attribute\(s\) \['extra_'\]"):
        broken.save(path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ random damage
def test_random_byte_damage_is_refused_or_harmless(saved, model, tmp_path):
    data = saved.read_bytes()
    rng = np.random.default_rng(0)
    path = tmp_path / "damaged.npz"
    loaded = 0
    for _ in range(300):
        damaged = bytearray(data)
        for at in rng.integers(0, len(data), size=rng.choice([1, 2, 5])):
            damaged[at] = rng.integers(0, 256)
        path.write_bytes(bytes(damaged))
        try:
            restored = load(path)
        except ModelFileError:
            continue
        # only bytes nothing depends on were hit (zip timestamps, padding)
        loaded += 1
        np.testing.assert_array_equal(restored.components_, model.components_)
        assert restored.get_params() == model.get_params()
    assert loaded < 30


ODD_VALUES = [
    None,
    True,
    -1,
    0,
    2.5,
    1e308,
    "x",
    [],
    {},
    [1, 2],
    10**30,
    {"__float__": "nan"},
    {"__scalar__": "<i8", "value": 1e300},
    {"__scalar__": ["<f8"], "value": 1},
    {"__tuple__": 3},
    {"__path__": 5},
    {"__generator__": {"bit_generator": "PCG64", "state": 1}},
    {"__random_state__": ["MT19937", [1] * 3, 0, 0, 0.0]},
]


def _json_paths(node, path=()):
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = list(enumerate(node))[:3]
    else:
        return
    for key, value in items:
        yield (*path, key)
        yield from _json_paths(value, (*path, key))


def test_random_metadata_edits_with_a_matching_digest_load_or_are_refused(
    saved, tmp_path
):
    meta, arrays = _members(saved)
    paths = [p for p in _json_paths(meta) if p[0] not in ("sha256", "arrays")]
    rng = np.random.default_rng(1)
    path = tmp_path / "edited.npz"
    for _ in range(300):
        edited = json.loads(json.dumps(meta))
        where = paths[rng.integers(len(paths))]
        node = edited
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
        _resave(path, edited, arrays)
        try:
            restored = load(path)
        except ModelFileError:
            continue
        assert np.isfinite(restored.components_).all()
        assert restored.components_.shape == (
            restored.n_components_,
            restored.n_features_in_,
        )
