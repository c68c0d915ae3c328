"""ROOT::VecOps selection, sorting and construction functions over jagged numpy values.

Each function follows RVec.hxx of ROOT 6.40 (semantics, element types, edge cases) and is
vectorized over all events: numpy on the flat values plus per-event offsets, or a numba
kernel from ``hepframe.udfs`` where an operation is inherently per event. Functions return
``(data, valid)``; ``valid`` marks events where ROOT would throw or have undefined behaviour
(``Take`` of too many elements, ``Combinations`` of more elements than there are, ...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hepframe import udfs
from hepframe.engines.values import Data, Jagged, starts_of
from hepframe.udfs import jagged as jagged_kernels
from hepframe.udfs import kinematics

Result = tuple[Data, np.ndarray | None]
SIZE_T = np.dtype(np.uint64)


def event_ids(v: Jagged) -> np.ndarray:
    return np.repeat(np.arange(len(v.counts)), v.counts)


def local_index(v: Jagged) -> np.ndarray:
    return np.arange(len(v.values)) - np.repeat(v.offsets[:-1], v.counts)


def _per_event(x: Data, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x), (n,))


def _flat(v: Jagged) -> np.ndarray:
    assert isinstance(v.values, np.ndarray)
    return v.values


def _from_counts_and_positions(counts: np.ndarray, values: np.ndarray) -> Jagged:
    return Jagged(counts.astype(np.int64), values)


# -- reductions ------------------------------------------------------------------------


def product(v: Jagged, dtype: np.dtype) -> Result:
    return jagged_kernels.reduce_product(v.offsets, _flat(v), dtype), None


def var(v: Jagged) -> Result:
    return jagged_kernels.reduce_var(v.offsets, _flat(v)), None


def std_dev(v: Jagged) -> Result:
    return np.sqrt(jagged_kernels.reduce_var(v.offsets, _flat(v))), None


def arg_extreme(v: Jagged, want_max: bool) -> Result:
    out, ok = jagged_kernels.reduce_argmax(v.offsets, _flat(v), want_max)
    return out, None if ok.all() else ok


# -- sorting and selection ---------------------------------------------------------------


def _sorted_order(v: Jagged) -> np.ndarray:
    """Flat positions that sort each event's elements ascending (stable; NaN last)."""
    return np.lexsort((_flat(v), event_ids(v)))


def sort(v: Jagged) -> Result:
    return v.with_values(_flat(v)[_sorted_order(v)]), None


def argsort(v: Jagged) -> Result:
    order = _sorted_order(v)
    return v.with_values((order - np.repeat(v.offsets[:-1], v.counts)).astype(SIZE_T)), None


def reverse(v: Jagged) -> Result:
    eid = event_ids(v)
    positions = v.offsets[eid] + (v.counts[eid] - 1 - local_index(v))
    return v.with_values(_flat(v)[positions]), None


def take_indices(v: Jagged, idx: Jagged, default: Data | None) -> Result:
    taken, ok_event = jagged_kernels.take(v.offsets, _flat(v), idx.offsets, _flat(idx))
    if ok_event.all():
        return Jagged.from_offsets(idx.offsets, taken), None
    if default is not None:
        eid = event_ids(idx)
        i = _flat(idx).astype(np.int64)
        ok = (i >= 0) & (i < v.counts[eid])
        fill = np.repeat(_per_event(default, len(v.counts)), idx.counts)
        return Jagged.from_offsets(idx.offsets, np.where(ok, taken, fill).astype(taken.dtype)), None
    return Jagged.from_offsets(idx.offsets, taken), ok_event


def take_n(v: Jagged, n: Data, default: Data | None) -> Result:
    """``Take(v, n)``: the first n (or last |n| for n < 0) elements; padded with default if given."""
    events = len(v.counts)
    n_arr = _per_event(n, events).astype(np.int64)
    absn = np.abs(n_arr)
    size = v.counts
    short = absn > size
    counts = absn
    eid = np.repeat(np.arange(events), counts)
    k = np.arange(int(counts.sum())) - np.repeat(starts_of(counts), counts)
    # Source element for output slot k: n >= 0 -> k; n < 0 -> size - absn + k (may be < 0 when padding in front)
    src = np.where(n_arr[eid] >= 0, k, size[eid] - absn[eid] + k)
    inside = (src >= 0) & (src < size[eid])
    values = _flat(v)
    positions = np.minimum(v.offsets[eid] + np.where(inside, src, 0), max(len(values) - 1, 0))
    taken = values[positions] if len(values) else np.zeros(len(k), values.dtype)
    if default is None:
        return Jagged(counts, taken), (~short if short.any() else None)
    fill = np.repeat(_per_event(default, events), counts)
    return Jagged(counts, np.where(inside, taken, fill).astype(values.dtype)), None


