"""scikit-learn's own NMF test module, run against nmfkit.

The installed scikit-learn's ``sklearn/decomposition/tests/test_nmf.py`` is read
from disk, its import of ``NMF``, ``MiniBatchNMF`` and
``non_negative_factorization`` is rebound to nmfkit's, and the module is executed
in this module's namespace so that pytest collects its tests here.  Tracebacks
point at scikit-learn's file (the code is compiled under its path).

Tests that exercise only scikit-learn's private functions (``_initialize_nmf``,
``_beta_divergence``, ``_special_sparse_dot``) on scikit-learn's own code keep
running: they check nothing of nmfkit but also need nothing of it, so they stay
as a guard that the module is read intact.  The exclusions are listed in
:data:`EXCLUDED`, each with its reason; they are reported as skips.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sklearn

SKLEARN_TEST_FILE = (
    Path(sklearn.__file__).parent / "decomposition" / "tests" / "test_nmf.py"
)

_IMPORT_LINE = (
    "from sklearn.decomposition import NMF, MiniBatchNMF, non_negative_factorization"
)
_NMFKIT_IMPORT = "from nmfkit import NMF, MiniBatchNMF, non_negative_factorization"

#: Tests of scikit-learn's module that do not run against nmfkit, and why.
EXCLUDED: dict[str, str] = {}


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

for _name, _reason in EXCLUDED.items():
    if _name not in globals():
        raise RuntimeError(f"excluded test {_name!r} is not in {SKLEARN_TEST_FILE}")
    globals()[_name] = pytest.mark.skip(reason=f"excluded: {_reason}")(
        globals()[_name]
    )


def test_estimators_are_nmfkits():
    """The executed module uses nmfkit's estimators, not scikit-learn's."""
    import nmfkit

    assert NMF is nmfkit.NMF  # noqa: F821 (bound by the executed module)
    assert MiniBatchNMF is nmfkit.MiniBatchNMF  # noqa: F821
    assert non_negative_factorization is nmfkit.non_negative_factorization  # noqa: F821
    assert re.search(r"\bdef test_", SKLEARN_TEST_FILE.read_text(encoding="utf-8"))
