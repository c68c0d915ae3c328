"""Per-event reductions over jagged arrays, accumulating in the element type as ROOT does.

``offsets`` has one more entry than there are events; event ``i`` owns
``values[offsets[i]:offsets[i + 1]]``. Reductions are sequential (``std::accumulate``), not
pairwise, so float32 sums round exactly as in ROOT.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _sum(offsets, values, out):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        acc = out[i]
        for j in range(offsets[i], offsets[i + 1]):
            acc += values[j]
        out[i] = acc


@numba.njit(cache=True, nogil=True)
def _extreme(offsets, values, out, valid, want_max):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        start, stop = offsets[i], offsets[i + 1]
        if stop <= start:
            valid[i] = False
            continue
        best = values[start]
        for j in range(start + 1, stop):
            v = values[j]
            # std::max_element keeps the first of equal elements and compares with '<'.
            if want_max:
                if best < v:
                    best = v
            elif v < best:
                best = v
        out[i] = best


def reduce_sum(offsets: np.ndarray, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``ROOT::VecOps::Sum``: sequential sum per event in ``dtype`` (0 for empty events)."""
    out = np.zeros(len(offsets) - 1, dtype=dtype)
    _sum(offsets, values.astype(dtype, copy=False), out)
    return out


def reduce_max(offsets: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ROOT::VecOps::Max`` per event, and a validity mask (False for empty events)."""
    out = np.zeros(len(offsets) - 1, dtype=values.dtype)
    valid = np.ones(len(offsets) - 1, dtype=np.bool_)
    _extreme(offsets, values, out, valid, True)
    return out, valid


def reduce_min(offsets: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ROOT::VecOps::Min`` per event, and a validity mask (False for empty events)."""
    out = np.zeros(len(offsets) - 1, dtype=values.dtype)
    valid = np.ones(len(offsets) - 1, dtype=np.bool_)
    _extreme(offsets, values, out, valid, False)
    return out, valid


def reduce_mean(offsets: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``ROOT::VecOps::Mean``: ``double(Sum(v)) / v.size()``, with Sum in the element type; 0 if empty."""
    dtype = np.dtype(np.int64) if values.dtype.kind in "biu" and values.dtype.itemsize < 8 else values.dtype
    if values.dtype == np.bool_:
        dtype = np.dtype(np.uint64)
    sums = reduce_sum(offsets, values, values.dtype if values.dtype.kind == "f" else dtype).astype(np.float64)
    counts = np.diff(offsets)
    out = np.zeros(len(counts), dtype=np.float64)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out
