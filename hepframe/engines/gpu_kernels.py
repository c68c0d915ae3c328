# mypy: disable-error-code="call-arg,var-annotated"
"""CUDA kernels of the GPU engine (numba-cuda; the same code runs in numba's CUDA simulator).

Every kernel is one thread per event (or per element for element-wise operations), over the
Arrow layout the engine keeps on the device: flat values plus int64 offsets. Per-RVec algorithms
shared with the CPU (reductions, extremes) come from :mod:`udfs.jagged`, written once and
compiled here as device functions. Prefix sums are two passes over chunks, so every result is
deterministic. Kernels are compiled on first launch and specialised on their argument types.

Importing this module needs numba, not a GPU: nothing is compiled until a kernel is launched.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from numba import cuda

from hepframe.udfs import jagged, kinematics

THREADS = 128
#: Elements summed by one thread in the first pass of a prefix sum.
SCAN_CHUNK = 256


def launch(kernel: Any, n: int, *args: Any) -> None:
    """Run ``kernel`` on ``n`` threads (kernels ignore threads past their size)."""
    if n > 0:
        threads = min(n, THREADS)
        kernel[(n + threads - 1) // threads, threads](*args)


def device_function(fn: Callable) -> Any:
    return cuda.jit(device=True)(fn)


_sum_of, _product_of = device_function(jagged.sum_of), device_function(jagged.product_of)
_max_of, _min_of = device_function(jagged.max_of), device_function(jagged.min_of)
_argmax_of, _argmin_of = device_function(jagged.argmax_of), device_function(jagged.argmin_of)
_var_of = device_function(jagged.var_of)


# -- element-wise ---------------------------------------------------------------------------------
# Kernels are made per operation name from the functions of the C++ operations section below.


@cache
def unary(name: str) -> Any:
    """``out[i] = op(a[i])``; the store converts to ``out``'s element type."""
    f = device_function(UNARY[name])

    @cuda.jit
    def kernel(a, out):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            out[i] = f(a[i])

    return kernel


@cache
def binary(name: str) -> Any:
    """``out[i] = op(a[i], b[i])``."""
    f = device_function(BINARY[name])

    @cuda.jit
    def kernel(a, b, out):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            out[i] = f(a[i], b[i])

    return kernel


@cache
def checked_binary(name: str) -> Any:
    """Integer ``/`` or ``%``: a zero divisor leaves 0 and marks the event (``event[i]``) undefined."""
    f = device_function(int_div if name == "/" else int_rem)

    @cuda.jit
    def kernel(a, b, event, out, valid):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            if b[i] == 0:
                out[i] = 0
                valid[event[i]] = False
            else:
                out[i] = f(a[i], b[i])

    return kernel


