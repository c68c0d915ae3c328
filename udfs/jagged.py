"""Per-event reductions over jagged arrays, accumulating in the element type as ROOT does.

``offsets`` has one more entry than there are events; event ``i`` owns
``values[offsets[i]:offsets[i + 1]]``. Reductions are sequential (``std::accumulate``), not
pairwise, so float32 sums round exactly as in ROOT.
"""

from __future__ import annotations

import numba
import numpy as np

# -- per-event algorithms -------------------------------------------------------------------
# Each ``*_of(values, start, stop, ...)`` is one RVec's computation, written once: the batch loops
# below compile it for the CPU, and hepframe.engines.gpu_kernels for CUDA (one thread per event).
# They return their result (no stores inside: LLVM keeps the loops as tight as hand-written ones).


def sum_of(values, start, stop, acc):  # pragma: no cover - compiled
    for j in range(start, stop):
        acc += values[j]
    return acc


def product_of(values, start, stop, acc):  # pragma: no cover - compiled
    for j in range(start, stop):
        acc *= values[j]
    return acc


def max_of(values, start, stop):  # pragma: no cover - compiled
    """The largest of a non-empty range: std::max_element keeps the first of equal ones, compares with '<'."""
    best = values[start]
    for j in range(start + 1, stop):
        if best < values[j]:
            best = values[j]
    return best


def min_of(values, start, stop):  # pragma: no cover - compiled
    best = values[start]
    for j in range(start + 1, stop):
        if values[j] < best:
            best = values[j]
    return best


def argmax_of(values, start, stop):  # pragma: no cover - compiled
    best = start
    for j in range(start + 1, stop):
        if values[best] < values[j]:
            best = j
    return best - start


def argmin_of(values, start, stop):  # pragma: no cover - compiled
    best = start
    for j in range(start + 1, stop):
        if values[j] < values[best]:
            best = j
    return best - start


_inline = numba.njit(cache=True, nogil=True, forceinline=True)
_sum_of, _product_of, _max_of, _min_of = _inline(sum_of), _inline(product_of), _inline(max_of), _inline(min_of)
_argmax_of, _argmin_of = _inline(argmax_of), _inline(argmin_of)


@numba.njit(cache=True, nogil=True)
def _sum(offsets, values, out):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        out[i] = _sum_of(values, offsets[i], offsets[i + 1], out[i])


@numba.njit(cache=True, nogil=True)
def _extreme(offsets, values, out, valid, want_max):  # pragma: no cover - compiled
    if want_max:
        for i in range(len(offsets) - 1):
            if offsets[i + 1] > offsets[i]:
                out[i] = _max_of(values, offsets[i], offsets[i + 1])
            else:
                valid[i] = False
    else:
        for i in range(len(offsets) - 1):
            if offsets[i + 1] > offsets[i]:
                out[i] = _min_of(values, offsets[i], offsets[i + 1])
            else:
                valid[i] = False


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


@numba.njit(cache=True, nogil=True)
def _product(offsets, values, out):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        out[i] = _product_of(values, offsets[i], offsets[i + 1], out[i])


def reduce_product(offsets: np.ndarray, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``ROOT::VecOps::Product``: sequential product per event in ``dtype`` (1 for empty events)."""
    out = np.ones(len(offsets) - 1, dtype=dtype)
    _product(offsets, values.astype(dtype, copy=False), out)
    return out


def var_of(values, start, stop, zero):  # pragma: no cover - compiled
    """ROOT's Var<T> of one RVec of at least two elements: the sums accumulate in T (``zero``'s type)."""
    sum_squares = zero
    squared_sum = zero
    for j in range(start, stop):
        x = values[j]
        sum_squares += x * x
        squared_sum += x
    squared_sum *= squared_sum
    dsize = np.float64(stop - start)
    return 1.0 / (dsize - 1.0) * (np.float64(sum_squares) - np.float64(squared_sum) / dsize)


_var_of = _inline(var_of)


@numba.njit(cache=True, nogil=True)
def _var(offsets, values, zero, out):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        out[i] = _var_of(values, offsets[i], offsets[i + 1], zero) if offsets[i + 1] - offsets[i] >= 2 else 0.0


def reduce_var(offsets: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``ROOT::VecOps::Var``: sums in the element type (as ROOT), result in double; 0 below 2 elements."""
    n = len(offsets) - 1
    if values.dtype == np.bool_:
        # ROOT accumulates in bool: both sums are "any element true" (0 or 1).
        counts = np.diff(offsets).astype(np.float64)
        anyv = reduce_sum(offsets, values.astype(np.int64), np.dtype(np.int64)) > 0
        s = anyv.astype(np.float64)
        out = np.zeros(n, dtype=np.float64)
        big = counts >= 2
        out[big] = 1.0 / (counts[big] - 1.0) * (s[big] - (s[big] * s[big]) / counts[big])
        return out
    dtype = values.dtype if values.dtype.kind == "f" else np.dtype(np.int64)
    out = np.zeros(n, dtype=np.float64)
    _var(offsets, values.astype(dtype, copy=False), dtype.type(0), out)
    return out


