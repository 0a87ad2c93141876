"""The solver table: resolution, fitted attributes, warnings, and a new solver.

The new solver is a toy projected-gradient rule added the documented way
(``docs/adding_a_solver.md``): one rule plus one table row, then
``NMF(solver="pg-toy")``.
"""

import warnings
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from nmfkit import NMF
from nmfkit.solvers import (
    FactorRule,
    SolverSpec,
    fit_alternating,
    fit_hals,
    fit_masked_hals,
    fit_masked_mu,
    register_solver,
    resolve_solver,
    solver_specs,
    unregister_solver,
)


def _data(n=30, p=20, r=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, r)) @ rng.random((r, p)) + 0.01 * rng.random((n, p))


# ----------------------------------------------------------------- resolution
@pytest.mark.parametrize(
    "solver, beta, kind, name, fit",
    [
        ("cd", 2.0, "dense", "hals", fit_hals),
        ("hals", 2.0, "sparse", "hals", fit_hals),
        ("auto", 2.0, "observed", "hals", fit_masked_hals),
        ("mu", 2.0, "observed", "mu", fit_masked_mu),
        ("auto", 0.5, "dense", "mu", None),
        ("auto", 2.0, "array_api", "hals", fit_hals),
        ("auto", 2.0, "dask", "hals", None),
    ],
)
def test_resolve_names_what_runs(solver, beta, kind, name, fit):
    spec, options = resolve_solver(solver, beta, kind)
    assert spec.name == name != "auto"
    assert set(options) <= set(spec.options)
    if fit is not None:
        assert spec.fit is fit


def test_every_row_names_its_losses_kinds_and_options():
    for spec in solver_specs():
        assert spec.kinds and spec.name
        assert spec.losses is None or all(isinstance(b, float) for b in spec.losses)
        assert isinstance(dict(spec.options), dict)


def test_fitted_solver_attributes():
    X = _data()
    model = NMF(3, solver="cd", max_iter=5, tol=0, update_order="WH").fit(X)
    assert model.solver_ == "hals"
    assert model.solver_options_["update_order"] == "WH"
    assert model.solver_options_["inner_iter"] == 1
    masked = NMF(3, max_iter=5, tol=0, missing_values=np.nan).fit(X)
    assert masked.solver_ == "hals"
    assert masked.solver_options_ == {"update_order": "HW"}
    kl = NMF(3, beta_loss="kullback-leibler", max_iter=5, tol=0).fit(X)
    assert kl.solver_ == "mu"
    # "auto" with scikit-learn's parameters alone: scikit-learn's rules for MU
    # (the objective every 10 iterations, as scikit-learn evaluates it)
    assert kl.solver_options_ == {
        "update_order": "WH",
        "l1_placement": "denominator",
        "objective_every": 10,
    }
    assert kl.history_[:, 0].tolist() == [0, 5]
    course = NMF(3, beta_loss="kullback-leibler", l2_W=0.1, max_iter=5, tol=0).fit(X)
    assert course.solver_options_ == {
        "update_order": "HW",
        "l1_placement": "numerator",
        "objective_every": 10,
    }


@pytest.mark.parametrize(
    "params, option, solver",
    [
        (
            dict(solver="hals", missing_values=np.nan, l1_placement="denominator"),
            "l1_placement",
            "hals",
        ),
        (dict(solver="cd", l1_placement="denominator"), "l1_placement", "hals"),
        (dict(solver="mu", missing_values=np.nan, inner_iter=3), "inner_iter", "mu"),
        (
            dict(solver="hals", missing_values=np.nan, extrapolate=True),
            "extrapolate",
            "hals",
        ),
        (dict(beta_loss=1.0, shuffle=True), "shuffle", "mu"),
    ],
)
def test_unused_option_warns_naming_option_and_solver(params, option, solver):
    X = _data()
    with pytest.warns(
        UserWarning, match=rf"{option}=.* no effect with solver '{solver}'"
    ):
        NMF(3, max_iter=3, tol=0, **params).fit(X)


@pytest.mark.parametrize("order", ["HW", "WH"])
def test_masked_hals_follows_update_order(order):
    # every entry observed: the masked HALS is the complete-data HALS
    X = _data()
    common = dict(n_components=3, init="nndsvda", max_iter=15, tol=0)
    masked = NMF(**common, solver="hals", update_order=order)
    W = masked.fit_transform(X, mask=np.ones(X.shape, dtype=bool))
    ref = NMF(**common, solver="hals", update_order=order)
    W_ref = ref.fit_transform(X)
    other = NMF(**common, solver="hals", update_order=order[::-1]).fit(X)
    np.testing.assert_allclose(W, W_ref, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(masked.loss_curve_, ref.loss_curve_, rtol=1e-9)
    assert not np.allclose(masked.components_, other.components_, rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {},
        dict(solver="cd"),
        dict(solver="mu"),
        dict(beta_loss="kullback-leibler"),
        dict(missing_values=np.nan),
        dict(missing_values=np.nan, solver="mu"),
        # options switched off explicitly are what a solver without them does
        dict(missing_values=np.nan, inner_iter=1, extrapolate=False, shuffle=False),
    ],
)
def test_defaults_never_warn(params):
    X = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NMF(3, max_iter=20, tol=0, **params).fit(X)
        NMF(3, max_iter=20, tol=0, **params).fit(sp.csr_matrix(X))
    assert [str(w.message) for w in caught if "no effect" in str(w.message)] == []