@cuda.jit
def where(cond, a, b, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = a[i] if cond[i] else b[i]


@cuda.jit
def iota(start, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = start + i


@cuda.jit
def fill(out, value):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = value


# -- layout: offsets, parents, prefix sums --------------------------------------------------------


@cuda.jit
def counts_of(offsets, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = offsets[i + 1] - offsets[i]


@cuda.jit
def parents_of(offsets, out):  # pragma: no cover - compiled
    """The event of each element."""
    i = cuda.grid(1)
    if i < offsets.size - 1:
        for j in range(offsets[i], offsets[i + 1]):
            out[j] = i


@cuda.jit
def _chunk_sums(counts, chunk, sums):  # pragma: no cover - compiled
    t = cuda.grid(1)
    if t < sums.size:
        acc = 0
        for j in range(t * chunk, min((t + 1) * chunk, counts.size)):
            acc += counts[j]
        sums[t] = acc


@cuda.jit
def _chunk_scan(counts, chunk, bases, offsets):  # pragma: no cover - compiled
    t = cuda.grid(1)
    if t < bases.size:
        acc = bases[t]
        for j in range(t * chunk, min((t + 1) * chunk, counts.size)):
            acc += counts[j]
            offsets[j + 1] = acc


def offsets_from_counts(counts: Any) -> tuple[Any, int]:
    """Int64 offsets (``n + 1``) from per-event counts on the device, and their total.

    Two passes over chunks of :data:`SCAN_CHUNK` events; the chunk totals (one per chunk, a few
    hundred bytes per million events) are summed on the host.
    """
    n = counts.size
    offsets = cuda.device_array(n + 1, np.int64)
    launch(fill, 1, offsets[:1], 0)
    if n == 0:
        return offsets, 0
    chunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    sums = cuda.device_array(chunks, np.int64)
    launch(_chunk_sums, chunks, counts, SCAN_CHUNK, sums)
    host = sums.copy_to_host()
    bases = np.zeros(chunks, np.int64)
    np.cumsum(host[:-1], out=bases[1:])
    launch(_chunk_scan, chunks, counts, SCAN_CHUNK, cuda.to_device(bases), offsets)
    return offsets, int(host.sum())


# -- rows: take, scatter ---------------------------------------------------------------------------


@cuda.jit
def gather(src, rows, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = src[rows[i]]


@cuda.jit
def scatter(src, rows, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < src.size:
        out[rows[i]] = src[i]


@cuda.jit
def gather_lists(offsets, values, rows, out_offsets, out):  # pragma: no cover - compiled
    """The elements of events ``rows``, in order, into ``out`` (laid out by ``out_offsets``)."""
    i = cuda.grid(1)
    if i < rows.size:
        start = offsets[rows[i]]
        dest = out_offsets[i]
        for j in range(offsets[rows[i] + 1] - start):
            out[dest + j] = values[start + j]


@cuda.jit
def positions(mask, pos, out):  # pragma: no cover - compiled
    """The indices where ``mask`` holds, given ``pos`` = the exclusive prefix sum of ``mask``."""
    i = cuda.grid(1)
    if i < mask.size and mask[i]:
        out[pos[i]] = i


# -- per-event operations on RVecs ----------------------------------------------------------------


@cuda.jit
def count_true(offsets, mask, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        c = 0
        for j in range(offsets[i], offsets[i + 1]):
            if mask[j]:
                c += 1
        out[i] = c


@cuda.jit
def select(offsets, values, mask, out_offsets, out):  # pragma: no cover - compiled
    """``v[mask]``: each event's elements where ``mask`` holds, in order."""
    i = cuda.grid(1)
    if i < out_offsets.size - 1:
        k = out_offsets[i]
        for j in range(offsets[i], offsets[i + 1]):
            if mask[j]:
                out[k] = values[j]
                k += 1


@cuda.jit
def element(offsets, values, index, out, valid):  # pragma: no cover - compiled
    """``v[i]``: undefined when ``i`` is out of range (C++: undefined behaviour)."""
    i = cuda.grid(1)
    if i < out.size:
        k = index[i]
        if 0 <= k < offsets[i + 1] - offsets[i]:
            out[i] = values[offsets[i] + k]
        else:
            out[i] = 0
            valid[i] = False


@cuda.jit
def reduce_sum(offsets, values, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = _sum_of(values, offsets[i], offsets[i + 1], out[i])


@cuda.jit
def reduce_product(offsets, values, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = _product_of(values, offsets[i], offsets[i + 1], out[i])


def _extreme_kernel(of: Any) -> Any:
    @cuda.jit
    def kernel(offsets, values, out, valid):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            if offsets[i + 1] > offsets[i]:
                out[i] = of(values, offsets[i], offsets[i + 1])
            else:
                valid[i] = False

    return kernel


EXTREMES = {
    "Max": _extreme_kernel(_max_of), "Min": _extreme_kernel(_min_of),
    "ArgMax": _extreme_kernel(_argmax_of), "ArgMin": _extreme_kernel(_argmin_of),
}  # fmt: skip


@cuda.jit
def reduce_var(offsets, values, zero, out):  # pragma: no cover - compiled
    """ROOT's Var: sums in the element type, the result in double; 0 below two elements."""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = _var_of(values, offsets[i], offsets[i + 1], zero) if offsets[i + 1] - offsets[i] >= 2 else 0.0


@cuda.jit
def member(off1, v1, off2, v2, keep):  # pragma: no cover - compiled
    """``Intersect``: whether each element of v1 is in the same event's v2 (NaN never is)."""
    i = cuda.grid(1)
    if i < off1.size - 1:
        for j in range(off1[i], off1[i + 1]):
            found = False
            for m in range(off2[i], off2[i + 1]):
                if v1[j] == v2[m]:
                    found = True
                    break
            keep[j] = found


@cuda.jit
def any_all(offsets, values, want_all, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        result = want_all
        for j in range(offsets[i], offsets[i + 1]):
            if (values[j] != 0) != want_all:
                result = not want_all
                break
        out[i] = result


@cuda.jit
def mismatched(offsets_a, offsets_b, valid, out):  # pragma: no cover - compiled
    """Events whose two RVecs differ in size (and which are defined)."""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = valid[i] and (offsets_a[i + 1] - offsets_a[i]) != (offsets_b[i + 1] - offsets_b[i])


# -- C++ operations --------------------------------------------------------------------------------
# Plain functions, compiled as device functions by the kernels above (the simulator runs them as
# Python). The IR has already converted both operands to one C++ type; the store into the
# output array converts the result to the node's type. Only correctly rounded floating-point
# operations are here: their results are the same bits as glibc's.


def int_div(a, b):  # pragma: no cover - compiled
    """C++ integer division truncates toward zero (b != 0)."""
    q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q += 1
    return q


def int_rem(a, b):  # pragma: no cover - compiled
    """C++ ``%`` has the sign of the dividend (b != 0)."""
    return a - int_div(a, b) * b


def trunc(x):  # pragma: no cover - compiled
    if not (abs(x) < 4503599627370496.0):  # integral already, infinite or NaN
        return x
    return math.copysign(x - math.fmod(x, 1.0), x)  # trunc(-0.5) is -0.0


_trunc = device_function(trunc)


def floor(x):  # pragma: no cover - compiled
    t = _trunc(x)
    return t - 1.0 if t > x else t


def ceil(x):  # pragma: no cover - compiled
    t = _trunc(x)
    return math.copysign(t + 1.0, x) if t < x else t  # ceil(-0.5) is -0.0


def round_half_away(x):  # pragma: no cover - compiled
    t = _trunc(x)
    return t + math.copysign(1.0, x) if abs(x - t) >= 0.5 else t


def float_to_int32(x):  # pragma: no cover - compiled
    """x86-64's conversion (cvttsd2si): out of range or NaN gives INT_MIN."""
    return int(x) if -2147483648.0 <= x < 2147483648.0 else -2147483648


def float_to_int64(x):  # pragma: no cover - compiled
    return int(x) if -9223372036854775808.0 <= x < 9223372036854775808.0 else -9223372036854775808


def float_to_uint64(x):  # pragma: no cover - compiled
    """x86-64's conversion to uint64 (what GCC emits): out of range gives 2**63."""
    if 0.0 <= x < 18446744073709551616.0:
        if x >= 9223372036854775808.0:
            return np.uint64(int(x - 9223372036854775808.0)) + np.uint64(9223372036854775808)
        return np.uint64(int(x))
    return np.uint64(9223372036854775808)


def _shift(left: bool, bits: int) -> Callable:
    mask = bits - 1  # x86 masks the count to the operand's width

    def shl(a, b):  # pragma: no cover - compiled
        return a << (b & mask)

    def shr(a, b):  # pragma: no cover - compiled
        return a >> (b & mask)

    return shl if left else shr


UNARY: dict[str, Callable] = {
    "same": lambda a: a, "nonzero": lambda a: a != 0, "-": lambda a: -a, "~": lambda a: ~a, "!": lambda a: a == 0,
    "sqrt": lambda a: math.nan if a < 0 else math.sqrt(a), "fabs": lambda a: math.fabs(a), "iabs": lambda a: -a if a < 0 else a,
    "floor": floor, "ceil": ceil, "round": round_half_away, "trunc": trunc,
    "float_to_int32": float_to_int32, "float_to_int64": float_to_int64, "float_to_uint64": float_to_uint64,
}  # fmt: skip
BINARY: dict[str, Callable] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "&&": lambda a, b: (a != 0) and (b != 0), "||": lambda a, b: (a != 0) or (b != 0),
    "fmod": lambda a, b: math.fmod(a, b), "mean": lambda s, c: s / c if c > 0 else 0.0,
    **{f"{op}{bits}": _shift(op == "<<", bits) for op in ("<<", ">>") for bits in (8, 16, 32, 64)},
}  # fmt: skip


# -- the VecOps catalogue ---------------------------------------------------------------------------
# Two passes where the output size is not known: a kernel writes each event's count, a prefix sum
# makes the offsets, a second kernel fills the values.

#: The largest k of Combinations(v, k) on the device (a thread keeps k indices in registers).
MAX_COMBINATION = 8
_delta_phi_of = device_function(kinematics.make_delta_phi(math.fmod))


@cache
def delta_phi(dtype: Any) -> Any:
    """``DeltaPhi(a, b, c)`` element-wise, the double result stored in ``out``'s type (as ROOT)."""

    @cuda.jit
    def kernel(a, b, c, out):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            out[i] = _delta_phi_of(a[i], b[i], c)

    return kernel


@cache
def delta_r(dtype: Any, squared: bool) -> Any:
    """``DeltaR``/``DeltaR2``: DeltaPhi rounded to the element type, then ``deta² + dphi²`` in it."""
    element = np.dtype(dtype).type

    @cuda.jit
    def kernel(eta1, eta2, phi1, phi2, c, out):  # pragma: no cover - compiled
        i = cuda.grid(1)
        if i < out.size:
            dphi = element(_delta_phi_of(phi1[i], phi2[i], c))
            deta = eta1[i] - eta2[i]
            s = deta * deta + dphi * dphi
            out[i] = s if squared else math.sqrt(s)

    return kernel


@cuda.jit
def take_indices(offsets, values, idx_offsets, idx, parents, out, ok, default, has_default):  # pragma: no cover - compiled
    """``Take(v, idx[, default])`` per element of ``idx``.

    An index out of range makes its event undefined, or takes ``default``.
    """
    j = cuda.grid(1)
    if j < idx.size:
        e = parents[j]
        k = idx[j]
        if 0 <= k < offsets[e + 1] - offsets[e]:
            out[j] = values[offsets[e] + k]
        elif has_default:
            out[j] = default
        else:
            out[j] = 0
            ok[e] = False


@cuda.jit
def take_n_counts(offsets, n, counts, ok, has_default):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < counts.size:
        m = abs(n[i])
        counts[i] = m
        if m > offsets[i + 1] - offsets[i] and not has_default:
            ok[i] = False


@cuda.jit
def take_n(offsets, values, n, out_offsets, out, default):  # pragma: no cover - compiled
    """``Take(v, n[, default])``: the first n (n < 0: the last |n|) elements, padded with default."""
    i = cuda.grid(1)
    if i < out_offsets.size - 1:
        size = offsets[i + 1] - offsets[i]
        m = out_offsets[i + 1] - out_offsets[i]
        for k in range(m):
            src = k if n[i] >= 0 else size - m + k
            out[out_offsets[i] + k] = values[offsets[i] + src] if 0 <= src < size else default


@cuda.jit
def sum_counts(off_a, off_b, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = (off_a[i + 1] - off_a[i]) + (off_b[i + 1] - off_b[i])


@cuda.jit
def concatenate(off_a, a, off_b, b, out_offsets, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out_offsets.size - 1:
        k = out_offsets[i]
        for j in range(off_a[i], off_a[i + 1]):
            out[k] = a[j]
            k += 1
        for j in range(off_b[i], off_b[i + 1]):
            out[k] = b[j]
            k += 1


@cuda.jit
def mark_dropped(offsets, idx_offsets, idx, removed):  # pragma: no cover - compiled
    """``Drop(v, idx)``: flag the elements at the in-range indices (repeated indices: once)."""
    i = cuda.grid(1)
    if i < idx_offsets.size - 1:
        size = offsets[i + 1] - offsets[i]
        for j in range(idx_offsets[i], idx_offsets[i + 1]):
            k = idx[j]
            if 0 <= k < size:
                removed[offsets[i] + k] = True


@cuda.jit
def local_index(offsets, parents, as_bool, out):  # pragma: no cover - compiled
    """Each element's position in its RVec (``Enumerate``; an RVec<bool> holds ``index > 0``)."""
    j = cuda.grid(1)
    if j < out.size:
        k = j - offsets[parents[j]]
        out[j] = (k > 0) if as_bool else k


@cuda.jit
def reverse(offsets, parents, values, out):  # pragma: no cover - compiled
    j = cuda.grid(1)
    if j < out.size:
        e = parents[j]
        out[j] = values[offsets[e] + offsets[e + 1] - 1 - j]


@cuda.jit
def range_counts(begin, end, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = max(end[i] - begin[i], 0)


@cuda.jit
def fill_lists(offsets, first, step, out):  # pragma: no cover - compiled
    """Event i's list: ``first[i] + k * step`` (Range: step 1), or ``first[i]`` repeated (step 0)."""
    i = cuda.grid(1)
    if i < offsets.size - 1:
        for k in range(offsets[i + 1] - offsets[i]):
            if step == 0:
                out[offsets[i] + k] = first[i]
            else:
                out[offsets[i] + k] = first[i] + k * step


@cuda.jit
def interleave(a, k, j, out):  # pragma: no cover - compiled
    """``RVec<T>{x0, x1, ...}``: item ``j`` of each event's k items."""
    i = cuda.grid(1)
    if i < a.size:
        out[i * k + j] = a[i]


@cuda.jit
def sort_lists(offsets, values, order, want_order):  # pragma: no cover - compiled
    """Stable insertion sort of each event's elements in place, NaN last.

    ``order`` gets the positions (Argsort); ``values`` is then a scratch copy.
    """
    i = cuda.grid(1)
    if i < offsets.size - 1:
        start, stop = offsets[i], offsets[i + 1]
        for j in range(start, stop):
            order[j] = j - start
        for j in range(start + 1, stop):
            x, o = values[j], order[j]
            k = j - 1
            # x goes before values[k] when x < values[k], or values[k] is NaN and x is not
            while k >= start and (x < values[k] or (values[k] != values[k] and x == x)):
                values[k + 1] = values[k]
                order[k + 1] = order[k]
                k -= 1
            values[k + 1] = x
            order[k + 1] = o


_combination_count, _write_combinations = device_function(jagged.combination_count), device_function(jagged.write_combinations)


@cuda.jit
def combination_counts(offsets, k, counts, ok):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < counts.size:
        s = offsets[i + 1] - offsets[i]
        if k > s:
            counts[i] = 0
            ok[i] = False
        else:
            counts[i] = _combination_count(s, k)


@cuda.jit
def combinations(offsets, k, out_offsets, rows):  # pragma: no cover - compiled
    """``Combinations(v, k)``: ``rows[m]`` holds the m-th index of each combination (ROOT's order)."""
    i = cuda.grid(1)
    if i < out_offsets.size - 1 and out_offsets[i + 1] > out_offsets[i]:
        idx = cuda.local.array(MAX_COMBINATION, np.int64)
        _write_combinations(offsets[i + 1] - offsets[i], k, idx, rows, out_offsets[i])


@cuda.jit
def product_counts(off_a, off_b, out):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < out.size:
        out[i] = (off_a[i + 1] - off_a[i]) * (off_b[i + 1] - off_b[i])


@cuda.jit
def cartesian(off_b, out_offsets, rows):  # pragma: no cover - compiled
    """``Combinations(a, b)``: all (i, j) index pairs, i outer, j inner."""
    i = cuda.grid(1)
    if i < out_offsets.size - 1:
        nb = off_b[i + 1] - off_b[i]
        for k in range(out_offsets[i + 1] - out_offsets[i]):
            rows[0, out_offsets[i] + k] = k // nb
            rows[1, out_offsets[i] + k] = k % nb


@cuda.jit
def choose_lists(cond, t_offsets, t_values, o_offsets, o_values, out_offsets, out):  # pragma: no cover - compiled
    """``c ? a : b`` on RVecs: each event's list from the branch its condition chose."""
    i = cuda.grid(1)
    if i < out_offsets.size - 1:
        if cond[i]:
            start = t_offsets[i]
            for k in range(out_offsets[i + 1] - out_offsets[i]):
                out[out_offsets[i] + k] = t_values[start + k]
        else:
            start = o_offsets[i]
            for k in range(out_offsets[i + 1] - out_offsets[i]):
                out[out_offsets[i] + k] = o_values[start + k]
