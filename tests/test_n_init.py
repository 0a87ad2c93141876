"""NMF(n_init=...): restarts from several seeds, the best objective kept."""

import numpy as np
import pytest

from nmfkit import NMF


def _X():
    rng = np.random.default_rng(0)
    return rng.random((40, 30))


def test_best_of_several_runs_is_kept_and_recorded():
    X = _X()
    model = NMF(4, n_init=5, random_state=7, solver="mu", max_iter=100, tol=0).fit(X)
    assert model.n_init_seeds_.shape == (5,) and model.n_init_losses_.shape == (5,)
    assert model.loss_ == model.n_init_losses_.min()
    # every run is reproducible from its recorded seed
    for seed, loss in zip(model.n_init_seeds_, model.n_init_losses_, strict=True):
        run = NMF(
            4, init="random", random_state=int(seed), solver="mu", max_iter=100, tol=0
        ).fit(X)
        assert run.loss_ == pytest.approx(loss, rel=1e-12)
    best = int(np.argmin(model.n_init_losses_))
    single = NMF(
        4,
        init="random",
        random_state=int(model.n_init_seeds_[best]),
        solver="mu",
        max_iter=100,
        tol=0,
    )
    W = single.fit_transform(X)
    np.testing.assert_allclose(model.transform(X), single.transform(X), rtol=1e-10)
    np.testing.assert_allclose(model.components_, single.components_, rtol=1e-12)
    assert W.shape == (40, 4)


def test_n_init_is_deterministic_and_validated():
    X = _X()
    a = NMF(3, n_init=3, random_state=1, solver="mu", max_iter=30, tol=0).fit(X)
    b = NMF(3, n_init=3, random_state=1, solver="mu", max_iter=30, tol=0).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    with pytest.raises(ValueError, match="n_init=0 is not valid"):
        NMF(3, n_init=0).fit(X)
    with pytest.raises(ValueError, match="cannot be combined with init='custom'"):
        NMF(3, n_init=2, init="custom").fit(X, W=np.ones((40, 3)), H=np.ones((3, 30)))
