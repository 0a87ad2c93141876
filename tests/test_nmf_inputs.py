"""Input types, bad input and the messages users see."""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from nmfkit import NMF, MiniBatchNMF, non_negative_factorization


def _X(seed=0, shape=(20, 12)):
    return np.random.default_rng(seed).random(shape)


# ----------------------------------------------------------------- input types
@pytest.mark.parametrize(
    "convert",
    [
        sp.csr_matrix,
        sp.csc_matrix,
        sp.coo_matrix,
        sp.csr_array,
        sp.csc_array,
        sp.coo_array,
        pd.DataFrame,
        lambda X: X.tolist(),
        np.asfortranarray,
    ],
    ids=[
        "csr",
        "csc",
        "coo",
        "csr_array",
        "csc_array",
        "coo_array",
        "pandas",
        "list",
        "fortran",
    ],
)
def test_every_input_type_gives_the_dense_result(convert):
    X = _X()
    X[X < 0.5] = 0
    # solver="mu": "auto" sizes its inner loops by the cost of the products,
    # which differs between dense and sparse storage
    kwargs = dict(
        n_components=3, init="nndsvda", tol=0, max_iter=30, l1_W=0.1, solver="mu"
    )
    W_ref = NMF(**kwargs).fit_transform(X)
    model = NMF(**kwargs)
    W = model.fit_transform(convert(X))
    np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        model.transform(convert(X)),
        NMF(**kwargs).fit(X).transform(X),
        rtol=1e-9,
        atol=1e-12,
    )


def test_float32_stays_float32_and_integers_become_float64():
    X = _X()
    model = NMF(n_components=3, max_iter=20, tol=0)
    W = model.fit_transform(X.astype(np.float32))
    assert W.dtype == model.components_.dtype == np.float32
    assert model.transform(X.astype(np.float32)).dtype == np.float32
    W = NMF(n_components=3, max_iter=20, tol=0).fit_transform((X * 10).astype(np.int64))
    assert W.dtype == np.float64
    Ws = NMF(n_components=3, max_iter=20, tol=0).fit_transform(
        sp.csr_matrix(X.astype(np.float32))
    )
    assert Ws.dtype == np.float32


def test_pandas_feature_names_and_set_output():
    X = pd.DataFrame(_X(), columns=[f"word{i}" for i in range(12)])
    model = NMF(n_components=2, max_iter=20, tol=0).set_output(transform="pandas")
    W = model.fit_transform(X)
    assert list(model.feature_names_in_) == list(X.columns)
    assert list(W.columns) == ["nmf0", "nmf1"]
    assert list(model.get_feature_names_out()) == ["nmf0", "nmf1"]
    assert model.n_features_in_ == 12


def test_sparse_input_is_never_densified():
    # 10^6 x 10^6 stored densely would need 8 TB; the fit must stay sparse.
    n = 1_000_000
    rng = np.random.default_rng(0)
    rows = rng.integers(0, n, 5000)
    cols = rng.integers(0, n, 5000)
    X = sp.csr_matrix((rng.random(5000) + 0.1, (rows, cols)), shape=(n, n))
    model = NMF(n_components=2, init="random", random_state=0, max_iter=5, tol=0)
    W = model.fit_transform(X)
    assert W.shape == (n, 2) and np.isfinite(W).all()
    assert np.all(np.diff(model.loss_curve_) <= 1e-9 * model.loss_curve_[0])
    assert np.isfinite(model.reconstruction_err_)


def test_inverse_transform_reconstructs():
    X = _X()
    model = NMF(n_components=4, max_iter=50, tol=0)
    W = model.fit_transform(X)
    np.testing.assert_allclose(model.inverse_transform(W), W @ model.components_)
    assert np.linalg.norm(X - model.inverse_transform(W)) == pytest.approx(
        model.reconstruction_err_, rel=1e-10
    )


def _penalized_nnls(H, x, l1, l2):
    """min_{w >= 0} 1/2||x - H^T w||^2 + l1 sum(w) + l2/2 ||w||^2 by SciPy's NNLS.

    The L2 term is an augmented system; the linear L1 term is absorbed into
    the right-hand side: with A = [H^T; sqrt(l2) I] (full column rank when
    l2 > 0), l1 * 1^T w = -(A c)^T A w for c = -(A^T A)^{-1} l1 1.
    """
    r = H.shape[0]
    A = np.vstack([H.T, np.sqrt(l2) * np.eye(r)])
    b = np.concatenate([x, np.zeros(r)])
    c = np.linalg.solve(A.T @ A, l1 * np.ones(r))
    w, _ = nnls(A, b - A @ c, maxiter=1000)
    return w


