"""nmfkit against scikit-learn on real faces, from the same initialization."""

from __future__ import annotations

import numpy as np
import pytest

from nmfkit.apps import compare_with_sklearn
from nmfkit.datasets import load_lfw_subset, load_olivetti_faces


def _check_similarity(X, n_components, max_iter):
    comparison = compare_with_sklearn(
        X,
        n_components=n_components,
        l1_W=2.0,
        l2_W=0.1,
        l2_H=0.1,
        max_iter=max_iter,
        tol=0,
    )
    check, sklearn = comparison.fits["check"], comparison.fits["sklearn"]
    _, _, sims = comparison.matches["check"]
    assert sims.min() >= 0.99
    assert check.n_iter == sklearn.n_iter == max_iter
    np.testing.assert_allclose(
        check.reconstruction_error, sklearn.reconstruction_error, rtol=1e-6
    )
    return comparison


def test_builtin_faces_match_sklearn_dictionary():
    pytest.importorskip("skimage")
    comparison = _check_similarity(load_lfw_subset().data, 16, 120)
    # The penalized dictionary stays close to scikit-learn's, and scores
    # better on the course's objective that it minimizes.
    assert np.mean(comparison.matches["nmfkit"][2]) > 0.8
    assert comparison.fits["nmfkit"].objective < comparison.fits["sklearn"].objective


def test_olivetti_faces_match_sklearn_dictionary(sklearn_data_home):
    X = load_olivetti_faces(data_home=sklearn_data_home, download_if_missing=False).data
    _check_similarity(X, 6, 40)


def test_the_comparison_model_file_holds_the_fit(tmp_path):
    from nmfkit import load
    from nmfkit._objective import Penalties
    from nmfkit.apps._outputs import OutputSet
    from nmfkit.apps._results import model_from_record

    rng = np.random.default_rng(0)
    X = rng.random((30, 3)) @ rng.random((3, 20))
    settings = dict(n_components=3, max_iter=25, tol=1e-6, random_state=0)
    comparison = compare_with_sklearn(X, l1_W=0.1, check=False, **settings)
    record = comparison.fits["nmfkit"]
    model = model_from_record(record)
    assert model is record.model  # the fitted estimator itself, not a rebuild
    with OutputSet(tmp_path / "set") as outputs:
        outputs.save_model("model.npz", model)
    loaded = load(tmp_path / "set" / "model.npz")
    np.testing.assert_array_equal(loaded.components_, record.H)
    assert loaded.l1_W == 0.1 and loaded.solver == "mu" and loaded.n_iter_ == 25
    assert loaded.loss_ == record.objective or np.isclose(
        loaded.loss_, record.objective
    )
    assert comparison.penalties == Penalties(l1_W=0.1)
    # The saved model encodes new data the way nmfkit's fit would.
    W = loaded.transform(X)
    assert np.linalg.norm(X - W @ loaded.components_) <= 1.05 * np.linalg.norm(
        X - record.W @ record.H
    )


def test_what_ran_is_resolved():
    from nmfkit import NMF
    from nmfkit.apps._results import init_that_ran, solver_that_ran

    X = np.random.default_rng(0).random((10, 6))
    model = NMF(2, max_iter=5, tol=0).fit(X)
    assert solver_that_ran(model, X) == "hals (inner loops, extrapolation)"
    assert init_that_ran(model, X.shape) == "nndsvda"
    model = NMF(8, max_iter=5, tol=0, beta_loss="kullback-leibler").fit(X)
    assert solver_that_ran(model, X) == "mu"
    assert init_that_ran(model, X.shape) == "random"  # rank above min(n, p)
    model = NMF(2, solver="cd", max_iter=5, tol=0, missing_values=np.nan).fit(X)
    assert solver_that_ran(model, X, masked=True) == "hals"


def test_missing_packages_are_named_before_any_work():
    from nmfkit._optional import MissingDependencyError
    from nmfkit.apps._results import require_packages

    require_packages(("numpy",), purpose="this")
    with pytest.raises(MissingDependencyError, match=r"needs the package 'nope_pkg'"):
        require_packages(("numpy", "nope_pkg"), purpose="the report (--report)")


def test_an_interrupted_comparison_fit_is_never_handed_over():
    import os
    import signal
    import threading
    import time

    from nmfkit.apps._compare import compare_with_sklearn

    X = np.random.default_rng(0).random((60, 40))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        # nmfkit's fit would keep its factors at Ctrl-C (on_interrupt="keep");
        # the comparison raises instead of scoring half a fit.
        with pytest.raises(KeyboardInterrupt, match="course penalties was interrupted"):
            compare_with_sklearn(X, n_components=5, max_iter=10**7, tol=0, check=False)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 60


def test_comparison_records_carry_their_fitted_models():
    from sklearn.decomposition import NMF as SklearnNMF

    from nmfkit import NMF
    from nmfkit.apps._compare import compare_with_sklearn

    X = np.random.default_rng(1).random((20, 12))
    comparison = compare_with_sklearn(X, n_components=3, max_iter=30, tol=1e-6)
    for key, kind in (("nmfkit", NMF), ("sklearn", SklearnNMF), ("check", NMF)):
        record = comparison.fits[key]
        assert isinstance(record.model, kind)
        np.testing.assert_array_equal(record.model.components_, record.H)
        assert record.model.n_iter_ == record.n_iter
