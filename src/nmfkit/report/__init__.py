"""The HTML report of a run: one self-contained file with embedded figures."""

from ._format import format_number, format_number_html
from ._html import Report, Section

__all__ = ["Report", "Section", "format_number", "format_number_html"]
