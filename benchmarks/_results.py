"""Where a benchmark writes its results: JSON and Markdown, atomically."""

from __future__ import annotations

import json
from pathlib import Path

from nmfkit._atomic import atomic_write


def write_results(output: Path, stem: str, payload: dict, markdown: str) -> None:
    """Write ``output/stem.json`` (``payload``) and ``output/stem.md``.

    Each file is replaced whole or not at all (an interrupted run leaves the
    previous results), and the folder is created if needed.
    """
    output.mkdir(parents=True, exist_ok=True)
    with atomic_write(output / f"{stem}.json", "w") as f:
        f.write(json.dumps(payload, indent=2, default=float))
    with atomic_write(output / f"{stem}.md", "w") as f:
        f.write(markdown)


#: The first lines of a ``--quick`` run's Markdown.
QUICK_NOTICE = [
    "Quick mode (`--quick`, tiny sizes): a check that the script runs; "
    "these figures are not a measurement.",
    "",
]
