"""The applications behind the ``nmfkit`` command: faces, topics and the demo.

Each application fits nmfkit and scikit-learn from one initialization,
compares them and adds its sections to an HTML report
(:class:`nmfkit.report.Report`). Needs the ``apps`` extra.
"""

from ._compare import Comparison, FitRecord, compare_with_sklearn
from ._faces import FACES_DEFAULTS, run_faces
from ._progress import Progress
from ._sections import format_summary
from ._topics import TOPICS_DEFAULTS, run_topics

__all__ = [
    "FACES_DEFAULTS",
    "TOPICS_DEFAULTS",
    "Comparison",
    "FitRecord",
    "Progress",
    "compare_with_sklearn",
    "format_summary",
    "run_faces",
    "run_topics",
]
