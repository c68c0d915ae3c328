"""<cmath> functions as numba ufuncs calling the C math library, as compiled C++ does.

numpy ships its own SIMD implementations of sin, exp, log, ... whose float32 and float64
results can differ from glibc's in the last bit; ROOT calls glibc (``sinf`` for float,
``sin`` for double). These ufuncs make the same calls, keeping the argument's precision.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_SIGS = ["float32(float32)", "float64(float64)"]
_SIGS2 = ["float32(float32, float32)", "float64(float64, float64)"]


class _LazyUfunc:
    """A numba ufunc built on first use.

    Building the 25 ufuncs' wrappers (numba caches only their kernels) took seconds at every
    import, for functions most analyses never call.
    """

    def __init__(self, fn, signatures: list[str]) -> None:
        self._fn, self._signatures, self._ufunc = fn, signatures, None

    def _get(self):
        if self._ufunc is None:
            self._ufunc = numba.vectorize(self._signatures, cache=True, nopython=True)(self._fn)
        return self._ufunc

    def __call__(self, *args, **kwargs):
        return self._get()(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._get(), name)


def _make(fn, signatures: list[str] = _SIGS) -> _LazyUfunc:
    return _LazyUfunc(fn, signatures)


sin = _make(lambda x: math.sin(x))
cos = _make(lambda x: math.cos(x))
tan = _make(lambda x: math.tan(x))
asin = _make(lambda x: math.asin(x))
acos = _make(lambda x: math.acos(x))
atan = _make(lambda x: math.atan(x))
sinh = _make(lambda x: math.sinh(x))
cosh = _make(lambda x: math.cosh(x))
tanh = _make(lambda x: math.tanh(x))
asinh = _make(lambda x: math.asinh(x))
acosh = _make(lambda x: math.acosh(x))
atanh = _make(lambda x: math.atanh(x))
exp = _make(lambda x: math.exp(x))
expm1 = _make(lambda x: math.expm1(x))
log = _make(lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan))
log10 = _make(lambda x: math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan))
log2 = _make(lambda x: math.log2(x) if x > 0 else (-math.inf if x == 0 else math.nan))
log1p = _make(lambda x: math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan))
erf = _make(lambda x: math.erf(x))
erfc = _make(lambda x: math.erfc(x))
atan2 = _make(lambda y, x: math.atan2(y, x), _SIGS2)
pow = _make(lambda x, y: math.pow(x, y), _SIGS2)  # noqa: A001 - libm's pow: NaN for a negative base, non-integer exponent
hypot = _make(lambda x, y: math.hypot(x, y), _SIGS2)


def _libm(name: str, argtypes: int):
    """A C function of the math library, callable from numba code (for functions numba lacks)."""
    import ctypes
    import ctypes.util

    lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    out = []
    for ctype in (ctypes.c_float, ctypes.c_double):
        fn = getattr(lib, name + ("f" if ctype is ctypes.c_float else ""))
        fn.restype = ctype
        fn.argtypes = [ctype] * argtypes
        out.append(fn)
    return out


_cbrtf, _cbrt = _libm("cbrt", 1)
_exp2f, _exp2 = _libm("exp2", 1)


class _LazyCtypesUfunc(_LazyUfunc):
    """As _LazyUfunc, for a libm function numba calls through ctypes (not cacheable)."""

    def _get(self):
        if self._ufunc is None:
            self._ufunc = numba.vectorize(self._signatures, cache=False, nopython=True)(self._fn)
        return self._ufunc


_cbrt32 = _LazyCtypesUfunc(lambda x: _cbrtf(x), ["float32(float32)"])
_cbrt64 = _LazyCtypesUfunc(lambda x: _cbrt(x), ["float64(float64)"])
_exp2_32 = _LazyCtypesUfunc(lambda x: _exp2f(x), ["float32(float32)"])
_exp2_64 = _LazyCtypesUfunc(lambda x: _exp2(x), ["float64(float64)"])


def cbrt(x: np.ndarray) -> np.ndarray:
    return _cbrt32(x) if np.asarray(x).dtype == np.float32 else _cbrt64(x)


def exp2(x: np.ndarray) -> np.ndarray:
    return _exp2_32(x) if np.asarray(x).dtype == np.float32 else _exp2_64(x)


__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "cos", "cosh", "erf", "erfc", "exp", "exp2",
    "expm1", "hypot", "log", "log10", "log1p", "log2", "pow", "sin", "sinh", "tan", "tanh",
]  # fmt: skip
