"""Moved to :mod:`nmfkit.reliability._checkpoint`; this name is that same module."""

import sys

from .reliability import _checkpoint as _module

sys.modules[__name__] = _module
