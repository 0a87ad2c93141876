"""Property tests: MU, HALS and the default solver never increase the objective."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nmfkit import NMF


def objective_by_definition(X, W, H, l1_W, l2_W, l1_H, l2_H):
    """The penalized objective from its definition, with the dense residual."""
    X = X.toarray() if sp.issparse(X) else X
    X, W, H = (np.asarray(a, dtype=np.float64) for a in (X, W, H))
    return (
        0.5 * np.sum((X - W @ H) ** 2)
        + l1_W * W.sum()
        + 0.5 * l2_W * np.sum(W**2)
        + l1_H * H.sum()
        + 0.5 * l2_H * np.sum(H**2)
    )


penalty = st.sampled_from([0.0, 0.01, 0.3, 2.0])


@st.composite
def problems(draw):
    n = draw(st.integers(1, 25))
    p = draw(st.integers(1, 25))
    r = draw(st.integers(1, 6))
    density = draw(st.sampled_from([1.0, 0.5, 0.1]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.random((n, p)) * draw(st.sampled_from([1e-3, 1.0, 100.0]))
    X[rng.random((n, p)) > density] = 0
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    X = X.astype(dtype)
    if draw(st.booleans()):
        X = sp.csr_matrix(X)
    pens = dict(
        l1_W=draw(penalty), l2_W=draw(penalty), l1_H=draw(penalty), l2_H=draw(penalty)
    )
    options = dict(
        solver=draw(st.sampled_from(["mu", "cd", "auto"])),
        l1_placement=draw(st.sampled_from(["numerator", "denominator"])),
        update_order=draw(st.sampled_from(["HW", "WH"])),
    )
    return X, r, pens, options, seed


@settings(max_examples=150, deadline=None)
@given(problems())
def test_objective_never_increases(problem):
    X, r, pens, options, seed = problem
    model = NMF(
        n_components=r,
        init="random",
        random_state=seed % 1000,
        tol=0,
        max_iter=40,
        **pens,
        **options,
    )
    W = model.fit_transform(X)
    L = model.loss_curve_
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    assert (W >= 0).all() and (model.components_ >= 0).all()
    # the recorded objective is the true objective of the returned factors
    exact = objective_by_definition(X, W, model.components_, **pens)
    # The trace identity ||X||^2 - 2<XH^T, W> + <W^TW, HH^T> loses about
    # eps * ||X||^2 to cancellation (float64 products, or float32 ones for
    # float32 X); that is the round-off allowed.
    eps = np.finfo(X.dtype).eps
    X_sq = float((X.multiply(X) if sp.issparse(X) else X.astype(float) ** 2).sum())
    slack = 50 * eps * (X_sq + L[0] + 1e-300)
    np.testing.assert_allclose(L[-1], exact, rtol=100 * eps, atol=slack)
    assert np.all(np.diff(L) <= slack), np.diff(L).max()
