"""nmfkit against scikit-learn's NMF: same initialization, same iterates."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.decomposition import non_negative_factorization as sk_nnf
from sklearn.decomposition._nmf import _initialize_nmf  # reference only
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF, non_negative_factorization
from nmfkit._init import initialize_factors
from nmfkit._scaling import typical_magnitude


def _data(seed=0, shape=(40, 30), dtype=np.float64, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.random(shape)
    if sparse:
        X[X < 0.6] = 0
        return sp.csr_matrix(X.astype(dtype))
    return X.astype(dtype)


def _custom_init(X, r, seed=1):
    rng = np.random.default_rng(seed)
    W0 = (rng.random((X.shape[0], r)) + 0.05).astype(X.dtype)
    H0 = (rng.random((r, X.shape[1])) + 0.05).astype(X.dtype)
    return W0, H0


PENALTIES = [
    {},
    {"alpha_W": 0.01},
    {"alpha_W": 0.02, "alpha_H": 0.005},
    {"alpha_W": 0.01, "l1_ratio": 1.0},
    {"alpha_W": 0.02, "alpha_H": 0.01, "l1_ratio": 0.3},
]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_mu_iterates_equal_sklearn(penalty, sparse):
    X = _data(sparse=sparse)
    W0, H0 = _custom_init(X, 5)
    common = dict(n_components=5, init="custom", solver="mu", tol=0, max_iter=200)
    ref = SklearnNMF(**common, **penalty)
    W_ref = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    # scikit-learn updates W first and adds L1 to the denominator
    ours = NMF(**common, update_order="WH", l1_placement="denominator", **penalty)
    W = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    np.testing.assert_allclose(W, W_ref, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-6, atol=1e-12)
    assert ours.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=1e-9)
    assert ours.n_iter_ == ref.n_iter_ == 200


@pytest.mark.parametrize("tol", [1e-2, 1e-3, 1e-4])
@pytest.mark.parametrize(
    "beta_loss", ["frobenius", "kullback-leibler", "itakura-saito"]
)
def test_mu_stops_where_sklearn_stops(beta_loss, tol):
    """With scikit-learn's parameters, solver="mu" stops by scikit-learn's
    test (every 10 iterations, relative to the initial error): the same
    n_iter_ and the same factors, with tol > 0."""
    X = _data()
    X /= typical_magnitude(X)  # nmfkit fits at unit scale; scikit-learn's MU is
    # scale-equivariant with a custom start, but its eps floors are absolute
    W0, H0 = _custom_init(X, 5)
    common = dict(n_components=5, init="custom", solver="mu", tol=tol, max_iter=1000)
    ref = SklearnNMF(beta_loss=beta_loss, **common)
    W_ref = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    ours = NMF(beta_loss=beta_loss, **common)
    W = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert ours.n_iter_ == ref.n_iter_ < 1000
    np.testing.assert_allclose(W, W_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("tol", [1e-2, 1e-3])
@pytest.mark.parametrize("penalty", PENALTIES[:3] + PENALTIES[4:])
def test_cd_stops_where_sklearn_stops(penalty, tol):
    """solver="cd" with scikit-learn's parameters is scikit-learn's coordinate
    descent: its order (W, then H), its projected-gradient violation test and
    its zero start of the codes: the same n_iter_ and the same factors, for
    fit and for the codes with H fixed."""
    X = _data()
    X /= typical_magnitude(X)
    W0, H0 = _custom_init(X, 5)
    common = dict(n_components=5, solver="cd", tol=tol, max_iter=1000, **penalty)
    ref = SklearnNMF(init="custom", **common)
    W_ref = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    ours = NMF(init="custom", **common)
    W = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert ours.n_iter_ == ref.n_iter_ < 1000
    np.testing.assert_allclose(W, W_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-8, atol=1e-12)
    W_ref, _, n_ref = sk_nnf(X, H=H0.copy(), update_H=False, **common)
    W, _, n = non_negative_factorization(X, H=H0.copy(), update_H=False, **common)
    assert n == n_ref
    np.testing.assert_allclose(W, W_ref, rtol=1e-8, atol=1e-12)


def test_mu_iterates_equal_sklearn_float32():
    X = _data(dtype=np.float32)
    W0, H0 = _custom_init(X, 4)
    common = dict(n_components=4, init="custom", solver="mu", tol=0, max_iter=200)
    # scikit-learn updates float32 initial factors in place: give it copies
    ref = SklearnNMF(**common, alpha_W=0.01)
    W_ref = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    model = NMF(**common, alpha_W=0.01, update_order="WH")
    W = model.fit_transform(X, W=W0, H=H0)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    # the two float32 computations round differently; after 200 iterations
    # they agree to a few float32 units (about 2e-6 relative here)
    scale = np.abs(W_ref).max()
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(
        model.components_, ref.components_, rtol=0, atol=1e-5 * ref.components_.max()
    )


@pytest.mark.parametrize("init", ["random", "nndsvd", "nndsvda", "nndsvdar", None])
@pytest.mark.parametrize("sparse", [False, True])
def test_initialization_equals_sklearn(init, sparse):
    X = _data(3, (30, 20), sparse=sparse)
    W_ref, H_ref = _initialize_nmf(X, 6, init=init, random_state=42)
    W, H = initialize_factors(X, 6, init, random_state=42)
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(H, H_ref, rtol=1e-12, atol=1e-14)
    assert W.dtype == H.dtype == X.dtype


def test_default_init_fit_equals_sklearn_with_same_seed():
    # Every fit is solved at unit scale; the NNDSVDA/NNDSVDAR fill (the mean of
    # the data) then is scikit-learn's exactly for data of typical magnitude 1
    # (and equivariant under rescaling otherwise: see nmfkit._scaling).
    X = _data(4)
    X = X / typical_magnitude(X)
    common = dict(n_components=5, solver="mu", tol=0, max_iter=50, random_state=0)
    W_ref = SklearnNMF(init="nndsvdar", **common).fit_transform(X)
    W = NMF(init="nndsvdar", update_order="WH", **common).fit_transform(X)
    np.testing.assert_allclose(W, W_ref, rtol=1e-8, atol=1e-12)


def test_non_negative_factorization_matches_sklearn():
    X = _data(5)
    W0, H0 = _custom_init(X, 3)
    kwargs = dict(n_components=3, init="custom", solver="mu", tol=0, max_iter=100)
    W_ref, H_ref, n_ref = sk_nnf(X, W0.copy(), H0.copy(), **kwargs)
    W, H, n = non_negative_factorization(
        X, W0.copy(), H0.copy(), update_order="WH", **kwargs
    )
    np.testing.assert_allclose(W, W_ref, rtol=1e-8)
    np.testing.assert_allclose(H, H_ref, rtol=1e-8)
    assert n == n_ref == 100


def test_transform_with_fixed_H_equals_sklearn():
    X = _data(6)
    model = NMF(n_components=4, solver="mu", tol=0, max_iter=300).fit(X)
    ref = SklearnNMF(n_components=4, solver="mu", tol=0, max_iter=300)
    # scikit-learn's transform runs with the fitted components
    ref.fit(X)
    ref.components_ = model.components_.copy()
    np.testing.assert_allclose(model.transform(X[:7]), ref.transform(X[:7]), rtol=1e-8)
    W_fixed, _, _ = non_negative_factorization(
        X[:7],
        H=model.components_,
        n_components=4,
        update_H=False,
        solver="mu",
        tol=0,
        max_iter=300,
    )
    np.testing.assert_allclose(W_fixed, model.transform(X[:7]), rtol=1e-12)


def test_convergence_warning_like_sklearn():
    X = _data(7)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        NMF(n_components=3, max_iter=2, tol=1e-12).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NMF(n_components=3, max_iter=2, tol=0).fit(X)  # tol=0: no warning
        model = NMF(n_components=3, max_iter=5000, tol=1e-3).fit(X)
    assert model.n_iter_ < 5000
    # the documented stopping rule: relative decrease of the last iteration
    L = model.loss_curve_
    assert (L[-2] - L[-1]) < 1e-3 * L[-2]
    assert np.all((L[:-2] - L[1:-1]) >= 1e-3 * L[:-2])