@pytest.mark.parametrize("sparse", [False, True])
def test_transform_solves_the_penalized_subproblem(sparse):
    X = _X(1, (30, 15))
    l1, l2 = 0.05, 0.5
    model = NMF(n_components=4, l1_W=l1, l2_W=l2, tol=0, max_iter=200, random_state=0)
    model.fit(X)
    model.set_params(max_iter=20000, tol=1e-15)
    X_new = _X(2, (5, 15))
    W = model.transform(sp.csr_matrix(X_new) if sparse else X_new)
    H = model.components_
    for i in range(5):
        w_ref = _penalized_nnls(H, X_new[i], l1, l2)
        np.testing.assert_allclose(W[i], w_ref, rtol=0, atol=1e-6 * w_ref.max())


# ------------------------------------------------------------------ bad input
def test_negative_entries_are_named():
    X = _X()
    X[2, 7] = -0.5
    X[4, 1] = -0.25
    with pytest.raises(
        ValueError,
        match=re.escape(
            "X contains 2 negative entries, the smallest -0.5 at row 2, "
            "column 7; NMF needs non-negative data"
        ),
    ):
        NMF(n_components=2).fit(X)
    Xs = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="smallest -0.5 at row 2, column 7"):
        NMF(n_components=2).fit(Xs)


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinite")])
def test_nan_and_inf_are_refused_with_the_fix(bad, word):
    X = _X()
    X[3, 4] = bad
    with pytest.raises(
        ValueError, match=f"1 {word} value .*row 3, column 4.*missing_values"
    ):
        NMF(n_components=2).fit(X)


def test_empty_input():
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        NMF(n_components=2).fit(np.empty((0, 4)))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        NMF(n_components=2).fit(np.empty((4, 0)))
    with pytest.raises(ValueError, match="2-dimensional"):
        NMF(n_components=2).fit(np.ones(5))


@pytest.mark.parametrize("n_components", [0, -1, 2.5, "three", True])
def test_bad_n_components(n_components):
    with pytest.raises(ValueError, match="n_components=.* is not valid"):
        NMF(n_components=n_components).fit(_X())


def test_svd_init_with_too_many_components():
    with pytest.raises(ValueError, match=r"init='nndsvd' needs n_components <= min"):
        NMF(n_components=30, init="nndsvd").fit(_X())
    # the default falls back to random, as scikit-learn does
    assert NMF(n_components=30, max_iter=5, tol=0).fit(_X()).components_.shape == (
        30,
        12,
    )


def test_custom_init_checks():
    X = _X()
    W0 = np.ones((20, 3))
    H0 = np.ones((3, 12))
    model = NMF(n_components=3, init="custom")
    with pytest.raises(
        ValueError, match=r"initial W has shape \(20, 2\), expected \(20, 3\)"
    ):
        model.fit(X, W=np.ones((20, 2)), H=H0)
    with pytest.raises(
        TypeError, match="initial H has dtype float32 but X has dtype float64"
    ):
        model.fit(X, W=W0, H=H0.astype(np.float32))
    Hneg = H0.copy()
    Hneg[1, 2] = -1
    with pytest.raises(ValueError, match="initial H contains 1 negative entry"):
        model.fit(X, W=W0, H=Hneg)
    with pytest.raises(ValueError, match="init='custom' needs an initial W"):
        model.fit(X, H=H0)
    # n_components="auto" takes the rank from H
    auto = NMF(init="custom", max_iter=3, tol=0).fit(X, W=W0, H=H0)
    assert auto.n_components_ == 3


