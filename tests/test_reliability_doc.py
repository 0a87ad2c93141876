"""docs/reliability.md names only tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`(test_\w+\.py)::(test_\w+)`")


def _test_functions(path):
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_named_in_the_reliability_table_exists():
    text = (ROOT / "docs" / "reliability.md").read_text()
    references = REFERENCE.findall(text)
    assert len(references) >= 40
    missing = [
        f"{module}::{name}"
        for module, name in references
        if not (ROOT / "tests" / module).exists()
        or name not in _test_functions(ROOT / "tests" / module)
    ]
    assert missing == []


def test_every_table_row_names_a_check():
    text = (ROOT / "docs" / "reliability.md").read_text()
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| Input |")
    ]
    rows = [r for r in rows if not r.startswith(("| Fault |", "| File |"))]
    assert len(rows) >= 40
    for row in rows:
        last = row.rstrip(" |").rsplit("|", 1)[-1]
        assert "test_" in last or "nmfkit." in last, row
