"""Moved to :mod:`nmfkit.reliability._fit_runner`; this name is that same module."""

import sys

from .reliability import _fit_runner as _module

sys.modules[__name__] = _module
