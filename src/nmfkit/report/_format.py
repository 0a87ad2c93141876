"""Numbers for people: a few significant digits, no raw ``2.88547e-10``.

One helper formats every number that a report table, a terminal table or a
figure label shows, so that the same value reads the same everywhere:

- integers as they are (``300``), booleans as ``yes``/``no``;
- floats rounded to ``digits`` significant digits, trailing zeros dropped
  as ``%g`` does, in plain notation between ``1e-3`` and ``1e6``
  (``944.8``, ``0.01235``, ``123457``, ``0.5``);
- scientific notation outside that range (``2.885e-10``, ``1.2e+07``), or in
  HTML as a power of ten (``2.885 × 10<sup>-10</sup>``);
- zero as ``0`` and non-finite values as ``nan``, ``inf`` and ``-inf``;
- or, for values on a known scale, with a fixed number of ``decimals``.
"""

from __future__ import annotations

import html
import math
import numbers
from typing import Any

import numpy as np

__all__ = ["format_number", "format_number_html", "is_number"]

_PLAIN_LOW, _PLAIN_HIGH = 1e-3, 1e6


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def is_number(value):
    """Whether :func:`format_number` formats ``value`` (a real, not a bool)."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _check_digits(digits):
    if not (isinstance(digits, numbers.Integral) and 1 <= digits <= 17):
        raise ValueError(f"digits={digits!r} is not valid; give an integer in [1, 17].")


def _parts(value, digits, decimals=None):
    """``(mantissa, exponent)``: exponent None in plain notation."""
    _check_digits(digits)
    if isinstance(value, numbers.Integral):
        return str(int(value)), None
    value = float(value)
    if math.isnan(value):
        return "nan", None
    if math.isinf(value):
        return ("inf" if value > 0 else "-inf"), None
    if decimals is not None:
        if not (isinstance(decimals, numbers.Integral) and 0 <= decimals <= 12):
            raise ValueError(
                f"decimals={decimals!r} is not valid; give an integer in [0, 12]."
            )
        text = f"{value:.{decimals}f}"
        return (text[1:] if text.startswith("-") and float(text) == 0 else text), None
    if value == 0.0:
        return "0", None
    size = abs(value)
    if _PLAIN_LOW <= size < _PLAIN_HIGH:
        decimals = max(0, digits - 1 - math.floor(math.log10(size)))
        text = f"{value:.{decimals}f}"
        if float(text) != 0 and abs(float(text)) >= 10 ** (digits - decimals):
            decimals = max(0, decimals - 1)  # rounding carried into a new digit
            text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text, None
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa, int(exponent)


def format_number(value: Any, digits: int = 4, *, decimals: int | None = None) -> str:
    """Format a number with ``digits`` significant digits.

    Parameters
    ----------
    value : int or float
        Booleans are ``yes``/``no``; anything else that is not a real number
        is returned as ``str(value)``.
    digits : int, default=4
        Significant digits of a float.
    decimals : int, default=None
        Instead, a fixed number of decimals (for values on a known scale,
        such as shares in percent or coherence scores in [-1, 1]: ``0.00``
        rather than ``3.4e-13``).

    Returns
    -------
    text : str

    Raises
    ------
    ValueError
        If ``digits`` is not an integer in [1, 17] or ``decimals`` not one in
        [0, 12].

    See Also
    --------
    format_number_html : The same in HTML, powers of ten as superscripts.

    Examples
    --------
    >>> format_number(944.8213), format_number(2.88547e-10), format_number(300)
    ('944.8', '2.885e-10', '300')
    >>> format_number(0.000123456, digits=3), format_number(float("nan"))
    ('1.23e-04', 'nan')
    >>> format_number(3.4e-13, decimals=2), format_number(0.96755, decimals=3)
    ('0.00', '0.968')
    """
    if _is_bool(value):
        return "yes" if value else "no"
    if not is_number(value):
        return str(value)
    mantissa, exponent = _parts(value, digits, decimals)
    if exponent is None:
        return mantissa
    return f"{mantissa}e{exponent:+03d}"


def format_number_html(
    value: Any,
    digits: int = 4,
    *,
    decimals: int | None = None,
) -> str:
    """:func:`format_number` as escaped HTML, powers of ten as superscripts.

    Parameters
    ----------
    value : int or float
        Booleans are ``yes``/``no``; anything else that is not a real number
        is shown as ``str(value)``, escaped.
    digits : int, default=4
        Significant digits of a float.
    decimals : int, default=None
        Instead, a fixed number of decimals.

    Returns
    -------
    html : str

    Raises
    ------
    ValueError
        If ``digits`` is not an integer in [1, 17] or ``decimals`` not one in
        [0, 12].

    See Also
    --------
    format_number : The plain-text form.

    Examples
    --------
    >>> format_number_html(2.88547e-10)
    '2.885 × 10<sup>-10</sup>'
    """
    if not is_number(value):
        return html.escape(format_number(value, digits))
    mantissa, exponent = _parts(value, digits, decimals)
    if exponent is None:
        return html.escape(mantissa)
    return f"{html.escape(mantissa)} × 10<sup>{exponent}</sup>"
