"""The reliability layer: fits that survive interruptions, files that survive crashes.

- :mod:`~nmfkit.reliability._fit_runner`: runs a solver for an estimator's
  ``fit`` at unit scale, keeping the latest iterate on Ctrl-C and resuming
  from a checkpoint;
- :mod:`~nmfkit.reliability._interrupt`: the guard that defers Ctrl-C to an
  iteration boundary;
- :mod:`~nmfkit.reliability._checkpoint`: checkpoint files of a running fit;
- :mod:`~nmfkit.reliability._persistence`: model files (``save`` and
  ``nmfkit.load``) without pickle;
- :mod:`~nmfkit.reliability._container`: the checked container format both
  use;
- :mod:`~nmfkit.reliability._atomic`: atomic writes (temporary file, fsync,
  rename) for every file nmfkit writes.

The old module paths (``nmfkit._atomic`` ...) stay importable: each is the
same module object as its new path.
"""
