"""One validation path: the same bad input gets the same error for every kind.

Each bad matrix is given dense, sparse (CSR), partially observed (dense
with a declared missing value that it does not contain), as a PyTorch CPU
tensor (array-API dispatch on) and as a Dask array; every kind must raise
the same error type with the same message start (the dense message up to
the location of the first offending entry, which reductions over a Dask
array do not know).
"""

import contextlib

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn

from nmfkit import NMF

BASE = np.random.default_rng(0).random((6, 5)) + 0.1


def _bad(name):
    X = BASE.copy()
    if name == "negative":
        X[1, 2] = -1.0
    elif name == "inf":
        X[1, 2] = np.inf
    elif name == "nan":
        X[1, 2] = np.nan
    elif name == "empty":
        X = np.zeros((0, 5))
    elif name == "ndim":
        X = BASE[0]
    elif name == "range":
        X[1, 2] = 1e300
    return X


def _as_kind(X, kind, monkeypatch):
    """``(X of that kind, NMF keywords, context of the fit)``."""
    context = contextlib.nullcontext()
    options = {}
    if kind == "sparse" and X.ndim == 2:
        X = sp.csr_matrix(X)
    elif kind == "observed":
        options = {"missing_values": -7.0}
    elif kind == "torch":
        torch = pytest.importorskip("torch")
        pytest.importorskip("array_api_compat")
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")
        X = torch.tensor(X)
        context = sklearn.config_context(array_api_dispatch=True)
    elif kind == "dask":
        da = pytest.importorskip("dask.array")
        X = da.from_array(X, chunks=3)
    return X, options, context


def _error(X, kind, monkeypatch):
    X, options, context = _as_kind(X, kind, monkeypatch)
    with context, pytest.raises((ValueError, TypeError)) as info:
        NMF(2, init="random", max_iter=5, random_state=0, **options).fit(X)
    return info.type, str(info.value)


def _start(message):
    """The message up to the location of the first offending entry."""
    cuts = [message.find(c) for c in (" (the first at", " at row", ";")]
    return message[: min((c for c in cuts if c >= 0), default=len(message))]


BAD = ["negative", "inf", "nan", "empty", "ndim", "range"]
KINDS = ["sparse", "observed", "torch", "dask"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BAD)
def test_same_bad_input_same_error_for_every_kind(name, kind, monkeypatch):
    dense_type, dense_message = _error(_bad(name), "dense", monkeypatch)
    kind_type, kind_message = _error(_bad(name), kind, monkeypatch)
    assert kind_type is dense_type
    assert _start(kind_message) == _start(dense_message)
    assert kind_message.startswith(_start(dense_message))


def test_dense_messages_begin_with_scikit_learns_sentence(monkeypatch):
    _, message = _error(_bad("negative"), "dense", monkeypatch)
    assert message.startswith("Negative values in data passed to NMF (input X).")
    assert "1 negative entry, the smallest -1 at row 1, column 2" in message


@pytest.mark.parametrize("kind", ["dense", *KINDS])
def test_all_zero_matrix_is_accepted_by_every_kind(kind, monkeypatch):
    # the same outcome for every kind: accepted, zero factors' product
    X, options, context = _as_kind(np.zeros((6, 5)), kind, monkeypatch)
    with context:
        model = NMF(2, init="random", max_iter=5, random_state=0, **options)
        W = model.fit_transform(X)
    W = np.asarray(W.cpu() if hasattr(W, "cpu") else W)
    H = np.asarray(
        model.components_.cpu()
        if hasattr(model.components_, "cpu")
        else model.components_
    )
    np.testing.assert_array_equal(W @ H, 0.0)
