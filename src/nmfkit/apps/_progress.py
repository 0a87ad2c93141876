"""Progress bars for long work (tqdm, on stderr), silent with ``quiet``."""

from __future__ import annotations

import sys

__all__ = ["Progress"]


class Progress:
    """A step counter shown as a tqdm bar on a terminal.

    A no-op when quiet, when stderr is not a terminal, or without tqdm.

    Parameters
    ----------
    total : int
        Number of steps.
    description : str
    quiet : bool, default=False
    """

    def __init__(self, total, description, *, quiet=False):
        self._bar = None
        if quiet:
            return
        try:
            from tqdm import tqdm
        except ImportError:  # the apps extra brings tqdm; without it, no bar
            return
        self._bar = tqdm(
            total=total,
            desc=description,
            file=sys.stderr,
            leave=False,
            unit="step",
            disable=None,  # no bar when stderr is not a terminal (logs, pipes)
        )

    def step(self, description):
        """Announce the step about to run (after completing the previous one)."""
        if self._bar is not None:
            self._bar.set_postfix_str(description, refresh=False)
            self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
