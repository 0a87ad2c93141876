"""The error every application raises for bad input to a command."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(ValueError):
    """Bad input to a command: shown as one line, exit code 2 by default.

    Parameters
    ----------
    message : str
        One line: the problem and how to fix it.
    exit_code : int, default=2
        The command's exit status (130 for an interruption).

    See Also
    --------
    nmfkit.cli.main : Prints the message and exits with ``exit_code``.

    Examples
    --------
    >>> from nmfkit.apps import CommandError
    >>> error = CommandError("--rank 0 is not valid; give a rank of 1 or more")
    >>> isinstance(error, ValueError), error.exit_code
    (True, 2)
    >>> CommandError("interrupted", exit_code=130).exit_code
    130
    """

    def __init__(self, message, *, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code
