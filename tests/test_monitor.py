"""The stopping rule and history shared by all solvers."""

import numpy as np

from nmfkit import NMF
from nmfkit.solvers import ConvergenceMonitor


def _run(monitor, objectives):
    monitor.start(objectives[0], None, None)
    for k, value in enumerate(objectives[1:], start=1):
        if monitor.update(value, None, None):
            return k
    return None


def test_tol_is_the_relative_decrease_of_one_iteration():
    monitor = ConvergenceMonitor(tol=0.1, max_iter=100)
    # decreases of 50%, 20%, then 5% (< 10%): stops after the third iteration
    assert _run(monitor, [100.0, 50.0, 40.0, 38.0, 1.0]) == 3
    assert monitor.converged and monitor.n_iter == 3
    history = monitor.history()
    assert history.shape == (4, 3)
    np.testing.assert_array_equal(history[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(history[:, 2], [100.0, 50.0, 40.0, 38.0])
    assert np.all(np.diff(history[:, 1]) >= 0)


def test_max_iter_and_tol_zero():
    monitor = ConvergenceMonitor(tol=0, max_iter=3)
    assert _run(monitor, [10.0, 10.0, 10.0, 10.0, 10.0]) == 3
    assert not monitor.converged


def test_zero_objective_stops():
    monitor = ConvergenceMonitor(tol=1e-4, max_iter=10)
    assert _run(monitor, [1.0, 0.0, 0.0]) == 1 and monitor.converged


def test_callbacks_see_every_iteration():
    seen = []
    monitor = ConvergenceMonitor(
        tol=0, max_iter=4, callbacks=[lambda m: seen.append(m.n_iter)]
    )
    _run(monitor, [5.0, 4.0, 3.0, 2.0, 1.0])
    assert seen == [1, 2, 3, 4]


def test_max_time_stops_the_estimator():
    X = np.random.default_rng(0).random((50, 40))
    model = NMF(n_components=3, tol=0, max_iter=10_000, max_time=0.0).fit(X)
    assert model.n_iter_ == 1
    assert model.history_.shape == (2, 3)
    np.testing.assert_array_equal(model.loss_curve_, model.history_[:, 2])


def test_verbose_prints_the_objective(capsys):
    X = np.random.default_rng(0).random((10, 8))
    NMF(n_components=2, tol=0, max_iter=2, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "iteration    0" in out and "iteration    2" in out
    assert "iteration    3" not in out