@numba.njit(cache=True, nogil=True)
def _arg_extreme(offsets, values, out, valid, want_max):  # pragma: no cover - compiled
    if want_max:
        for i in range(len(offsets) - 1):
            if offsets[i + 1] > offsets[i]:
                out[i] = _argmax_of(values, offsets[i], offsets[i + 1])
            else:
                valid[i] = False
    else:
        for i in range(len(offsets) - 1):
            if offsets[i + 1] > offsets[i]:
                out[i] = _argmin_of(values, offsets[i], offsets[i + 1])
            else:
                valid[i] = False


def reduce_argmax(offsets: np.ndarray, values: np.ndarray, want_max: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``ArgMax``/``ArgMin``: index of the first extreme element, and validity (False if empty)."""
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.uint64)
    valid = np.ones(n, dtype=np.bool_)
    _arg_extreme(offsets, values, out, valid, want_max)
    return out, valid


@numba.njit(cache=True, nogil=True)
def _intersect(off1, v1, off2, v2, keep):  # pragma: no cover - compiled
    for i in range(len(off1) - 1):
        seg = np.sort(v2[off2[i] : off2[i + 1]])
        for j in range(off1[i], off1[i + 1]):
            k = np.searchsorted(seg, v1[j])
            keep[j] = k < len(seg) and seg[k] == v1[j]


def intersect_mask(off1: np.ndarray, v1: np.ndarray, off2: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Mask of the elements of v1 present in the same event's v2 (``ROOT::VecOps::Intersect``)."""
    keep = np.zeros(len(v1), dtype=np.bool_)
    _intersect(off1, v1, off2, v2.astype(v1.dtype, copy=False), keep)
    return keep


def combination_count(s, k):  # pragma: no cover - compiled
    """C(s, k) for k <= s, in integers."""
    c = 1
    for m in range(1, k + 1):
        c = c * (s - k + m) // m
    return c


def write_combinations(s, k, idx, rows, col):  # pragma: no cover - compiled
    """One event's k-combinations of ``range(s)`` into ``rows[:, col:]``, in ROOT's order.

    The order is lexicographic; ``idx`` is scratch space for k indices. Written once: compiled
    here and for CUDA.
    """
    for m in range(k):
        idx[m] = m
    while True:
        for m in range(k):
            rows[m, col] = idx[m]
        col += 1
        pos = k - 1
        while pos >= 0 and idx[pos] == pos + s - k:
            pos -= 1
        if pos < 0:
            return
        idx[pos] += 1
        for m in range(pos + 1, k):
            idx[m] = idx[m - 1] + 1


_combination_count, _write_combinations = _inline(combination_count), _inline(write_combinations)


@numba.njit(cache=True, nogil=True)
def _combination_counts(sizes, k, out, valid):  # pragma: no cover - compiled
    for i in range(len(sizes)):
        if k > sizes[i]:
            valid[i] = False
            out[i] = 0
        else:
            out[i] = _combination_count(sizes[i], k)


@numba.njit(cache=True, nogil=True)
def _combinations(sizes, k, counts, starts, out):  # pragma: no cover - compiled
    # out has shape (k, total); event i's combinations occupy columns starts[i]:starts[i]+counts[i].
    idx = np.empty(k, dtype=np.int64)
    for i in range(len(sizes)):
        if counts[i] != 0:
            _write_combinations(sizes[i], k, idx, out, starts[i])


def combinations(sizes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index combinations per event: (k x total indices, combinations per event, validity)."""
    n = len(sizes)
    counts = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=np.bool_)
    _combination_counts(sizes.astype(np.int64), k, counts, valid)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out = np.zeros((k, int(counts.sum())), dtype=np.uint64)
    if k > 0:
        _combinations(sizes.astype(np.int64), k, counts, starts, out)
    return out, counts, valid


@numba.njit(cache=True, nogil=True)
def _select(offsets, values, keep, out_offsets, out):  # pragma: no cover - compiled
    k = 0
    for ev in range(len(offsets) - 1):
        out_offsets[ev] = k
        for j in range(offsets[ev], offsets[ev + 1]):
            out[k] = values[j]  # branch-free: write always, advance where kept
            k += keep[j] != 0
    out_offsets[len(offsets) - 1] = k
    return k


def select(offsets: np.ndarray, values: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v[mask]`` in one pass: new offsets and the kept values (``keep`` is truthy where kept)."""
    out_offsets = np.empty(len(offsets), dtype=np.int64)
    out = np.empty(len(values), dtype=values.dtype)
    k = _select(offsets, values, keep, out_offsets, out)
    return out_offsets, out[:k]


@numba.njit(cache=True, nogil=True)
def _concatenate(off_a, a, off_b, b, out_offsets, out):  # pragma: no cover - compiled
    k = 0
    for ev in range(len(off_a) - 1):
        out_offsets[ev] = k
        for j in range(off_a[ev], off_a[ev + 1]):
            out[k] = a[j]
            k += 1
        for j in range(off_b[ev], off_b[ev + 1]):
            out[k] = b[j]
            k += 1
    out_offsets[len(off_a) - 1] = k


def concatenate(off_a: np.ndarray, a: np.ndarray, off_b: np.ndarray, b: np.ndarray, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``ROOT::VecOps::Concatenate(a, b)`` per event, converted to ``dtype``, in one pass."""
    out_offsets = np.empty(len(off_a), dtype=np.int64)
    out = np.empty(len(a) + len(b), dtype=dtype)
    _concatenate(off_a, a.astype(dtype, copy=False), off_b, b.astype(dtype, copy=False), out_offsets, out)
    return out_offsets, out


@numba.njit(cache=True, nogil=True)
def _take(v_offsets, values, idx_offsets, idx, out, ok_event):  # pragma: no cover - compiled
    for ev in range(len(idx_offsets) - 1):
        start, size = v_offsets[ev], v_offsets[ev + 1] - v_offsets[ev]
        for j in range(idx_offsets[ev], idx_offsets[ev + 1]):
            i = idx[j]
            if 0 <= i < size:
                out[j] = values[start + i]
            else:
                ok_event[ev] = False


def take(v_offsets: np.ndarray, values: np.ndarray, idx_offsets: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``v[idx]`` per event in one pass.

    Returns the taken values (0 where an index is out of range) and whether every index of each
    event was in range.
    """
    if idx.dtype.kind == "u" and idx.dtype.itemsize == 8:
        idx = idx.view(np.int64)  # indices >= 2**63 turn negative: out of range either way
    out = np.zeros(len(idx), dtype=values.dtype)
    ok_event = np.ones(len(idx_offsets) - 1, dtype=np.bool_)
    _take(v_offsets, values, idx_offsets, idx.astype(np.int64, copy=False), out, ok_event)
    return out, ok_event


@numba.njit(cache=True, nogil=True)
def _fold_extreme(values, acc, want_max):  # pragma: no cover - compiled
    for i in range(len(values)):
        v = np.float64(values[i])
        # RDataFrame's MaxHelper/MinHelper: acc = std::max(v, acc) / std::min(v, acc), in that order,
        # so a NaN value replaces the accumulator and a later number replaces a NaN.
        if want_max:
            acc = acc if v < acc else v
        else:
            acc = acc if acc < v else v
    return acc


def fold_extreme(values: np.ndarray, acc: float, want_max: bool) -> float:
    """Continue ROOT's Max/Min accumulation over ``values`` (double precision)."""
    return float(_fold_extreme(np.ascontiguousarray(values), float(acc), want_max)) if len(values) else acc