def test_custom_init_is_not_modified():
    X = _X()
    W0, H0 = np.ones((20, 3)), np.ones((3, 12))
    NMF(n_components=3, init="custom", max_iter=5, tol=0).fit(X, W=W0, H=H0)
    assert np.all(W0 == 1) and np.all(H0 == 1)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"tol": -1}, "tol=-1 is not valid"),
        ({"max_iter": 0}, "max_iter=0 is not valid"),
        ({"alpha_W": -0.1}, "alpha_W=-0.1 is not valid"),
        ({"l1_ratio": 1.5}, "l1_ratio=1.5 is not valid"),
        ({"l1_W": np.nan}, "l1_W=nan is not valid"),
        ({"init": "svd"}, "init='svd' is not valid"),
        ({"beta_loss": "kl"}, "beta_loss='kl' is not valid"),
        (
            {"solver": "nope"},
            "solver='nope' .* not available; available: solver='auto'",
        ),
        ({"l1_placement": "top"}, "l1_placement='top' is not valid"),
        ({"update_order": "HH"}, "update_order='HH' is not valid"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        NMF(n_components=2, **params).fit(_X())


def test_object_and_complex_data():
    X = _X().astype(object)
    assert NMF(n_components=2, max_iter=5, tol=0).fit_transform(X).dtype == np.float64
    X[0, 0] = "a"
    with pytest.raises(ValueError, match="holds text, 'a' at row 0, column 0"):
        NMF(n_components=2).fit(X)
    X[0, 0] = {"a": 1}  # not text, not a number: Python's own TypeError text
    with pytest.raises(TypeError, match="argument must be a string.* number"):
        NMF(n_components=2).fit(X)
    with pytest.raises(ValueError, match="Complex data not supported"):
        NMF(n_components=2).fit(_X() + 1j)


@pytest.mark.parametrize("make", [np.zeros, lambda s: sp.csr_matrix(s)])
@pytest.mark.parametrize("init", [None, "random", "nndsvd", "nndsvdar"])
def test_all_zero_data_gives_finite_zero_factors(make, init):
    model = NMF(n_components=2, init=init, max_iter=20, tol=0, l1_W=0.1, l2_H=0.1)
    W = model.fit_transform(make((6, 5)))
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    assert model.loss_ == 0 and model.reconstruction_err_ == 0
    assert np.isfinite(model.transform(np.zeros((2, 5)))).all()


# ------------------------------------------- exception types and their messages
_H_SHAPE = r"shape \(n_components, n_features=12\)"


@pytest.mark.parametrize(
    "W, H, match",
    [
        (np.float64(1.0), np.float64(2.0), r"initial H has shape \(\); expected"),
        (None, np.ones(12), r"initial H has shape \(12,\); expected"),
        (np.ones(20), None, r"W has shape \(20,\).*\(n_samples=20, n_components\)"),
        (None, np.ones((0, 12)), r"initial H has shape \(0, 12\); expected"),
        (None, [[1.0, 2.0], [3.0]], r"initial H is not an array"),
    ],
)
def test_custom_factors_of_the_wrong_dimension_name_the_expected_shape(W, H, match):
    # n_components="auto" reads the rank from H (or W): never an IndexError
    if H is not None:
        match += ".*" + _H_SHAPE
    with pytest.raises(ValueError, match=match):
        NMF(init="custom").fit(_X(), W=W, H=H)
    with pytest.raises(ValueError, match=r"initial H has shape \(\).*" + _H_SHAPE):
        non_negative_factorization(_X(), H=np.float64(1.0), update_H=False)


@pytest.mark.parametrize(
    "beta_loss",
    [1e308, -1e308, 101, -100.5, 10**400, np.inf, np.nan, 1j, np.complex128(2), True],
)
@pytest.mark.parametrize("estimator", [NMF, MiniBatchNMF])
def test_huge_or_odd_beta_loss_is_a_value_error(beta_loss, estimator):
    with pytest.raises(ValueError, match=r"beta_loss=.* is not valid.*\[-100, 100\]"):
        estimator(n_components=2, beta_loss=beta_loss, max_iter=5).fit(_X() + 0.1)


@pytest.mark.parametrize("beta_loss", [-100, 100, np.float32(1.5), 3, "itakura-saito"])
def test_beta_loss_within_range_is_accepted(beta_loss):
    from nmfkit._objective import BETA_LOSSES, beta_to_float

    expected = BETA_LOSSES.get(beta_loss, beta_loss)
    assert beta_to_float(beta_loss) == float(expected)


def test_negative_values_message_states_its_prefix_once():
    X = _X()
    X[3, 4] = -2.0
    with pytest.raises(ValueError) as info:
        NMF(n_components=2).fit(X)
    message = str(info.value)
    assert message.count("Negative values in data") == 1
    # scikit-learn's sentence first, then nmfkit's explanation and fix
    assert message.startswith(
        "Negative values in data passed to NMF (input X). X contains 1 negative "
        "entry, the smallest -2 at row 3, column 4; NMF needs non-negative data."
    )
    W0 = np.ones((20, 2))
    W0[0, 1] = -1
    with pytest.raises(ValueError) as info:
        NMF(2, init="custom").fit(_X(), W=W0, H=np.ones((2, 12)))
    assert str(info.value).count("Negative values in data") == 1


def test_text_cells_are_value_errors_naming_the_cell():
    with pytest.raises(ValueError, match=r"X holds text, 'a' at row 0, column 1;"):
        NMF(n_components=1).fit([[1.0, "a"], [2.0, 3.0]])
    frame = pd.DataFrame({"count": [1.0, 2.0, 3.0], "label": ["x", "y", "z"]})
    with pytest.raises(
        ValueError, match=r"X holds text, 'x' at row 0, column 1 \('label'\)"
    ):
        NMF(n_components=1).fit(frame)
    frame = frame.astype({"label": "string"})
    with pytest.raises(ValueError, match=r"'x' at row 0, column 1 \('label'\)"):
        NMF(n_components=1).fit(frame)
    with pytest.raises(ValueError, match=r"holds text, 'b' at row 1, column 0"):
        NMF(n_components=1, missing_values=np.nan).fit(np.array([["1"], ["b"]]))
    # numbers written as text are numbers (Python's float() decides)
    W = NMF(n_components=1, max_iter=5, tol=0).fit_transform([["1.5", 2], [3, 4]])
    W_ref = NMF(n_components=1, max_iter=5, tol=0).fit_transform([[1.5, 2], [3, 4]])
    np.testing.assert_array_equal(W, W_ref)


def test_masked_array_is_refused_by_minibatch_nmf():
    X = np.ma.masked_array(_X(), mask=_X(1) < 0.1)
    with pytest.raises(ValueError, match="masked array with .* masked entries"):
        MiniBatchNMF(n_components=2).fit(X)


# ---------------------------------------------- one validation path, one table
def _data_kinds(X):
    """X as every data kind NMF takes, each with the parameters it needs."""
    import dask.array as da
    import torch

    return {
        "dense": (X, {}),
        "sparse": (sp.csr_matrix(X), {}),
        "partially observed": (X, {"missing_values": -7.0}),
        "torch": (torch.from_numpy(X), {}),
        "dask": (da.from_array(X, chunks=(2, 3)), {}),
    }


def _message(X, params):
    with pytest.raises(ValueError) as info:
        NMF(n_components=1, max_iter=2, **params).fit(X)
    return str(info.value)


def test_every_data_kind_names_negative_data_with_one_message():
    X = np.ones((4, 3))
    X[2, 1] = -0.5
    for kind, (data, params) in _data_kinds(X).items():
        message = _message(data, params)
        assert message.startswith(
            "Negative values in data passed to NMF (input X). X contains "
        ), kind
        assert "the smallest -0.5" in message and "NMF needs non-negative data" in (
            message
        ), kind


def test_every_data_kind_rejects_non_matrices_and_empty_data_alike():
    import dask.array as da
    import torch

    vector = np.ones(5)
    wrong = [
        vector,
        torch.ones(5, dtype=torch.float64),
        da.ones(5, chunks=5),
    ]
    expected = "X must be 2-dimensional (n_samples, n_features), got an array of "
    for data in wrong:
        assert _message(data, {}).startswith(expected + "shape (5,)")
    assert _message(vector, {"missing_values": -7.0}).startswith(expected)
    empty = np.ones((0, 3))
    for data, params in [
        (empty, {}),
        (sp.csr_matrix(empty), {}),
        (empty, {"missing_values": -7.0}),
        (torch.ones((0, 3), dtype=torch.float64), {}),
        (da.ones((0, 3), chunks=(1, 3)), {}),
    ]:
        assert _message(data, params).startswith(
            "X is empty: found 0 sample(s) (shape=(0, 3)) while a minimum of 1 is "
            "required"
        )


def test_partially_observed_data_get_the_dynamic_range_check():
    X = np.full((4, 3), 1.0)
    X[0, 0] = 1e300  # 1e300 times the typical magnitude: beyond float64's range
    for params in ({}, {"missing_values": -7.0}):
        assert "times its typical magnitude" in _message(X, params)


def test_every_constructor_parameter_has_a_row_in_the_table():
    from nmfkit._params import PARAMETERS

    for cls in (NMF, MiniBatchNMF):
        assert set(cls().get_params()) <= set(PARAMETERS), cls


@pytest.mark.parametrize(
    "cls, params, sentence",
    [
        (NMF, {"tol": -1}, "The 'tol' parameter of NMF must be a float in the range "
         "[0.0, inf). Got -1 instead. tol=-1 is not valid;"),
        (MiniBatchNMF, {"batch_size": 0}, "The 'batch_size' parameter of "
         "MiniBatchNMF must be an int in the range [1, inf). Got 0 instead. "
         "batch_size=0 is not valid; give an integer >= 1."),
        (NMF, {"update_order": "DS"}, "The 'update_order' parameter of NMF must be "
         "a str among {'auto', 'HW', 'WH'}. Got 'DS' instead."),
        (NMF, {"init": "svd"}, "The 'init' parameter of NMF must be a str among "
         "{'random', 'nndsvd', 'nndsvda', 'nndsvdar', 'custom'} or None."),
    ],
)
def test_bad_parameters_begin_with_scikit_learns_sentence(cls, params, sentence):
    with pytest.raises(ValueError) as info:
        cls(**params).fit(np.ones((3, 3)))
    assert str(info.value).startswith(sentence)


def test_tensors_get_the_dynamic_range_check():
    import torch

    X = np.full((4, 3), 1.0)
    X[0, 0] = 1e300
    message = _message(torch.from_numpy(X), {})
    assert message == _message(X, {})
