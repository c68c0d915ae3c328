"""Comparisons of float values with a double constant, done in float, with C++'s results.

C++ compares ``float x`` with ``double c`` as ``(double)x < c``. Converting every value to
double costs a pass and a buffer of twice the size; comparing with a float threshold gives the
same answer for every x, NaN and infinities included: x < c exactly when x < the smallest float
>= c, and x <= c exactly when x <= the largest float <= c (no float lies strictly between them
and c). ``x == c`` can only hold when c is a float value itself.
"""

from __future__ import annotations

import numpy as np

#: ``c op x`` is ``x FLIPPED[op] c``.
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def float_threshold(op: str, c: float) -> np.float32 | None:
    """The float ``t`` such that ``float x op t`` equals ``(double)x op c`` for every x; None if there is none."""
    with np.errstate(over="ignore"):
        nearest = np.float32(c)  # beyond float's range: an infinity
    if np.isnan(c) or float(nearest) == c:
        return nearest  # c is a float value (or NaN: every comparison is false, != true, in both)
    if op in ("==", "!="):
        return None  # never equal: a constant, not a threshold (rare; left to the general path)
    up = nearest if float(nearest) > c else np.nextafter(nearest, np.float32(np.inf))
    down = nearest if float(nearest) < c else np.nextafter(nearest, np.float32(-np.inf))
    return up if op in ("<", ">=") else down
