"""Moved to :mod:`nmfkit.reliability._interrupt`; this name is that same module."""

import sys

from .reliability import _interrupt as _module

sys.modules[__name__] = _module
