"""Doctests of the documented modules, collected with the test suite.

``pytest`` (``make test``) collects the Examples sections of the modules
listed in ``DOCTEST_MODULES`` (also the ``testpaths`` of ``pyproject.toml``)
as doctests; running a single test file (``pytest tests/test_x.py``) does not.
A module whose optional dependency is not installed is left out (with the
reason in ``-ra``'s summary) instead of failing at collection.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "src" / "nmfkit"

#: Paths under src/nmfkit whose docstring examples run as doctests.
DOCTEST_MODULES = (
    "datasets",
    "topics",
    "matching.py",
    "plotting",
    "report",
    "audio",
    "_rank.py",
    "reliability/_persistence.py",
    "reliability/_checkpoint.py",
    "reliability/_fit_runner.py",
    "reliability/_container.py",
    "_nmf.py",
    "_minibatch.py",
    "consensus",
    "sparsity.py",
    "solvers/_alternating.py",
    "solvers/_batched.py",
    "solvers/_masked_hals.py",
    "solvers/_masked_mu.py",
    "solvers/_monitor.py",
    "solvers/_mu_beta.py",
    "solvers/_rule.py",
    "solvers/_table.py",
    "distributed/_estimator.py",
    "distributed/_solver.py",
    "distributed/_blocks.py",
    "recommend",
    "apps/_outputs.py",
    "apps/_errors.py",
    "apps/_progress.py",
    "apps/_table.py",
    "apps/_compare.py",
    "apps/_sections.py",
    "apps/_faces.py",
    "apps/_topics.py",
    "apps/_audio.py",
    "apps/_series.py",
    "cli/__init__.py",
)

#: Optional dependencies of some of them (package path prefix -> module).
REQUIRES = {
    "plotting": "matplotlib",
    "audio/_plots.py": "matplotlib",
    "distributed": "dask",
    "apps/_faces.py": "PIL",
    "consensus/_anndata.py": "anndata",
}


def _doctested(path: Path) -> bool:
    try:
        relative = path.resolve().relative_to(PACKAGE).as_posix()
    except ValueError:
        return False
    return any(
        relative == entry or relative.startswith(entry + "/")
        for entry in DOCTEST_MODULES
    )


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".py" or not _doctested(file_path):
        return None
    relative = file_path.resolve().relative_to(PACKAGE).as_posix()
    for prefix, module in REQUIRES.items():
        if relative.startswith(prefix) and importlib.util.find_spec(module) is None:
            return None
    return DoctestModule.from_parent(parent, path=file_path)


@pytest.fixture(autouse=True)
def _doctest_backend(request, monkeypatch):
    """Doctests draw with Agg and run in a temporary folder."""
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.setenv("MPLBACKEND", "Agg")
        monkeypatch.chdir(request.getfixturevalue("tmp_path"))
