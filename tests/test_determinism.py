"""The same random_state gives the same result, run after run."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import NMF


def _data(sparse):
    X = np.random.default_rng(5).random((40, 30))
    return sp.csr_matrix(np.where(X > 0.5, X, 0)) if sparse else X


def _fit(X, init, seed=0):
    model = NMF(n_components=4, init=init, random_state=seed, tol=0, max_iter=60)
    W = model.fit_transform(X)
    return W, model


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("init", ["random", "nndsvd", "nndsvda", "nndsvdar"])
def test_same_seed_same_factors_bit_for_bit(init, sparse):
    X = _data(sparse)
    W1, m1 = _fit(X, init)
    W2, m2 = _fit(X, init)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(m1.components_, m2.components_)
    np.testing.assert_array_equal(m1.loss_curve_, m2.loss_curve_)
    # Refitting the same estimator gives the same result too.
    W3 = m1.fit_transform(X)
    np.testing.assert_array_equal(W1, W3)


@pytest.mark.parametrize("init", ["random", "nndsvdar"])
def test_other_seed_other_factors(init):
    X = _data(False)
    W1, _ = _fit(X, init, seed=0)
    W2, _ = _fit(X, init, seed=1)
    assert not np.array_equal(W1, W2)


_CHILD = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_determinism import _data, _fit
W, model = _fit(_data(False), "random")
print(hashlib.sha256(W.tobytes() + model.components_.tobytes()).hexdigest())
"""


def test_same_seed_same_factors_in_another_process():
    from pathlib import Path

    code = _CHILD.format(tests=str(Path(__file__).parent))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    W, model = _fit(_data(False), "random")
    expected = hashlib.sha256(W.tobytes() + model.components_.tobytes()).hexdigest()
    assert out.stdout.strip() == expected
