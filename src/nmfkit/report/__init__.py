"""The HTML report of a run: one self-contained file with embedded figures."""

from ._html import Report, Section

__all__ = ["Report", "Section"]