def drop(v: Jagged, idx: Jagged) -> Result:
    eid = event_ids(idx)
    i = _flat(idx).astype(np.int64)
    ok = (i >= 0) & (i < v.counts[eid])
    removed = np.zeros(len(_flat(v)), dtype=np.bool_)
    removed[(v.offsets[eid] + i)[ok]] = True
    keep = ~removed
    return select(v, keep), None


def select(v: Jagged, keep: np.ndarray) -> Jagged:
    """``v[keep]``: the elements whose flat ``keep`` entry is non-zero, event by event."""
    offsets, values = jagged_kernels.select(v.offsets, _flat(v), keep)
    return Jagged.from_offsets(offsets, values)



def nonzero(v: Jagged) -> Result:
    keep = _flat(v) != 0
    out = select(v.with_values(local_index(v).astype(SIZE_T)), keep)
    return out, None


def intersect(v1: Jagged, v2: Jagged) -> Result:
    keep = jagged_kernels.intersect_mask(v1.offsets, _flat(v1), v2.offsets, _flat(v2))
    return select(v1, keep), None


def concatenate(a: Jagged, b: Jagged, dtype: np.dtype) -> Result:
    offsets, values = jagged_kernels.concatenate(a.offsets, _flat(a), b.offsets, _flat(b), dtype)
    return Jagged.from_offsets(offsets, values), None


def where(cond: Jagged, a: Data, b: Data, dtype: np.dtype, elementwise: Callable) -> Data:
    return elementwise(lambda c, x, y: np.asarray(np.where(c != 0, x, y), dtype=dtype), [cond, a, b])


# -- construction -------------------------------------------------------------------------


def enumerate_(v: Jagged) -> Result:
    index = local_index(v)
    if _flat(v).dtype == np.bool_:  # ROOT fills an RVec<bool> with the indices: 0, 1, 1, ...
        index = index > 0
    return v.with_values(index.astype(SIZE_T)), None


def range_(begin: Data, end: Data | None, events: int) -> Result:
    if end is None:
        begin, end = np.zeros(events, dtype=np.uint64), begin
    b = _per_event(begin, events).astype(np.int64)
    e = _per_event(end, events).astype(np.int64)
    counts = np.maximum(e - b, 0)
    starts = starts_of(counts)
    values = (np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(b, counts)).astype(SIZE_T)
    return Jagged(counts, values), None


def arange(start: Data, end: Data, step: Data, events: int, dtype: np.dtype) -> Result:
    """``ROOT::VecOps::Arange``, computed in long double as ROOT 6.40 does."""
    s, e, st = (_per_event(x, events) for x in (start, end, step))
    ld = np.longdouble
    with np.errstate(all="ignore"):
        span = np.where(e >= s, (e - s).astype(ld), e.astype(ld) - s.astype(ld))
        n_float = np.ceil(span / st.astype(ld))
    empty = ~np.isfinite(n_float) | (n_float <= 0) | (n_float > 2**63)  # ROOT returns {}
    too_big = ~empty & (n_float > 2**31 - 1)  # RVec cannot grow that far: ROOT throws
    counts = np.where(empty | too_big, 0, n_float).astype(np.int64)
    k = (np.arange(int(counts.sum())) - np.repeat(starts_of(counts), counts)).astype(ld)
    values = np.repeat(s.astype(ld), counts) + k * np.repeat(st.astype(ld), counts)
    if np.dtype(dtype).kind != "f":
        values = np.floor(values)
    return Jagged(counts, values.astype(dtype)), (~too_big if too_big.any() else None)


