"""Ctrl-C during a fit: stop at the end of the current iteration.

While a fit runs in the main thread, :class:`InterruptGuard` replaces
Python's default SIGINT handler: the first Ctrl-C only sets a flag, and the
guard's monitor callback raises :class:`KeyboardInterrupt` at the next
iteration boundary, where the monitor's latest factors, history and
iteration count describe one and the same state. A second Ctrl-C raises at
once (the user insists). A SIGINT handler that someone else installed is left
alone; a :class:`KeyboardInterrupt` raised by a monitor callback is an
iteration boundary too.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Defer SIGINT to iteration boundaries and tell where an interrupt hit.

    Use as a context manager around the solver call, and put
    :meth:`enter_update` first and :meth:`leave_update` last in the monitor's
    callbacks.

    Parameters
    ----------
    defer : bool
        Install the deferring SIGINT handler (only possible, and only done,
        in the main thread when the default handler is in place).
    """

    def __init__(self, defer=True):
        self.defer = defer
        self.requested = False
        self.in_update = False
        self._previous = None

    def __enter__(self):
        self.requested = False
        self.in_update = False
        if (
            self.defer
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def enter_update(self, monitor):
        """First monitor callback: the factors now match the last history row."""
        self.in_update = True

    def leave_update(self, monitor):
        """Last monitor callback: raise a deferred interrupt, else resume."""
        if self.requested:
            raise KeyboardInterrupt
        self.in_update = False
