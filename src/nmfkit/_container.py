"""Moved to :mod:`nmfkit.reliability._container`; this name is that same module."""

import sys

from .reliability import _container as _module

sys.modules[__name__] = _module