def filled(n: Data, value: Data, events: int, dtype: np.dtype) -> Result:
    """``ROOT::RVec<T>(n, value)`` per event."""
    counts = _per_event(n, events).astype(np.int64)
    values = np.repeat(_per_event(value, events), counts).astype(dtype)
    return Jagged(counts, values), None


def rvec_of(items: list[Data], events: int, dtype: np.dtype) -> Result:
    """``RVec<T>{a, b, ...}`` per event: scalars become one RVec; RVecs become an RVec of RVecs."""
    k = len(items)
    if not any(isinstance(x, Jagged) for x in items):
        values = np.stack([_per_event(x, events) for x in items], axis=1).ravel().astype(dtype)
        return Jagged(np.full(events, k, dtype=np.int64), values), None
    lists = [x for x in items if isinstance(x, Jagged)]
    assert len(lists) == k
    inner_counts = np.stack([x.counts for x in lists], axis=1).ravel()
    inner = Jagged(inner_counts, np.empty(int(inner_counts.sum()), dtype=dtype))
    for j, x in enumerate(lists):
        slot = event_ids(x) * k + j  # inner list index of each element of x
        inner.values[inner.offsets[slot] + local_index(x)] = _flat(x)
    return Jagged(np.full(events, k, dtype=np.int64), inner), None


def combinations(v: Jagged, k: Data) -> Result:
    """``Combinations(v, k)``: RVec<RVec<size_t>> of k index lists, lexicographic; undefined if k > size."""
    ks = np.unique(np.asarray(k))  # k is a per-event scalar (normally a constant)
    if len(ks) != 1:
        raise ValueError("Combinations needs the same k for every event")
    kk = int(ks[0])
    events = len(v.counts)
    if kk == 0:  # ROOT: an RVec of zero index lists
        return Jagged(np.zeros(events, dtype=np.int64), Jagged(np.zeros(0, dtype=np.int64), np.zeros(0, SIZE_T))), None
    indices, per_event, ok = jagged_kernels.combinations(v.counts, kk)
    # Outer: k lists per event; inner list j of event i holds indices[j, starts[i]:starts[i]+per_event[i]].
    starts = starts_of(per_event)
    inner_counts = np.repeat(per_event, kk)
    inner_starts = np.repeat(starts, kk)
    row = np.tile(np.arange(kk), events)
    total = int(inner_counts.sum())
    within = np.arange(total) - np.repeat(starts_of(inner_counts), inner_counts)
    flat = np.zeros(0, SIZE_T)
    if total:
        flat = indices[np.repeat(row, inner_counts), np.repeat(inner_starts, inner_counts) + within]
    outer = Jagged(np.full(events, kk, dtype=np.int64), Jagged(inner_counts, np.asarray(flat, dtype=SIZE_T)))
    return outer, (None if ok.all() else ok)


def cartesian(v1: Jagged, v2: Jagged) -> Result:
    """``Combinations(v1, v2)``: the two index lists of all (i, j) pairs, i outer, j inner."""
    n = v1.counts * v2.counts
    events = len(n)
    starts = starts_of(n)
    k = np.arange(int(n.sum())) - np.repeat(starts, n)
    s2 = np.repeat(v2.counts, n)
    first = (k // np.where(s2 > 0, s2, 1)).astype(SIZE_T)
    second = (k % np.where(s2 > 0, s2, 1)).astype(SIZE_T)
    inner_counts = np.repeat(n, 2)
    # interleave per event: [first_e..., second_e...]
    flat = np.empty(2 * len(k), dtype=SIZE_T)
    out_starts = 2 * starts
    eid = np.repeat(np.arange(events), n)
    flat[out_starts[eid] + k] = first
    flat[out_starts[eid] + n[eid] + k] = second
    return Jagged(np.full(events, 2, dtype=np.int64), Jagged(inner_counts, flat)), None


# -- kinematics ----------------------------------------------------------------------------


def delta_r2(eta1, eta2, phi1, phi2, c: float) -> np.ndarray:
    dphi = udfs.delta_phi(phi1, phi2, c)
    deta = np.asarray(eta1) - np.asarray(eta2)
    return deta * deta + dphi * dphi


invariant_masses = kinematics.invariant_masses