def test_unknown_solver_lists_the_table():
    with pytest.raises(ValueError, match="solver='nope' .* available: solver='auto'"):
        resolve_solver("nope", 2.0)
    with pytest.raises(ValueError, match="on Dask arrays.*solver='hals'"):
        resolve_solver("mu", 0.0, "dask")


# ------------------------------------------------------------ a toy new solver
class ProjectedGradientRule(FactorRule):
    """Projected gradient with the fixed step 1/L, L the largest eigenvalue
    of the (penalized) Gram matrix: each step decreases the objective."""

    inner_alpha = 1.0

    def prepare(self, P, G, l1, l2, xp):
        G2 = G + l2 * np.eye(G.shape[0], dtype=G.dtype)
        return G2, P - l1, float(np.linalg.eigvalsh(G2.astype(np.float64))[-1])

    def update(self, F, P, G, prepared, l1, l2, xp, need_change):
        G2, Q, L = prepared
        if L <= 0:
            return 0.0
        new = np.maximum(F - (G2 @ F - Q) / F.dtype.type(L), 0)
        change = float(np.sum((new - F) ** 2))
        F[...] = new
        return change


# the driver does the rest: the solver is the driver with this rule
fit_pg_toy = partial(fit_alternating, rule=ProjectedGradientRule())


@pytest.fixture
def pg_toy():
    spec = register_solver(
        SolverSpec(
            name="pg-toy",
            fit=fit_pg_toy,
            losses=frozenset({2.0}),
            kinds=frozenset({"dense", "sparse"}),
            options={"update_order": "HW", "inner_iter": 1, "inner_tol": 0.1},
        )
    )
    yield spec
    unregister_solver("pg-toy")
    assert all(row.name != "pg-toy" for row in solver_specs())


def test_toy_rule_fits_through_nmf(pg_toy):
    X = _data()
    model = NMF(3, solver="pg-toy", init="nndsvda", max_iter=400, tol=0, inner_iter=5)
    W = model.fit_transform(X)
    assert model.solver_ == "pg-toy"
    assert model.solver_options_ == {
        "update_order": "HW",
        "inner_iter": 5,
        "inner_tol": 0.1,
    }
    objective = model.history_[:, 2]
    assert np.all(np.diff(objective) <= 1e-12 * objective[0])  # never increases
    H = model.components_
    # the codes under the final H, refined to optimality by SciPy's NNLS
    W_nnls = np.array([nnls(H.T, x)[0] for x in X])
    fit_error = np.linalg.norm(X - W @ H)
    assert fit_error <= np.linalg.norm(X - W_nnls @ H) * (1 + 1e-3)
    # transform solves that convex problem with the same rule: NNLS's answer
    codes = NMF(
        3, solver="pg-toy", init="nndsvda", max_iter=1000, tol=0, inner_iter=5
    ).fit(X)
    W_new = codes.transform(X)
    W_ref = np.array([nnls(codes.components_.T, x)[0] for x in X])
    np.testing.assert_allclose(W_new, W_ref, rtol=1e-3, atol=1e-4 * W_ref.max())


def test_toy_rule_options_and_kinds_come_from_its_row(pg_toy):
    X = _data()
    with pytest.warns(
        UserWarning, match="shuffle=True has no effect with solver 'pg-toy'"
    ):
        NMF(3, solver="pg-toy", shuffle=True, max_iter=3, tol=0).fit(X)
    with pytest.raises(ValueError, match="solver='pg-toy' with beta_loss=1 is not"):
        NMF(3, solver="pg-toy", beta_loss=1.0).fit(X)
    with pytest.raises(ValueError, match="already registered"):
        register_solver(pg_toy)


def test_old_reliability_paths_are_the_new_modules():
    import importlib

    for name in ("_atomic", "_checkpoint", "_container", "_fit_runner",
                 "_interrupt", "_persistence"):  # fmt: skip
        old = importlib.import_module(f"nmfkit.{name}")
        assert old is importlib.import_module(f"nmfkit.reliability.{name}")
