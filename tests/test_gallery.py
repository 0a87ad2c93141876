"""Every gallery example runs as a script, so the documentation cannot rot.

Each ``examples/plot_*.py`` runs in its own Python process with matplotlib's
Agg backend, this checkout's ``src`` first on the path, one BLAS thread and
a temporary working folder; the examples assert their own numbers (against
scikit-learn, SciPy, gensim or the course's formulas), so a run that exits 0
has checked them. ``make docs`` runs the same scripts to draw the gallery
(CI runs it after ``make test``), so ``make test`` deselects these
(``-m "not gallery"`` in pyproject's addopts); ``pytest -m gallery`` runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
#: One example at most this long (seconds). Measured: 3.5 to 10.6 CPU seconds
#: each, 66 CPU seconds for all ten (2-core machine, one BLAS thread).
TIMEOUT = 300


def test_the_gallery_has_the_examples_the_docs_promise():
    names = {path.stem for path in EXAMPLES}
    promised = {
        "plot_faces_parts",
        "plot_topics_coherence",
        "plot_recommendations",
        "plot_audio_separation",
        "plot_time_series_templates",
        "plot_choosing_the_rank",
        "plot_consensus_nmf",
        "plot_streaming",
        "plot_dask",
        "plot_multiplicative_updates",
        "plot_food_for_thought",
    }
    assert promised <= names, sorted(promised - names)
    for path in EXAMPLES:
        head = path.read_text().split('"""')[1].strip().splitlines()
        # sphinx-gallery needs a reStructuredText title as the first lines
        assert len(head) >= 2 and set(head[1]) == {"="}, path.name
        assert len(head[1]) >= len(head[0]), f"{path.name}: title underline too short"


@pytest.mark.gallery
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs(example, tmp_path):
    env = dict(os.environ)
    env.update(
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
        ),
    )
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, (
        f"{example.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
