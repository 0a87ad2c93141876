from __future__ import annotations

import numpy as np

from nmfkit.sparsity import hoyer_sparsity, zero_share


def test_hoyer_extremes_and_zero_share():
    A = np.array([[0.0, 0.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0, 0, 0, 0]])
    np.testing.assert_allclose(hoyer_sparsity(A), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(hoyer_sparsity(A[:2].T, axis=0), [1.0, 0.0])
    assert zero_share(A) == 7 / 12
