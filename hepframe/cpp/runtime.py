"""Compiled helpers that generated C++ helper code calls (``rt.<name>`` in the generated modules).

Per-event building blocks, written once in numba: growable RVec buffers, RVec<RVec<T>> rows,
C++ integer division, the VecOps functions helpers call, and element-wise loops that keep
glibc's math (numpy's SIMD functions can differ in the last bit). Lorentz vectors come from
:mod:`udfs.genvector`; both follow ROOT 6.40 operation by operation.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from hepframe.udfs import genvector as _gv
from hepframe.udfs.genvector import *  # noqa: F403 - the generated code calls rt.<system>_<accessor>
from hepframe.udfs.kinematics import _delta_phi_one

_jit = numba.njit(cache=True, nogil=True)


# inlined where called (LLVM's always-inline), so that the caller's optimizer sees through them
_inline = numba.njit(cache=True, nogil=True, error_model="numpy", forceinline=True)


@_inline
def ptetaphim_xyzt(v):  # pragma: no cover - compiled
    return _gv.ptetaphim_x(v), _gv.ptetaphim_y(v), _gv.ptetaphim_z(v), _gv.ptetaphim_t(v)


@_inline
def ptetaphie_xyzt(v):  # pragma: no cover - compiled
    return _gv.ptetaphie_x(v), _gv.ptetaphie_y(v), _gv.ptetaphie_z(v), _gv.ptetaphie_t(v)


@_inline
def pxpypze_xyzt(v):  # pragma: no cover - compiled
    return _gv.pxpypze_x(v), _gv.pxpypze_y(v), _gv.pxpypze_z(v), _gv.pxpypze_t(v)


@_inline
def pxpypzm_xyzt(v):  # pragma: no cover - compiled
    return _gv.pxpypzm_x(v), _gv.pxpypzm_y(v), _gv.pxpypzm_z(v), _gv.pxpypzm_t(v)


@intrinsic
def event_view(typingctx, values, start, stop):
    """``values[start:stop]`` as an array that holds no reference to ``values`` (a null meminfo).

    The batch functions pass each event's RVecs this way: a slice would count references to
    the column (two atomic operations per RVec and event, more than many helpers' work). The
    view lives only during the event's call, while the batch function holds the column; the
    batch function checks ``start <= stop <= len(values)`` first. ``values`` is C-contiguous,
    1-D, or 2-D for RVecs of Lorentz vectors (rows of 4).
    """
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        column = context.make_array(array_type)(context, builder, args[0])
        view = context.make_array(array_type)(context, builder)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(array_type.dtype)))
        begin = context.cast(builder, args[1], signature.args[1], types.intp)
        end = context.cast(builder, args[2], signature.args[2], types.intp)
        shape = cgutils.unpack_tuple(builder, column.shape, array_type.ndim)
        strides = cgutils.unpack_tuple(builder, column.strides, array_type.ndim)
        row = builder.sdiv(strides[0], itemsize)  # elements per row
        populate_array(view, data=builder.gep(column.data, [builder.mul(begin, row)]),
                       shape=[builder.sub(end, begin), *shape[1:]], strides=strides, itemsize=itemsize,
                       meminfo=None)  # fmt: skip
        return view._getvalue()

    if not (isinstance(values, types.Array) and values.layout == "C" and values.ndim in (1, 2)):
        return None
    return values(values, start, stop), codegen


# -- RVec buffers: (values, size); capacity doubles ------------------------------------------------


@_jit
def push(buf, n, x):  # pragma: no cover - compiled
    if n == len(buf):
        grown = np.empty(max(8, 2 * len(buf)), buf.dtype)
        grown[:n] = buf[:n]
        buf = grown
    buf[n] = x
    return buf, n + 1


@_jit
def push4(buf, n, v):  # pragma: no cover - compiled
    if n == len(buf):
        grown = np.empty((max(8, 2 * len(buf)), 4), np.float64)
        grown[:n] = buf[:n]
        buf = grown
    buf[n, 0], buf[n, 1], buf[n, 2], buf[n, 3] = v
    return buf, n + 1


@_jit
def resize(buf, n, size, fill):  # pragma: no cover - compiled
    size = np.int64(size)  # int(uint64) stays unsigned, and unsigned + int is float in numba
    if size > len(buf):
        grown = np.empty(size, buf.dtype)
        grown[:n] = buf[:n]
        buf = grown
    for k in range(n, size):
        buf[k] = fill
    return buf, size


@_jit
def empty4(capacity):  # pragma: no cover - compiled
    return np.empty((capacity, 4), np.float64)


@_jit
def full4(n, v):  # pragma: no cover - compiled
    out = np.empty((np.int64(n), 4), np.float64)
    for i in range(np.int64(n)):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = v
    return out


@_jit
def row4(a, i):  # pragma: no cover - compiled
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@_jit
def set_row4(a, i, v):  # pragma: no cover - compiled
    a[i, 0], a[i, 1], a[i, 2], a[i, 3] = v


# -- a batch's scratch buffers: an event's values that die with its call, without an allocation ----------


@_inline
def scratch_or_new(scratch, n):  # pragma: no cover - compiled
    """``n`` elements of ``scratch`` (a view that counts no references, as ``event_view``), or a new array."""
    n = np.int64(n)
    return event_view(scratch, 0, n) if n <= len(scratch) else np.empty(n, scratch.dtype)  # type: ignore[call-arg]


@_inline
def scratch4_or_new(scratch, n):  # pragma: no cover - compiled
    """``n`` rows of ``scratch`` (an RVec of Lorentz vectors: rows of 4), or a new array."""
    n = np.int64(n)
    return event_view(scratch, 0, n) if n <= len(scratch) else np.empty((n, 4), np.float64)  # type: ignore[call-arg]


@_inline
def full_into(scratch, n, fill):  # pragma: no cover - compiled
    """``RVec<T>(n, fill)`` for a batch's reused result buffer."""
    out = scratch_or_new(scratch, n)
    out[:] = fill
    return out


@_inline
def tuple_into(scratch, values):  # pragma: no cover - compiled
    """``return {a, b, c};`` for a batch's reused result buffer."""
    out = scratch_or_new(scratch, len(values))
    for k in range(len(values)):
        out[k] = values[k]
    return out


# -- RVec<RVec<T>>: (data, row sizes), one row per element ----------------------------------------


@_jit
def new_rows(n, zero):  # pragma: no cover - compiled
    return np.full((np.int64(n), 4), zero), np.zeros(np.int64(n), np.int64)


@_jit
def row(rows, i):  # pragma: no cover - compiled
    data, sizes = rows
    if i < 0 or i >= len(sizes):
        raise IndexError("RVec<RVec<T>> index out of range")
    return data[i, : sizes[i]]


@_jit
def item2(rows, k, i):  # pragma: no cover - compiled
    """``m[k][i]`` of an RVec<RVec<T>>, both indices checked."""
    data, sizes = rows
    if k < 0 or k >= len(sizes) or i < 0 or i >= sizes[k]:
        raise IndexError("RVec<RVec<T>> index out of range")
    return data[k, i]


@_jit
def row_size(rows, k):  # pragma: no cover - compiled
    sizes = rows[1]
    if k < 0 or k >= len(sizes):
        raise IndexError("RVec<RVec<T>> index out of range")
    return sizes[k]


@_jit
def row_push(rows, i, x):  # pragma: no cover - compiled
    data, sizes = rows
    if i < 0 or i >= len(sizes):
        raise IndexError("RVec<RVec<T>> index out of range")
    if sizes[i] == data.shape[1]:
        grown = np.empty((data.shape[0], max(4, 2 * data.shape[1])), data.dtype)
        grown[:, : data.shape[1]] = data
        data = grown
    data[i, sizes[i]] = x
    sizes[i] += 1
    return data, sizes


@_jit
def event_rows(values, inner, outer, i):  # pragma: no cover - compiled
    """Event i's RVec<RVec<T>> from a column's (values, inner offsets, outer offsets): (padded rows, sizes)."""
    first, n = outer[i], outer[i + 1] - outer[i]
    width = 4
    for r in range(first, first + n):
        width = max(width, inner[r + 1] - inner[r])
    data = np.zeros((n, width), values.dtype)
    sizes = np.empty(n, np.int64)
    for k in range(n):
        start, m = inner[first + k], inner[first + k + 1] - inner[first + k]
        sizes[k] = m
        for j in range(m):
            data[k, j] = values[start + j]
    return data, sizes


@_jit
def combinations(n, k):  # pragma: no cover - compiled
    """``Combinations(v, k)`` for ``v.size() == n``: k rows of indices, in ROOT's (lexicographic) order."""
    n, k = np.int64(n), np.int64(k)
    if k > n:
        raise ValueError("Combinations: cannot make unique combinations of size k from an RVec of size n < k (as ROOT)")
    count = 0
    if 0 < k <= n:
        count = 1
        for j in range(k):  # n choose k
            count = count * (n - j) // (j + 1)
    data = np.empty((k, count), np.uint64)
    idx = np.empty(k, np.int64)
    for j in range(k):
        idx[j] = j
    for c in range(count):
        for j in range(k):
            data[j, c] = idx[j]
        j = k - 1
        while j >= 0 and idx[j] == n - k + j:
            j -= 1
        if j >= 0:
            idx[j] += 1
            for m in range(j + 1, k):
                idx[m] = idx[m - 1] + 1
    return data, np.full(k, count, np.int64)


@_jit
def combinations2(n1, n2):  # pragma: no cover - compiled
    """``Combinations(v1, v2)``: all (i, j) pairs, i outer."""
    n1, n2 = np.int64(n1), np.int64(n2)
    data = np.empty((2, n1 * n2), np.uint64)
    for i in range(n1):
        for j in range(n2):
            data[0, i * n2 + j] = i
            data[1, i * n2 + j] = j
    return data, np.full(2, n1 * n2, np.int64)



# -- Combinations read only as c[r][i] and c[r].size(): no arrays per event ------------------------------
# The code generator uses these when a variable holding Combinations(...) is only read element by
# element (the usual helper loop), so an event costs no allocation: the index rows of
# Combinations(v, k) for v.size() <= _COMB_LIMITS[k] are read from one table built at import
# (uint8, about 150 kB); larger sizes are unranked, and Combinations(a, b) is i / n2, i % n2.
_COMB_LIMITS = {1: 64, 2: 32, 3: 24, 4: 16}


def _combination_table() -> tuple[np.ndarray, np.ndarray]:
    from itertools import combinations as lexicographic  # the order ROOT's Combinations(v, k) uses

    starts = np.full((len(_COMB_LIMITS) + 1, max(_COMB_LIMITS.values()) + 1), -1, np.int64)
    chunks, position = [], 0
    for k, limit in _COMB_LIMITS.items():
        for n in range(limit + 1):
            rows = np.array(list(lexicographic(range(n), k)), np.uint8).reshape(-1, k).T  # k rows of indices
            starts[k, n] = position
            chunks.append(rows.ravel())
            position += rows.size
    return np.concatenate(chunks), starts


_COMB_TABLE, _COMB_STARTS = _combination_table()


@_jit
def _binomial(n, k):  # pragma: no cover - compiled
    if k < 0 or k > n:
        return 0
    count = 1
    for j in range(k):
        count = count * (n - j) // (j + 1)
    return count


@_jit
def comb(n, k):  # pragma: no cover - compiled
    """``Combinations(v, k)`` for ``v.size() == n``, as (n, k, count, table start or -1, 0)."""
    n, k = np.int64(n), np.int64(k)
    if k > n:
        raise ValueError("Combinations: cannot make unique combinations of size k from an RVec of size n < k (as ROOT)")
    count = _binomial(n, k) if k > 0 else 0
    start = -1
    if 0 < k < _COMB_STARTS.shape[0] and n < _COMB_STARTS.shape[1]:
        start = _COMB_STARTS[k, n]
    return n, k, count, start, np.int64(0)


@_jit
def comb2(n1, n2):  # pragma: no cover - compiled
    """``Combinations(a, b)``: all (i, j) pairs, i outer, as (n1, 2, n1 * n2, -2, n2)."""
    n1, n2 = np.int64(n1), np.int64(n2)
    return n1, np.int64(2), n1 * n2, np.int64(-2), n2


@_inline
def comb_item(c, r, i):  # pragma: no cover - compiled
    """``c[r][i]``: index r of combination i, both checked."""
    n, k, count, start, n2 = c
    if r < 0 or r >= k or i < 0 or i >= count:
        raise IndexError("RVec<RVec<T>> index out of range")
    if start >= 0:
        return np.uint64(_COMB_TABLE[start + r * count + i])
    if start == -2:
        return np.uint64(i // n2 if r == 0 else i % n2)
    x = 0  # unrank: combination i in lexicographic order, element by element
    for j in range(r + 1):
        while True:
            starting_here = _binomial(n - x - 1, k - j - 1)
            if i < starting_here:
                break
            i -= starting_here
            x += 1
        if j < r:
            x += 1
    return np.uint64(x)


@_inline
def comb_size(c, r):  # pragma: no cover - compiled
    """``c[r].size()``."""
    if r < 0 or r >= c[1]:
        raise IndexError("RVec<RVec<T>> index out of range")
    return c[2]


# -- C++ arithmetic and <cmath> ------------------------------------------------------------------------


@_jit
def idiv(a, b):  # pragma: no cover - compiled
    """C++ integer division: truncates toward zero (Python's // floors). No abs(): INT_MIN / 2 is exact."""
    q = a // b
    if q * b != a and (a < 0) != (b < 0):
        q += 1
    return q


@_jit
def imod(a, b):  # pragma: no cover - compiled
    """C++ ``%``: the remainder has the dividend's sign."""
    return a - b * idiv(a, b)


@_jit
def clog(x):  # pragma: no cover - compiled
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@_jit
def clog10(x):  # pragma: no cover - compiled
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@_jit
def clog2(x):  # pragma: no cover - compiled
    return math.log2(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@_jit
def clog1p(x):  # pragma: no cover - compiled
    return math.log1p(x) if x > -1 else (-math.inf if x == -1 else math.nan)


@_jit
def cround(x):  # pragma: no cover - compiled
    """std::round: halves away from zero."""
    t = np.trunc(x)
    if abs(x - t) >= 0.5:
        t += 1 if x > 0 else -1
    return t


@_jit
def delta_phi(v1, v2, c):  # pragma: no cover - compiled
    """VecOps::DeltaPhi in double (the caller converts to the argument type, as C++ returns T)."""
    return _delta_phi_one(v1, v2, c)


@_jit
def delta_r_float32(eta1, eta2, phi1, phi2, c):  # pragma: no cover - compiled
    """VecOps::DeltaR(float...): DeltaPhi converted to float, then float arithmetic."""
    dphi = np.float32(_delta_phi_one(phi1, phi2, c))
    deta = eta1 - eta2
    return np.float32(math.sqrt(deta * deta + dphi * dphi))


@_jit
def delta_r_float64(eta1, eta2, phi1, phi2, c):  # pragma: no cover - compiled
    dphi = _delta_phi_one(phi1, phi2, c)
    deta = eta1 - eta2
    return math.sqrt(deta * deta + dphi * dphi)


# -- VecOps reductions and selections (per event) -------------------------------------------------------


@_jit
def vsum(v, zero):  # pragma: no cover - compiled
    acc = zero
    for x in v:
        acc += x
    return acc


@_jit
def vmax(v):  # pragma: no cover - compiled
    """``*std::max_element``: the first largest element (``<`` comparisons)."""
    if len(v) == 0:
        raise IndexError("Max of an empty RVec")
    best = v[0]
    for x in v[1:]:
        if best < x:
            best = x
    return best


@_jit
def vmin(v):  # pragma: no cover - compiled
    if len(v) == 0:
        raise IndexError("Min of an empty RVec")
    best = v[0]
    for x in v[1:]:
        if x < best:
            best = x
    return best


@_jit
def argmax(v):  # pragma: no cover - compiled
    if len(v) == 0:
        raise IndexError("ArgMax of an empty RVec")
    best = 0
    for i in range(1, len(v)):
        if v[best] < v[i]:
            best = i
    return np.uint64(best)


@_jit
def argmin(v):  # pragma: no cover - compiled
    if len(v) == 0:
        raise IndexError("ArgMin of an empty RVec")
    best = 0
    for i in range(1, len(v)):
        if v[i] < v[best]:
            best = i
    return np.uint64(best)


@_jit
def vany(v):  # pragma: no cover - compiled
    for x in v:
        if x != 0:
            return True
    return False


@_jit
def vall(v):  # pragma: no cover - compiled
    for x in v:
        if x == 0:
            return False
    return True


@_jit
def vsort(v):  # pragma: no cover - compiled
    return np.sort(v)  # ascending, NaN last (as hepframe's engines)


@_jit
def argsort(v):  # pragma: no cover - compiled
    return np.argsort(v, kind="mergesort").astype(np.uint64)


@_jit
def reverse(v):  # pragma: no cover - compiled
    return v[::-1].copy()


@_jit
def take(v, idx):  # pragma: no cover - compiled
    out = np.empty(len(idx), v.dtype)
    for k in range(len(idx)):
        i = np.int64(idx[k])
        if i < 0 or i >= len(v):
            raise IndexError("Take: index out of range")
        out[k] = v[i]
    return out


@_jit
def take_n(v, n):  # pragma: no cover - compiled
    """Take(v, n): the first n elements, or the last |n| for n < 0; more than v has is an error, as in ROOT."""
    m = abs(np.int64(n))
    if m > len(v):
        raise IndexError("Take: more elements requested than the RVec holds")
    return v[:m].copy() if n >= 0 else v[len(v) - m :].copy()


@_jit
def concatenate(a, b):  # pragma: no cover - compiled
    out = np.empty(len(a) + len(b), a.dtype)
    out[: len(a)] = a
    out[len(a) :] = b
    return out


@_jit
def nonzero(v):  # pragma: no cover - compiled
    return np.nonzero(v)[0].astype(np.uint64)


@_jit
def map4(convert, a):  # pragma: no cover - compiled
    out = np.empty((len(a), 4), np.float64)
    for i in range(len(a)):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = convert((a[i, 0], a[i, 1], a[i, 2], a[i, 3]))
    return out

