"""Moved to :mod:`nmfkit.reliability._atomic`; this name is that same module."""

import sys

from .reliability import _atomic as _module

sys.modules[__name__] = _module
