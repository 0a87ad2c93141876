"""What every command does the same way: open the output set, warn, finish."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

__all__ = ["finish", "open_outputs", "print_lines", "strict_interrupts", "warn"]


@contextlib.contextmanager
def strict_interrupts():
    """Make Ctrl-C end the block, even inside fits that would keep their factors.

    nmfkit's fits stop at the next iteration on Ctrl-C and keep what they
    have (``on_interrupt="keep"``); the comparisons of ``faces`` and
    ``topics`` must not hand such a fit over as finished. In this block
    SIGINT raises :class:`KeyboardInterrupt` at once (a handler the fits leave
    in place), and a Ctrl-C that a fit absorbed anyway is raised again when
    the block ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit = []

    def handle(signum, frame):
        hit.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if hit:
        raise KeyboardInterrupt


@contextlib.contextmanager
def open_outputs(args, folder, command, *, stages=0, packages=(), strict=False):
    """Check what can be checked before any work, then yield the output set.

    Checks the optional packages (those of ``packages``, and matplotlib for
    ``--report``) and the output folder (:class:`~nmfkit.apps.OutputSet`:
    absent, or an earlier set with ``--force``; its parent writable). The
    block writes into the set; it is committed when the block succeeds and
    removed when it fails or is interrupted. ``strict``: Ctrl-C ends the
    block even inside fits that would keep their factors
    (:func:`strict_interrupts`).

    Yields
    ------
    outputs, progress : OutputSet, Progress
    """
    from ..apps._outputs import OutputSet
    from ..apps._progress import Progress
    from ..apps._results import require_packages

    require_packages(packages, purpose=f"nmfkit {command}")
    if getattr(args, "report", False):
        require_packages(("matplotlib",), purpose="the report (--report)")
    interrupts = strict_interrupts() if strict else contextlib.nullcontext()
    with OutputSet(folder, force=args.force, command=command) as outputs:
        with interrupts, Progress(stages, command, quiet=args.quiet) as progress:
            yield outputs, progress


def print_lines(*lines):
    """Print the results, one line each."""
    for line in lines:
        print(line)


def warn(args, notes):
    """Print each note as ``nmfkit CMD: warning: ...`` on stderr."""
    for note in notes:
        print(f"nmfkit {args.command}: warning: {note}", file=sys.stderr)


def summarize_files(files):
    """The files at the top of a set, and each subfolder with its file count."""
    counts = {}
    for name in files:
        top, _, rest = name.partition("/")
        key = f"{top}/" if rest else top
        counts[key] = counts.get(key, 0) + 1
    return [f"{k} ({n} files)" if k.endswith("/") else k for k, n in counts.items()]


def finish(folder, files):
    """Print where the results are; return the exit code 0."""
    print(f"results in {folder}/: {', '.join(summarize_files(files))}")
    if "report.html" in files:
        print(f"report: {folder / 'report.html'}")
    return 0
