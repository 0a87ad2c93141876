"""The estimators' parameters, checked from one declarative table.

:data:`PARAMETERS` names, for every constructor parameter of :class:`NMF` and
:class:`MiniBatchNMF`, the values it takes. :func:`check_parameters` checks
an estimator's parameters against it; a bad value raises a ``ValueError``
that begins with scikit-learn's sentence ("The 'tol' parameter of NMF must
be ... Got ... instead.") and goes on with nmfkit's fix. scikit-learn's own
checking helpers are private to it and are not used.

Adding a parameter is one row here (plus the constructor argument).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._init import INIT_METHODS
from ._validation import SPARSE_UNOBSERVED, check_missing_values, check_n_components

__all__ = ["PARAMETERS", "check_parameters"]


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class Real:
    """A finite real number in ``[low, high]``, or one of the strings ``allow``."""

    low: float = 0.0
    high: float | None = None
    allow: tuple[str, ...] = ()
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.allow_none
        if isinstance(value, str):
            return value in self.allow
        if _is_bool(value) or not isinstance(value, numbers.Real):
            return False
        number = float(value)
        return (
            math.isfinite(number)
            and number >= self.low
            and (self.high is None or number <= self.high)
        )

    def sklearn_words(self) -> str:
        high = "inf" if self.high is None else repr(float(self.high))
        close = ")" if self.high is None else "]"
        words = f"a float in the range [{float(self.low)!r}, {high}{close}"
        return words + _alternatives(self.allow, self.allow_none)

    def fix(self) -> str:
        if self.high is None:
            bound = f">= {self.low}"
        else:
            bound = f"in [{self.low}, {self.high}]"
        extra = f" or one of {self.allow}" if self.allow else ""
        extra += " or None" if self.allow_none else ""
        return f"it must be a finite real number {bound}{extra}."


@dataclass(frozen=True)
class Integer:
    """An integer ``>= low`` (not a bool), or one of the strings ``allow``."""

    low: int = 1
    allow: tuple[str, ...] = ()
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.allow_none
        if isinstance(value, str):
            return value in self.allow
        return (
            not _is_bool(value)
            and isinstance(value, numbers.Integral)
            and int(value) >= self.low
        )

    def sklearn_words(self) -> str:
        words = f"an int in the range [{self.low}, inf)"
        return words + _alternatives(self.allow, self.allow_none)

    def fix(self) -> str:
        extra = "".join(f", {a!r}" for a in self.allow)
        extra += " or None" if self.allow_none else ""
        return f"give an integer >= {self.low}{extra}."


@dataclass(frozen=True)
class Options:
    """One of ``choices`` (compared with ``==``; bools never match strings)."""

    choices: tuple[Any, ...]
    hint: str = ""

    def accepts(self, value: Any) -> bool:
        return any(
            value is choice or (type(value) is type(choice) and value == choice)
            for choice in self.choices
        )

    def sklearn_words(self) -> str:
        names = ", ".join(repr(c) for c in self.choices if c is not None)
        none = " or None" if None in self.choices else ""
        return f"a str among {{{names}}}{none}"

    def fix(self) -> str:
        return self.hint or f"choose one of {self.choices}."


@dataclass(frozen=True)
class Boolean:
    """True or False (NumPy bools too); ``None`` when ``allow_none``."""

    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        return _is_bool(value) or (value is None and self.allow_none)

    def sklearn_words(self) -> str:
        return "an instance of 'bool'" + (" or None" if self.allow_none else "")

    def fix(self) -> str:
        return "give True, False or None." if self.allow_none else "give True or False."


@dataclass(frozen=True)
class FilePath:
    """A file path (str or os.PathLike) or None."""

    def accepts(self, value: Any) -> bool:
        return value is None or isinstance(value, (str, os.PathLike))

    def sklearn_words(self) -> str:
        return "a str, an instance of 'os.PathLike' or None"

    def fix(self) -> str:
        return "give a file path or None."


@dataclass(frozen=True)
class Checked:
    """A parameter whose check is a function that raises nmfkit's error."""

    check: Callable[[Any], Any]
    words: str

    def accepts(self, value: Any) -> bool:
        try:
            self.check(value)
        except (TypeError, ValueError):
            return False
        return True

    def sklearn_words(self) -> str:
        return self.words

    def fix(self) -> str:  # the function's own message is used instead
        return ""


