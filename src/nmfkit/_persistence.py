"""Moved to :mod:`nmfkit.reliability._persistence`; this name is that same module."""

import sys

from .reliability import _persistence as _module

sys.modules[__name__] = _module
