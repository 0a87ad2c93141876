"""The applications behind the ``nmfkit`` command.

- faces and topics: fit nmfkit and scikit-learn from one initialization,
  compare them and add their sections to an HTML report
  (:class:`nmfkit.report.Report`);
- fit, rank and ratings: one factorization (or a rank selection) of a
  matrix or a ratings file;
- audio and series: spectral templates and separated sources of a
  recording (:func:`separate_audio`), time-series templates of a set of
  recordings (:func:`decompose_series`);
- every command hands its results over in an :class:`OutputSet`, a folder
  written all together or not at all.

Needs the ``apps`` extra for the images, texts, plots and progress bars. The
names are imported on first use, so that the command line's ``--help`` (which
reads :mod:`nmfkit.apps._defaults`) does not import NumPy or scikit-learn.
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it.
_EXPORTS = {
    "separate_audio": "._audio",
    "Comparison": "._compare",
    "FitRecord": "._compare",
    "compare_with_sklearn": "._compare",
    "objective_path": "._compare",
    "replay_points": "._compare",
    "AUDIO_DEFAULTS": "._defaults",
    "FACES_DEFAULTS": "._defaults",
    "SERIES_DEFAULTS": "._defaults",
    "TOPICS_DEFAULTS": "._defaults",
    "CommandError": "._errors",
    "run_faces": "._faces",
    "write_faces_outputs": "._faces",
    "OutputSet": "._outputs",
    "Progress": "._progress",
    "add_result_files": "._sections",
    "format_summary": "._sections",
    "topic_coherence_rows": "._sections",
    "format_table": "._table",
    "decompose_series": "._series",
    "run_topics": "._topics",
    "write_topics_outputs": "._topics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nmfkit.apps' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
