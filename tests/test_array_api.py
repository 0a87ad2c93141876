"""The estimator and the MU solver on PyTorch tensors, against NumPy.

With scikit-learn's ``array_api_dispatch`` on, a PyTorch tensor is factorized
by PyTorch on its device and the results come back as tensors; the numbers
equal those of the NumPy fit from the same start. CUDA devices join the
matrix when the machine has one.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn

from nmfkit import NMF, non_negative_factorization
from nmfkit._objective import Penalties, penalized_objective
from nmfkit.solvers import ConvergenceMonitor, fit_mu
from nmfkit.solvers._mu import mu_step

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
RTOL = 1e-6


@pytest.fixture
def dispatch(monkeypatch):
    """Array-API dispatch on (scikit-learn asks for SCIPY_ARRAY_API=1)."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with sklearn.config_context(array_api_dispatch=True):
        yield


def _data(n=40, p=25, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 5)) @ rng.random((5, p)) + 0.01 * rng.random((n, p))


def _close(tensor, array, rtol=RTOL):
    got = tensor.detach().cpu().numpy()
    scale = np.abs(array).max()
    np.testing.assert_allclose(got, array, rtol=0, atol=rtol * scale)


CASES = [
    dict(init="random"),
    dict(init="nndsvda", l1_W=0.3),
    dict(init="nndsvd", l2_W=0.5, l1_H=0.2, l2_H=0.1),
    dict(init="random", alpha_W=0.01, l1_ratio=0.5),
    dict(init="nndsvdar", l1_W=0.2, l1_H=0.1, l1_placement="denominator"),
    dict(init="random", l1_W=0.1, update_order="WH"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("params", CASES, ids=lambda d: "-".join(map(str, d.values())))
def test_fit_matches_numpy(dispatch, device, params):
    X = _data()
    kwargs = dict(
        n_components=4, random_state=0, max_iter=60, tol=0, solver="mu", **params
    )
    ref = NMF(**kwargs)
    W_ref = ref.fit_transform(X)
    model = NMF(**kwargs)
    Xt = torch.asarray(X, device=device)
    W = model.fit_transform(Xt)

    assert isinstance(W, torch.Tensor) and isinstance(model.components_, torch.Tensor)
    assert W.device.type == device and model.components_.device.type == device
    assert W.dtype == torch.float64 and model.components_.dtype == torch.float64
    _close(W, W_ref)
    _close(model.components_, ref.components_)
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert model.n_iter_ == ref.n_iter_ == 60
    assert model.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=RTOL)
    # the loss never increases, on the tensor path too
    assert np.all(np.diff(model.loss_curve_) <= 1e-9 * model.loss_curve_[:-1])

    codes = model.transform(Xt)
    assert isinstance(codes, torch.Tensor) and codes.device.type == device
    _close(codes, ref.transform(X))
    back = model.inverse_transform(codes)
    assert isinstance(back, torch.Tensor) and back.shape == Xt.shape


def test_custom_init_numpy_factors_and_tolerance_stop(dispatch):
    X = _data(seed=1)
    rng = np.random.default_rng(3)
    W0, H0 = rng.random((40, 3)), rng.random((3, 25))
    ref = NMF(3, init="custom", tol=1e-3, max_iter=500, solver="mu")
    W_ref = ref.fit_transform(X, W=W0, H=H0)
    model = NMF(3, init="custom", tol=1e-3, max_iter=500, solver="mu")
    # initial factors may be NumPy arrays or tensors
    W = model.fit_transform(torch.asarray(X), W=W0, H=torch.asarray(H0))
    assert model.n_iter_ == ref.n_iter_ < 500
    _close(W, W_ref)
    _close(model.components_, ref.components_)


def test_float32_stays_float32(dispatch):
    X = _data().astype(np.float32)
    kwargs = dict(n_components=4, init="random", random_state=0, max_iter=30, tol=0)
    model = NMF(**kwargs)
    W = model.fit_transform(torch.asarray(X))
    assert W.dtype == torch.float32 and model.components_.dtype == torch.float32
    ref = NMF(**kwargs).fit(X)
    _close(model.components_, ref.components_, rtol=1e-3)


def test_integer_tensor_becomes_float64(dispatch):
    X = (10 * _data()).astype(np.int64)
    W = NMF(3, init="random", random_state=0, max_iter=5, tol=0).fit_transform(
        torch.asarray(X)
    )
    assert W.dtype == torch.float64


def test_negative_tensor_error_names_the_entry(dispatch):
    X = _data()
    X[2, 7] = -0.5
    with pytest.raises(ValueError, match="1 negative entry.*row 2, column 7"):
        NMF(3).fit(torch.asarray(X))


def test_nan_tensor_error(dispatch):
    X = _data()
    X[1, 3] = np.nan
    with pytest.raises(ValueError, match="1 NaN value .*row 1, column 3"):
        NMF(3).fit(torch.asarray(X))


def test_custom_init_wrong_dtype_error(dispatch):
    X = _data()
    with pytest.raises(TypeError, match="dtype float32 but X has dtype float64"):
        NMF(3, init="custom").fit(
            torch.asarray(X),
            W=np.ones((40, 3), np.float32),
            H=np.ones((3, 25), np.float32),
        )


def test_without_dispatch_tensors_are_converted_to_numpy():
    X = _data()
    W = NMF(3, init="random", random_state=0, max_iter=10, tol=0).fit_transform(
        torch.asarray(X)
    )
    assert isinstance(W, np.ndarray)


def test_solver_and_objective_on_tensors(dispatch):
    X = _data(seed=2)
    rng = np.random.default_rng(5)
    W0, H0 = rng.random((40, 4)), rng.random((4, 25))
    pen = Penalties(l1_W=0.2, l2_W=0.1, l1_H=0.05, l2_H=0.3)
    ref = fit_mu(X, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=25))
    got = fit_mu(
        torch.asarray(X),
        torch.asarray(W0),
        torch.asarray(H0),
        pen,
        monitor=ConvergenceMonitor(tol=0, max_iter=25),
    )
    _close(got.W, ref.W)
    _close(got.H, ref.H)
    value = penalized_objective(
        torch.asarray(X), got.W, got.H, pen
    )  # the objective helpers take tensors
    assert value == pytest.approx(ref.history[-1, 2], rel=RTOL)
    assert got.H.is_contiguous()


