"""Shared test fixtures: the reference data sets beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ``../shared/datasets`` seen from the repository root, or $NMFKIT_SHARED_DATASETS.
SHARED_DATASETS = Path(
    os.environ.get(
        "NMFKIT_SHARED_DATASETS",
        Path(__file__).resolve().parents[1].parent / "shared" / "datasets",
    )
)


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"reference data not found at {path}; these tests need the shared "
            "data sets folder (../shared/datasets) beside the repository"
        )
    return path


@pytest.fixture(scope="session")
def sklearn_data_home() -> Path:
    """scikit-learn's cache of Olivetti faces and 20 Newsgroups."""
    return _require(SHARED_DATASETS / "scikit_learn_data")


@pytest.fixture(scope="session")
def movielens_home() -> Path:
    """The folder that holds the extracted ``ml-100k`` folder."""
    _require(SHARED_DATASETS / "ml-100k")
    return SHARED_DATASETS
