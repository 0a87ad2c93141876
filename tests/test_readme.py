"""The README's example runs as written, and the README stays a README.

The first fit of the site's getting-started page runs too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def _example():
    blocks = _python_blocks(README)
    assert len(blocks) == 1, "the README should hold exactly one Python example"
    return blocks[0]


def _run(code, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_readme_is_short_and_its_links_exist():
    assert len(README.splitlines()) <= 150
    targets = re.findall(r"\]\(([^)#]+)\)", README)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing


def test_readme_example_runs_as_written(tmp_path):
    code = _example()
    assert len(code.strip().splitlines()) <= 10
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    objective, zeros = result.stdout.strip().splitlines()
    assert re.fullmatch(r"objective \S+ after \d+ iterations", objective)
    assert re.fullmatch(r"\d+% of the codes are exactly zero", zeros)

    # the saved model is the fit the example describes: 16 parts of 64 pixels,
    # and its objective is the printed one
    import nmfkit

    model = nmfkit.load(tmp_path / "digits.nmf.npz")
    assert model.components_.shape == (16, 64)
    assert f"objective {model.loss_:.4g} " in objective
    assert np.all(model.components_ >= 0)


def test_getting_started_first_fit_runs(tmp_path):
    page = (ROOT / "docs" / "getting_started.md").read_text()
    first_fit = _python_blocks(page)[0]
    result = _run(first_fit, tmp_path)
    assert result.returncode == 0, result.stderr
    loss, curve = result.stdout.strip().splitlines()
    assert float(loss) > 0
    assert curve.startswith("[")
