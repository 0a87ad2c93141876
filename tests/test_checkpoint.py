"""Checkpoints during fit, resuming from them, and the command-line options."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from _fit_child import PARAMS as CHILD_PARAMS
from _fit_child import InterruptAt as _InterruptAt
from _fit_child import child_data
from nmfkit import NMF, FitInterruptedWarning, ModelFileError
from nmfkit._checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointWarning,
    checkpoint_params,
    data_fingerprint,
)
from nmfkit._persistence import read_container

CHILD = Path(__file__).with_name("_fit_child.py")
# the multiplicative updates resume exactly (extrapolation keeps extra state)
PARAMS = dict(
    n_components=3, init="random", random_state=0, l1_W=0.01, l2_H=0.1, solver="mu"
)


def _data(sparse=False):
    X = np.random.default_rng(1).random((50, 30))
    return sp.csr_matrix(np.where(X > 0.4, X, 0)) if sparse else X


def _interrupted(path, X, at, **params):
    model = _InterruptAt(checkpoint=path, checkpoint_every=3600.0, **params)
    model.at, model.how = at, "signal"
    with pytest.warns(FitInterruptedWarning, match=f"saved in {path}"):
        model.fit(X)
    return model


@pytest.mark.parametrize("solver", ["mu", "cd"])
@pytest.mark.parametrize("sparse", [False, True])
def test_interrupted_then_resumed_fit_equals_uninterrupted(tmp_path, sparse, solver):
    X = _data(sparse)
    path = tmp_path / "fit.ckpt.npz"
    params = {**PARAMS, "solver": solver}
    first = _interrupted(path, X, 9, tol=0, max_iter=60, **params)
    # Ctrl-C wrote a last checkpoint although checkpoint_every is an hour.
    meta, arrays = read_container(path, CHECKPOINT_FORMAT)
    assert meta["n_iter"] == 9
    resumed = NMF(checkpoint=path, tol=0, max_iter=60, **params)
    W = resumed.fit_transform(X)
    reference = NMF(tol=0, max_iter=60, **params)
    W_ref = reference.fit_transform(X)
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(resumed.components_, reference.components_)
    assert resumed.n_iter_ == 60
    np.testing.assert_array_equal(resumed.history_[:, 0], np.arange(61))
    np.testing.assert_array_equal(resumed.history_[:, 2], reference.history_[:, 2])
    # The first rows, elapsed times included, are those of the first run:
    # the fit continued from the checkpoint rather than starting over.
    np.testing.assert_array_equal(resumed.history_[:10], first.history_)
    assert not path.exists()  # a finished fit removes its checkpoint


def test_resume_stops_where_tol_stops_the_uninterrupted_fit(tmp_path):
    X = _data()
    path = tmp_path / "fit.ckpt.npz"
    reference = NMF(tol=1e-3, max_iter=500, **PARAMS).fit(X)
    assert 10 < reference.n_iter_ < 500
    _interrupted(path, X, 6, tol=1e-3, max_iter=500, **PARAMS)
    resumed = NMF(checkpoint=path, tol=1e-3, max_iter=500, **PARAMS).fit(X)
    assert resumed.n_iter_ == reference.n_iter_
    np.testing.assert_array_equal(resumed.components_, reference.components_)


def test_periodic_checkpoints_are_written_and_complete(tmp_path):
    X = _data()
    path = tmp_path / "fit.ckpt.npz"
    seen = []

    class Spy(NMF):
        def _solver_options(self, callbacks=(), history=None, **kwargs):
            def look(monitor):
                if path.exists():
                    seen.append(read_container(path, CHECKPOINT_FORMAT)[0]["n_iter"])

            return super()._solver_options([*callbacks, look], history, **kwargs)

    Spy(checkpoint=path, checkpoint_every=0.0, tol=0, max_iter=12, **PARAMS).fit(X)
    # Written after every iteration but the last (the finished fit removes it).
    assert seen == list(range(1, 12)) + [11]
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary leftovers


def test_resume_refuses_other_data_and_other_parameters(tmp_path):
    X = _data()
    path = tmp_path / "fit.ckpt.npz"
    _interrupted(path, X, 5, tol=0, max_iter=50, **PARAMS)
    before = path.read_bytes()
    X2 = X.copy()
    X2[3, 4] += 1e-9
    with pytest.raises(ModelFileError, match="other data than X.*sha256"):
        NMF(checkpoint=path, tol=0, max_iter=50, **PARAMS).fit(X2)
    with pytest.raises(ModelFileError, match="other data than X.*shape"):
        NMF(checkpoint=path, tol=0, max_iter=50, **PARAMS).fit(X[:, :20])
    with pytest.raises(ModelFileError, match="other data than X.*storage"):
        NMF(checkpoint=path, tol=0, max_iter=50, **PARAMS).fit(sp.csr_matrix(X))
    changed = dict(PARAMS, l1_W=0.02)
    with pytest.raises(ModelFileError, match=r"other parameters \(l1_W=0.01 there"):
        NMF(checkpoint=path, tol=0, max_iter=50, **changed).fit(X)
    with pytest.raises(ModelFileError, match=f"Delete {path}"):
        NMF(checkpoint=path, tol=0, max_iter=50, **changed).fit(X)
    with pytest.raises(ValueError, match="at iteration 5, beyond max_iter=3"):
        NMF(checkpoint=path, tol=0, max_iter=3, **PARAMS).fit(X)
    assert path.read_bytes() == before  # refusals leave the checkpoint alone
    # max_iter, tol, verbose and the checkpoint options may change.
    model = NMF(checkpoint=path, checkpoint_every=5.0, tol=0, max_iter=5, **PARAMS)
    model.fit(X)
    assert model.n_iter_ == 5
    np.testing.assert_array_equal(
        model.components_, NMF(tol=0, max_iter=5, **PARAMS).fit(X).components_
    )


def test_damaged_checkpoint_is_refused(tmp_path):
    X = _data()
    path = tmp_path / "fit.ckpt.npz"
    _interrupted(path, X, 5, tol=0, max_iter=50, **PARAMS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated|damaged"):
        NMF(checkpoint=path, tol=0, max_iter=50, **PARAMS).fit(X)
    NMF(tol=0, max_iter=5, **PARAMS).fit(X).save(path)  # a model, not a checkpoint
    with pytest.raises(ModelFileError, match="'nmfkit-model' data, not an nmfkit"):
        NMF(checkpoint=path, tol=0, max_iter=50, **PARAMS).fit(X)


def test_fingerprint_follows_values_dtype_and_storage():
    X = _data()
    assert data_fingerprint(X) == data_fingerprint(X.copy())
    assert data_fingerprint(X) != data_fingerprint(X.astype(np.float32))
    assert data_fingerprint(X)["storage"] == "dense"
    assert data_fingerprint(sp.csr_matrix(X))["storage"] == "csr"


def test_sigkill_and_resume_ends_with_the_uninterrupted_factors(tmp_path):
    path = tmp_path / "run.ckpt.npz"
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(CHILD), str(out), "--checkpoint", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if path.exists() and (
                read_container(path, CHECKPOINT_FORMAT)[0]["n_iter"] >= 30
            ):
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        else:
            raise AssertionError("the child wrote no checkpoint in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    meta, arrays = read_container(path, CHECKPOINT_FORMAT)
    k = meta["n_iter"]
    assert k >= 30
    X = child_data()
    total = k + 40
    resumed = NMF(checkpoint=path, max_iter=total, **CHILD_PARAMS)
    W = resumed.fit_transform(X)
    reference = NMF(max_iter=total, **CHILD_PARAMS)
    W_ref = reference.fit_transform(X)
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(resumed.components_, reference.components_)
    assert resumed.n_iter_ == total
    np.testing.assert_array_equal(resumed.history_[:, 2], reference.history_[:, 2])
    np.testing.assert_array_equal(resumed.history_[: k + 1], arrays["history"])
    assert not path.exists()
    # a write the kill interrupted left a temporary file; resuming removed it
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_add_checkpoint_arguments_on_a_small_parser(tmp_path):
    from nmfkit.cli._options import add_checkpoint_options

    parser = argparse.ArgumentParser(prog="nmfkit fit")
    parser.add_argument("input")
    add_checkpoint_options(parser)
    args = parser.parse_args(["data.csv"])
    assert checkpoint_params(args) == {"checkpoint": None, "checkpoint_every": 60.0}
    path = tmp_path / "c.npz"
    args = parser.parse_args(
        ["data.csv", "--checkpoint", str(path), "--checkpoint-every", "0.5"]
    )
    assert checkpoint_params(args) == {
        "checkpoint": str(path),
        "checkpoint_every": 0.5,
    }
    model = NMF(tol=0, max_iter=5, **PARAMS, **checkpoint_params(args))
    assert model.get_params()["checkpoint"] == str(path)
    assert "--checkpoint-every SECONDS" in parser.format_help()
    for bad in ("-1", "nan", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["data.csv", "--checkpoint-every", bad])


def test_failed_checkpoint_write_warns_and_the_fit_goes_on(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    path = folder / "c.npz"

    class RemoveFolder(NMF):
        def _solver_options(self, callbacks=(), history=None, **kwargs):
            def remove(monitor):
                if monitor.n_iter == 3:
                    path.unlink()
                    folder.rmdir()

            return super()._solver_options([remove, *callbacks], history, **kwargs)

    X = _data()
    model = RemoveFolder(
        checkpoint=path, checkpoint_every=0.0, tol=0, max_iter=20, **PARAMS
    )
    with pytest.warns(CheckpointWarning, match="could not write the checkpoint"):
        model.fit(X)
    assert model.n_iter_ == 20
    np.testing.assert_array_equal(
        model.components_, NMF(tol=0, max_iter=20, **PARAMS).fit(X).components_
    )


def test_checkpoint_in_a_missing_folder_is_refused_before_fitting(tmp_path):
    model = NMF(checkpoint=tmp_path / "no" / "c.npz", max_iter=5, **PARAMS)
    with pytest.raises(FileNotFoundError, match="does not exist; create it"):
        model.fit(_data())
    assert not hasattr(model, "components_")


def test_invalid_checkpoint_parameters_are_refused():
    with pytest.raises(ValueError, match="checkpoint_every=-1"):
        NMF(checkpoint_every=-1).fit(_data())
    with pytest.raises(ValueError, match="checkpoint=3 is not valid"):
        NMF(checkpoint=3).fit(_data())