def _alternatives(allow: tuple[str, ...], allow_none: bool) -> str:
    extra = "".join(f" or {a!r}" for a in allow)
    return extra + (" or None" if allow_none else "")


_PENALTY = Real()

#: Every constructor parameter of NMF and MiniBatchNMF and the values it takes.
PARAMETERS: dict[str, Any] = {
    "n_components": Checked(
        lambda v: check_n_components(v, 1),
        "an int in the range [1, inf), 'auto' or None",
    ),
    "init": Options(
        (None, *INIT_METHODS), hint=f"choose one of {INIT_METHODS} or None."
    ),
    "solver": Checked(lambda v: None, "a str"),  # resolved by the solver table
    "beta_loss": Checked(lambda v: None, "a float or a str"),  # beta_to_float
    "tol": Real(),
    "max_iter": Integer(1),
    "random_state": Checked(lambda v: None, "an int, a RandomState or None"),
    "alpha_W": _PENALTY,
    "alpha_H": Real(allow=("same",)),
    "l1_ratio": Real(high=1.0),
    "verbose": Checked(lambda v: None, "an int or a bool"),
    "shuffle": Checked(lambda v: None, "an instance of 'bool'"),
    "l1_W": _PENALTY,
    "l2_W": _PENALTY,
    "l1_H": _PENALTY,
    "l2_H": _PENALTY,
    "l1_placement": Options(("auto", "numerator", "denominator")),
    "update_order": Options(("auto", "HW", "WH")),
    "max_time": Real(allow_none=True),
    "on_interrupt": Options(("keep", "raise")),
    "checkpoint": FilePath(),
    "checkpoint_every": Real(),
    "missing_values": Checked(check_missing_values, "None, np.nan or a real number"),
    "sparse_unobserved": Options(
        SPARSE_UNOBSERVED,
        hint=(
            "choose 'zero' (unstored entries of a sparse X are zeros, as for "
            "text) or 'missing' (they are unknown, as for ratings)."
        ),
    ),
    "bias": Boolean(),
    "n_init": Integer(1),
    "inner_iter": Integer(1, allow=("auto",), allow_none=True),
    "inner_tol": Real(),
    "extrapolate": Boolean(allow_none=True),
    # MiniBatchNMF
    "batch_size": Integer(1),
    "max_no_improvement": Integer(1, allow_none=True),
    "forget_factor": Real(high=1.0),
    "fresh_restarts": Boolean(),
    "fresh_restarts_max_iter": Integer(1),
    "transform_max_iter": Integer(1, allow_none=True),
}


def check_parameter(owner: str, name: str, value: Any) -> None:
    """Raise the ``ValueError`` of a bad value of the parameter ``name``.

    Parameters
    ----------
    owner : str
        The estimator's class name (in scikit-learn's sentence).
    name : str
        A key of :data:`PARAMETERS`.
    value : object
    """
    rule = PARAMETERS[name]
    if rule.accepts(value):
        return
    sentence = (
        f"The {name!r} parameter of {owner} must be {rule.sklearn_words()}. "
        f"Got {value!r} instead."
    )
    if isinstance(rule, Checked):
        try:
            rule.check(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{sentence} {exc}") from None
    raise ValueError(f"{sentence} {name}={value!r} is not valid; {rule.fix()}")


def check_parameters(estimator: Any, names: Iterable[str] | None = None) -> None:
    """Check the estimator's parameters (all of its constructor's by default)."""
    params = estimator.get_params(deep=False)
    owner = type(estimator).__name__
    for name in params if names is None else names:
        if name in PARAMETERS:
            check_parameter(owner, name, params[name])
