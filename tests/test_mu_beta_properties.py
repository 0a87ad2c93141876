"""Property tests: multiplicative updates never increase the objective."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nmfkit import NMF


@st.composite
def problems(draw):
    """Small problems whose model stays well above the float32 epsilon, where
    scikit-learn's safeguards (which nmfkit keeps) do not act."""
    seed = draw(st.integers(0, 2**32 - 1))
    n, p, r = (
        draw(st.integers(2, 12)),
        draw(st.integers(2, 12)),
        draw(st.integers(1, 4)),
    )
    scale = draw(st.sampled_from([0.1, 1.0, 30.0]))
    density = draw(st.sampled_from([0.3, 0.7, 1.0]))
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) + 0.05) * scale
    X[rng.random((n, p)) > density] = 0
    W0 = rng.random((n, r)) + 0.1
    H0 = rng.random((r, p)) + 0.1
    penalties = draw(
        st.fixed_dictionaries(
            {
                name: st.sampled_from([0.0, 0.05, 0.5])
                for name in ("l1_W", "l2_W", "l1_H", "l2_H")
            }
        )
    )
    options = draw(
        st.fixed_dictionaries(
            {
                "update_order": st.sampled_from(["HW", "WH"]),
                "l1_placement": st.sampled_from(["numerator", "denominator"]),
            }
        )
    )
    return X, W0, H0, penalties, options


def _check_monotone(beta, sparse, dtype, problem):
    X, W0, H0, penalties, options = problem
    if beta <= 0:
        X = X + 0.05 * X.max() + 0.01  # X > 0 is required
    X, W0, H0 = (a.astype(dtype) for a in (X, W0, H0))
    Xi = sp.csr_matrix(X) if sparse else X
    model = NMF(n_components=W0.shape[1], init="custom", beta_loss=beta, tol=0,
                max_iter=15, **penalties, **options)  # fmt: skip
    model.fit(Xi, W=W0, H=H0)
    curve = model.loss_curve_
    assert np.isfinite(curve).all()
    assert np.isfinite(model.components_).all()
    # rounding: relative to the objective, or, near an exact fit where the
    # divergence's parts cancel, to the size of those parts (the data mass,
    # and for beta <= 1 the logarithms of the entries)
    slack = 1e-10 if dtype == np.float64 else 2e-5
    parts = float(np.sum(X, dtype=np.float64))
    if beta <= 1:
        positive = X[X > 0].astype(np.float64)
        logs = np.abs(np.log(positive)) if positive.size else np.zeros(1)
        parts = max(parts, float(X.size * max(1.0, logs.max())))
    scale = np.maximum(curve[:-1], max(parts, 1e-30))
    increase = np.diff(curve) / scale
    assert increase.max() <= slack, (curve, increase.max())


_SETTINGS = settings(max_examples=12, deadline=None)


def _property(beta):
    @_SETTINGS
    @given(
        problem=problems(),
        sparse=st.booleans(),
        dtype=st.sampled_from([np.float32, np.float64]),
    )
    def test(problem, sparse, dtype):
        _check_monotone(beta, sparse, dtype, problem)

    test.__name__ = f"test_objective_never_increases_beta_{beta}".replace(".", "_")
    test.__doc__ = f"The penalized objective never increases for beta = {beta}."
    return test


test_objective_never_increases_beta_0 = _property(0.0)
test_objective_never_increases_beta_0_5 = _property(0.5)
test_objective_never_increases_beta_1 = _property(1.0)
test_objective_never_increases_beta_1_5 = _property(1.5)
test_objective_never_increases_beta_2 = _property(2.0)
test_objective_never_increases_beta_3 = _property(3.0)