def test_mu_step_in_place_and_zero_denominator(dispatch):
    F = torch.zeros((3, 2), dtype=torch.float64)
    F[0, 0] = 1.0
    P = torch.ones((3, 2), dtype=torch.float64)
    G = torch.eye(2, dtype=torch.float64)
    out = mu_step(F, P, G, 0.0, 0.0)
    assert out is F
    assert torch.isfinite(F).all()
    assert F[0, 0] == 1.0 and F[1, 0] == 0.0


def test_non_negative_factorization_on_tensors(dispatch):
    X = _data()
    W, H, n_iter = non_negative_factorization(
        torch.asarray(X),
        n_components=3,
        init="random",
        random_state=0,
        max_iter=20,
        tol=0,
    )
    W_ref, H_ref, _ = non_negative_factorization(
        X,
        n_components=3,
        init="random",
        random_state=0,
        max_iter=20,
        tol=0,
    )
    assert isinstance(H, torch.Tensor)
    _close(W, W_ref)
    _close(H, H_ref)


HALS_CASES = [
    dict(init="random"),
    dict(init="nndsvda", l1_W=0.3, l2_H=0.2, update_order="WH"),
    dict(init="random", solver="hals", l1_H=0.2, l2_W=0.1, inner_iter=3),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "params", HALS_CASES, ids=lambda d: "-".join(map(str, d.values()))
)
def test_hals_fit_matches_numpy(dispatch, device, params):
    X = _data(seed=4)
    kwargs = dict(n_components=4, random_state=0, max_iter=40, tol=0, solver="cd")
    kwargs.update(params)
    ref = NMF(**kwargs)
    W_ref = ref.fit_transform(X)
    model = NMF(**kwargs)
    Xt = torch.asarray(X, device=device)
    W = model.fit_transform(Xt)

    assert isinstance(W, torch.Tensor) and isinstance(model.components_, torch.Tensor)
    assert W.device.type == device and model.components_.device.type == device
    assert W.dtype == torch.float64 and model.components_.is_contiguous()
    _close(W, W_ref)
    _close(model.components_, ref.components_)
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert model.n_iter_ == ref.n_iter_ == 40
    assert np.all(np.diff(model.loss_curve_) <= 1e-9 * model.loss_curve_[:-1])
    codes = model.transform(Xt)
    assert isinstance(codes, torch.Tensor) and codes.device.type == device
    _close(codes, ref.transform(X))


def test_hals_float32_on_tensors(dispatch):
    X = _data(seed=5).astype(np.float32)
    kwargs = dict(n_components=4, init="random", random_state=0, max_iter=20, tol=0)
    model = NMF(solver="cd", **kwargs)
    W = model.fit_transform(torch.asarray(X))
    assert W.dtype == torch.float32 and model.components_.dtype == torch.float32
    ref = NMF(solver="cd", **kwargs).fit(X)
    _close(model.components_, ref.components_, rtol=1e-3)


AUTO_CASES = [
    dict(),  # solver="auto": HALS, inner loops, extrapolation
    dict(l1_W=0.3, l2_H=0.2, update_order="WH"),
    dict(alpha_W=0.02, l1_ratio=0.5),
    dict(solver="hals", shuffle=True),
    dict(solver="mu", inner_iter="auto", extrapolate=True, l1_H=0.1),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "params", AUTO_CASES, ids=lambda d: "-".join(map(str, d.values())) or "auto"
)
def test_auto_inner_loops_and_extrapolation_match_numpy(dispatch, device, params):
    # solver="auto" on tensors runs what it runs on NumPy arrays (HALS with
    # inner loops and extrapolation with restarts, rebalancing the
    # components): the same iterates, the same restarts, the same n_iter_
    X = _data(seed=6)
    kwargs = dict(n_components=4, init="random", random_state=0, max_iter=60, tol=1e-6)
    kwargs.update(params)
    ref = NMF(**kwargs)
    W_ref = ref.fit_transform(X)
    model = NMF(**kwargs)
    W = model.fit_transform(torch.asarray(X, device=device))
    assert isinstance(W, torch.Tensor) and W.device.type == device
    assert model.solver_ == ref.solver_
    assert model.solver_options_ == ref.solver_options_
    assert model.n_iter_ == ref.n_iter_
    _close(W, W_ref, rtol=1e-9)
    _close(model.components_, ref.components_, rtol=1e-9)
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=1e-10)


def test_auto_on_tensors_is_hals_with_inner_loops():
    from nmfkit.solvers import resolve_solver

    spec, options = resolve_solver("auto", 2.0, "array_api")
    assert spec.name == "hals"
    assert options["inner_iter"] == "auto" and options["extrapolate"] is True


