"""Ctrl-C during fit keeps the factors of the last whole iteration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from _fit_child import InterruptAt as _InterruptAt
from nmfkit import NMF, FitInterruptedWarning
from nmfkit._objective import penalized_objective

CHILD = Path(__file__).with_name("_fit_child.py")


def _data(sparse=False):
    X = np.random.default_rng(0).random((40, 25))
    return sp.csr_matrix(np.where(X > 0.5, X, 0)) if sparse else X


PARAMS = dict(
    n_components=3, init="random", random_state=0, tol=0, l1_W=0.01, solver="mu"
)


@pytest.mark.parametrize("how", ["signal", "raise"])
@pytest.mark.parametrize("sparse", [False, True])
def test_interrupt_keeps_exactly_the_last_iteration(how, sparse):
    X = _data(sparse)
    model = _InterruptAt(max_iter=500, **PARAMS)
    model.at, model.how = 7, how
    with pytest.warns(FitInterruptedWarning, match="after iteration 7") as record:
        W = model.fit_transform(X)
    assert "on_interrupt='raise'" in str(record[0].message)
    assert model.n_iter_ == 7
    assert model.history_.shape == (8, 3)
    np.testing.assert_array_equal(model.history_[:, 0], np.arange(8))
    assert model.loss_ == model.loss_curve_[-1]
    # The kept factors are those of iteration 7, bit for bit.
    reference = NMF(max_iter=7, **PARAMS)
    W7 = reference.fit_transform(X)
    np.testing.assert_array_equal(W, W7)
    np.testing.assert_array_equal(model.components_, reference.components_)
    np.testing.assert_allclose(
        penalized_objective(X, W, model.components_, model._penalties(X)),
        model.loss_,
        rtol=1e-10,
    )
    assert np.isfinite(model.reconstruction_err_)
    # The default SIGINT handler is back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_on_interrupt_raise_propagates_and_fits_nothing():
    model = _InterruptAt(max_iter=500, on_interrupt="raise", **PARAMS)
    with pytest.raises(KeyboardInterrupt):
        model.fit(_data())
    assert not hasattr(model, "components_")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupt_at_last_iteration_and_refit_are_normal():
    model = _InterruptAt(max_iter=4, **PARAMS)
    model.at = 4
    with pytest.warns(FitInterruptedWarning, match="after iteration 4"):
        model.fit(_data())
    assert model.n_iter_ == 4
    # A later fit of the same estimator is not affected by the old request.
    model.at = -1
    model.fit(_data())
    np.testing.assert_array_equal(
        model.components_, NMF(max_iter=4, **PARAMS).fit(_data()).components_
    )


def test_invalid_on_interrupt_is_refused():
    with pytest.raises(ValueError, match="on_interrupt='stop' is not valid"):
        NMF(on_interrupt="stop").fit(_data())


def _start_child(tmp_path, *extra):
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(CHILD), str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def _wait_for_iteration(proc, k, timeout=60):
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if line.startswith("iteration") and int(line.split()[1]) >= k:
            return
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"the child never reached iteration {k}: {proc.stderr.read()}")


def test_real_sigint_to_a_subprocess_keeps_a_consistent_model(tmp_path):
    proc, out = _start_child(tmp_path)
    _wait_for_iteration(proc, 20)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    result = json.loads(out.read_text())
    assert result["n_iter"] >= 20
    assert result["history_rows"] == result["n_iter"] + 1
    assert result["last_iteration"] == result["n_iter"]
    assert result["finite"]
    assert len(result["warnings"]) == 1
    assert f"after iteration {result['n_iter']}" in result["warnings"][0]
    # The kept factors are exactly the state the history ends with.
    assert result["recomputed_objective"] == pytest.approx(result["loss"], rel=1e-9)


def test_real_sigint_with_on_interrupt_raise_stops_the_child(tmp_path):
    proc, out = _start_child(tmp_path, "--on-interrupt", "raise")
    _wait_for_iteration(proc, 5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert not out.exists()


def test_second_sigint_raises_at_once():
    from nmfkit._interrupt import InterruptGuard

    with InterruptGuard() as guard:
        os.kill(os.getpid(), signal.SIGINT)  # first: only noted
        assert guard.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # second: raises here
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupt_inside_an_iteration_propagates():
    """A KeyboardInterrupt between two monitor updates (factors half updated)
    is not kept, even with on_interrupt='keep'."""
    from nmfkit._fit_runner import fit_with_recovery
    from nmfkit._objective import Penalties

    def half_updating_solver(X, W, H, penalties, *, monitor, update_H=True, **opts):
        W, H = W.copy(), H.copy()
        monitor.start(1.0, W, H)
        monitor.update(0.5, W, H)
        H *= 0.5  # the first half of iteration 2
        raise KeyboardInterrupt

    X = _data()
    model = NMF(max_iter=10, **PARAMS)
    with pytest.raises(KeyboardInterrupt):
        fit_with_recovery(
            model,
            X,
            half_updating_solver,
            lambda X_internal, scale: (np.ones((40, 3)), np.ones((3, 25))),
            Penalties(),
        )
