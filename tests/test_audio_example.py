"""The audio example runs end to end and supervised separation wins."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("mir_eval")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "audio_separation.py"


def test_example_separates_and_supervised_templates_win(tmp_path):
    spec = importlib.util.spec_from_file_location("audio_separation", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = io.StringIO()
    argv = ["-o", str(tmp_path / "out"), "--duration", "1.5", "--rank", "6"]
    with contextlib.redirect_stdout(out):
        blind, scores = example.main([*argv, "--max-iter", "60"])
    text = out.getvalue()
    assert "supervised (learned templates):" in text and str(tmp_path) in text
    assert (tmp_path / "out" / "report.html").is_file()
    assert sorted(blind.source_names) == ["bass", "drums", "lead"]
    assert np.mean(scores["sdr"]) > np.mean(blind.scores["sdr"])
