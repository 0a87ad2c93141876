"""Saving and loading models without pickle (nmfkit._persistence)."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

import nmfkit
from nmfkit import NMF, ModelFileError, load
from nmfkit._persistence import (
    FORMAT_VERSION,
    _digest,
    decode_params,
    encode_params,
    read_container,
    write_container,
)


@pytest.fixture(scope="module")
def X():
    return np.abs(np.random.default_rng(0).normal(size=(30, 8)))


@pytest.fixture(scope="module")
def fitted(X):
    return NMF(
        n_components=3, init="random", random_state=0, max_iter=300, l1_W=0.1
    ).fit(X)


def _rewrite(path, change):
    """Rewrite an .npz file member by member, letting ``change`` edit the dict."""
    with np.load(path, allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    change(members)
    with open(path, "wb") as f:
        np.savez(f, **members)


def _metadata(members):
    return json.loads(members["__nmfkit__"].tobytes().decode())


def _set_metadata(members, meta):
    members["__nmfkit__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def test_round_trip_keeps_every_parameter_and_attribute(fitted, X, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    restored = load(path)
    assert type(restored) is NMF
    assert restored.get_params() == fitted.get_params()
    fitted_attrs = {k for k in vars(fitted) if k.endswith("_")}
    assert fitted_attrs == {k for k in vars(restored) if k.endswith("_")}
    assert {"components_", "n_iter_", "history_", "loss_"} <= fitted_attrs
    for name in fitted_attrs:
        a, b = getattr(fitted, name), getattr(restored, name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b and type(a) is type(b), name
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))


def test_metadata_names_version_and_format(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    meta, arrays = read_container(path, "nmfkit-model")
    assert meta["nmfkit_version"] == nmfkit.__version__
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["estimator"] == "NMF"
    assert set(arrays) == {"components_", "history_", "loss_curve_"}
    # Only .npy members and the JSON metadata: nothing executable.
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(
            ["__nmfkit__.npy"] + [f"fitted.{k}.npy" for k in arrays]
        )


def test_feature_names_and_float32_survive(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((12, 4)), columns=["a", "b", "c", "d"])
    model = NMF(n_components=2, random_state=0, max_iter=50, tol=0).fit(frame)
    model.save(tmp_path / "m.npz")
    restored = load(tmp_path / "m.npz")
    assert restored.feature_names_in_.dtype == object
    assert list(restored.feature_names_in_) == ["a", "b", "c", "d"]
    assert list(restored.get_feature_names_out()) == ["nmf0", "nmf1"]
    model32 = NMF(n_components=2, random_state=0, max_iter=20, tol=0).fit(
        rng.random((10, 5)).astype(np.float32)
    )
    model32.save(tmp_path / "m32.npz")
    assert load(tmp_path / "m32.npz").components_.dtype == np.float32


def test_random_state_objects_round_trip(X, tmp_path):
    rs = np.random.RandomState(3)
    model = NMF(n_components=2, init="random", random_state=rs, max_iter=5, tol=0)
    model.fit(X)
    model.save(tmp_path / "m.npz")
    restored = load(tmp_path / "m.npz").random_state
    assert type(restored) is np.random.RandomState
    # The same stream continues from the saved state.
    np.testing.assert_array_equal(rs.random(5), restored.random(5))
    gen = np.random.default_rng(4)
    gen.random(3)
    decoded = decode_params(json.loads(json.dumps(encode_params({"g": gen}))))["g"]
    np.testing.assert_array_equal(gen.random(5), decoded.random(5))


def test_param_encoding_rejects_what_needs_pickle():
    with pytest.raises(TypeError, match="the parameter 'init'.*without pickle"):
        encode_params({"init": object()})
    values = {"a": (1, 2.5), "b": float("inf"), "c": None, "d": np.float32(2)}
    decoded = decode_params(json.loads(json.dumps(encode_params(values))))
    assert decoded == values and type(decoded["d"]) is np.float32


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        NMF().save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_tampered_array_fails_checksum(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        members["fitted.components_"] = members["fitted.components_"] * 1.0001

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="SHA-256 integrity check"):
        load(path)


def test_tampered_parameter_fails_checksum(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        meta = _metadata(members)
        meta["params"]["l1_W"] = 0.5
        _set_metadata(members, meta)

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="SHA-256 integrity check"):
        load(path)


def test_truncated_file_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    data = path.read_bytes()
    for keep in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:keep])
        with pytest.raises(ModelFileError, match="truncated|damaged|not an nmfkit"):
            load(path)


def test_flipped_byte_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    data = bytearray(path.read_bytes())
    # Flip one byte inside the stored components_ values (the zip is
    # uncompressed, so the float bytes appear verbatim).
    raw = fitted.components_.tobytes()
    at = bytes(data).index(raw[:16]) + 3
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        load(path)


def test_newer_format_version_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        meta = _metadata(members)
        meta["format_version"] = FORMAT_VERSION + 1
        meta["nmfkit_version"] = "9.0"
        arrays = {
            k[len("fitted.") :]: v for k, v in members.items() if k != "__nmfkit__"
        }
        meta["sha256"] = _digest(meta, arrays)
        _set_metadata(members, meta)

    _rewrite(path, change)
    with pytest.raises(
        ModelFileError, match=r"nmfkit 9.0 in file format version 2.*Upgrade nmfkit"
    ):
        load(path)


def test_unknown_parameter_from_other_version_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        meta = _metadata(members)
        meta["params"]["future_option"] = 1
        arrays = {
            k[len("fitted.") :]: v for k, v in members.items() if k != "__nmfkit__"
        }
        meta["sha256"] = _digest(meta, arrays)
        _set_metadata(members, meta)

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="does not accept.*future_option"):
        load(path)


def test_unknown_estimator_class_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        meta = _metadata(members)
        meta["estimator"] = "os.system"
        arrays = {
            k[len("fitted.") :]: v for k, v in members.items() if k != "__nmfkit__"
        }
        meta["sha256"] = _digest(meta, arrays)
        _set_metadata(members, meta)

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="'os.system' model.*does not know"):
        load(path)


def test_nan_in_a_consistent_file_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    write_container(
        path,
        "nmfkit-model",
        {
            "estimator": "NMF",
            "params": {},
            "attributes": {"n_components_": 1, "n_features_in_": 2},
        },
        {"components_": np.array([[np.nan, 1.0]])},
    )
    with pytest.raises(ModelFileError, match="NaN or Inf"):
        load(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not an nmfkit model"),
        (b"\x00\x01garbage" * 50, "not an nmfkit model"),
        (b"n_components,3\n", "not an nmfkit model"),
    ],
)
def test_non_model_files_are_refused(tmp_path, content, message):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_plain_npz_and_npy_are_not_models(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    with pytest.raises(ModelFileError, match="no nmfkit metadata"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(ModelFileError, match="single array"):
        load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "missing.npz")


class _Payload:
    """Would leave a trace if unpickling ran it."""

    ran = []

    def __reduce__(self):
        return (_Payload.ran.append, ("executed",))


def test_pickled_object_in_array_member_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)

    def change(members):
        members["fitted.components_"] = np.array([_Payload()], dtype=object)

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="pickled object.*refuses"):
        load(path)
    assert _Payload.ran == []


def test_pickle_file_is_refused(fitted, tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(ModelFileError, match="pickled object.*refuses"):
        load(path)
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload()], dtype=object), allow_pickle=True)
    path.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="pickled object.*refuses"):
        load(path)
    assert _Payload.ran == []


def test_save_is_atomic_and_keeps_old_file_on_failure(fitted, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    before = path.read_bytes()
    broken = NMF(n_components=2).fit(np.ones((3, 3)))
    broken.weird_ = {1, 2}  # a set: not storable without pickle
    with pytest.raises(TypeError, match="weird_"):
        broken.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_pickle_and_joblib_of_a_pipeline_still_work(X, tmp_path):
    Xs = sp.csr_matrix(X)
    pipe = make_pipeline(
        MaxAbsScaler(), NMF(n_components=3, random_state=0, max_iter=100)
    ).fit(Xs)
    expected = pipe.transform(Xs)
    for restored in (
        pickle.loads(pickle.dumps(pipe)),
        _joblib_round_trip(pipe, tmp_path / "pipe.joblib"),
    ):
        np.testing.assert_array_equal(restored[-1].components_, pipe[-1].components_)
        np.testing.assert_array_equal(restored.transform(Xs), expected)
        assert restored[-1].get_params() == pipe[-1].get_params()


def _joblib_round_trip(obj, path):
    joblib.dump(obj, path)
    return joblib.load(path)


def test_minibatch_model_round_trips(tmp_path):
    from nmfkit import MiniBatchNMF

    X = np.random.default_rng(0).random((60, 12))
    model = MiniBatchNMF(3, batch_size=20, random_state=0).fit(X)
    path = tmp_path / "mb.npz"
    model.save(path)
    loaded = nmfkit.load(path)
    assert type(loaded) is MiniBatchNMF
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.components_, model.components_)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
