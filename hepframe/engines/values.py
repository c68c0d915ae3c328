"""Columnar values shared by the reference evaluator and the kernel fallbacks of every engine.

A per-event value is either a numpy array (one scalar per event), a numpy 0-d scalar (a
literal, broadcast to every event) or a :class:`Jagged` array (one RVec per event, stored as
counts plus flat values, like an Arrow list array). ``valid`` marks the events whose value is
defined: an out-of-range ``v[i]``, ``Max`` of an empty RVec or an integer division by zero
leaves the event undefined, and using an undefined value in a result is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa


class Jagged:
    """One RVec per event: ``values[offsets[i]:offsets[i+1]]`` belongs to event ``i``.

    Built from sizes (``Jagged(counts, values)``) or from Arrow-style offsets
    (``Jagged.from_offsets``); the other form is derived once, when first asked for. Immutable by
    convention: kernels make new ones.
    """

    values: Any  # np.ndarray of elements, or a Jagged of inner RVecs for RVec<RVec<T>> (Combinations)

    def __init__(self, counts: np.ndarray, values: Any) -> None:
        self.__dict__["counts"] = counts  # int64, one per event
        self.values = values

    @classmethod
    def from_offsets(cls, offsets: np.ndarray, values: Any) -> Jagged:
        """From int64 offsets into ``values`` (rebased to start at 0)."""
        offsets = np.asarray(offsets, dtype=np.int64)
        if len(offsets) and offsets[0] != 0:
            offsets = offsets - offsets[0]
        out = cls.__new__(cls)
        out.__dict__["offsets"] = offsets
        out.values = values
        return out

    def with_values(self, values: Any) -> Jagged:
        """The same list sizes (and whatever of counts/offsets is known) over new element values."""
        out = Jagged.__new__(Jagged)
        out.__dict__.update({k: self.__dict__[k] for k in ("counts", "offsets") if k in self.__dict__})
        out.values = values
        return out

    @cached_property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def offsets(self) -> np.ndarray:
        out = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=out[1:])
        return out

    def __len__(self) -> int:
        offsets = self.__dict__.get("offsets")
        return len(self.counts) if offsets is None else len(offsets) - 1

    def take(self, rows: np.ndarray) -> Jagged:
        """Events ``rows`` (a boolean mask or indices), keeping their elements in order."""
        if isinstance(self.values, Jagged):  # nested: take the inner lists of the chosen events
            inner_rows = np.repeat(rows, self.counts) if rows.dtype == np.bool_ else _element_index(self, rows)
            return Jagged(self.counts[rows], self.values.take(inner_rows))
        if rows.dtype == np.bool_:
            element_mask = np.repeat(rows, self.counts)
            return Jagged(self.counts[rows], self.values[element_mask])
        return Jagged(self.counts[rows], self.values[_element_index(self, rows)])


def _element_index(jagged: Jagged, rows: np.ndarray) -> np.ndarray:
    """Flat positions of the elements of events ``rows`` (indices), in order."""
    starts = jagged.offsets[:-1][rows]
    counts = jagged.counts[rows]
    return np.repeat(starts - starts_of(counts), counts) + np.arange(counts.sum())


Data = np.ndarray | np.generic | Jagged


def starts_of(counts: np.ndarray) -> np.ndarray:
    """Start offset of each list given the list sizes (empty for no lists)."""
    out = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=out[1:])
    return out


@dataclass(frozen=True, eq=False)
class Value:
    data: Data
    valid: np.ndarray | None = None  # None: every event defined

    def and_valid(self, other: np.ndarray | None) -> Value:
        return Value(self.data, merge_valid(self.valid, other))


def merge_valid(*masks: np.ndarray | None) -> np.ndarray | None:
    present = [m for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = out & m
    return out


# -- Arrow conversion (zero-copy where Arrow's layout allows) ------------------------


def from_arrow(array: pa.Array | pa.ChunkedArray) -> Value:
    """Convert an Arrow column (primitive or list<primitive>) to a :class:`Value`."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    valid = None
    if array.null_count:
        valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        offsets = np.asarray(array.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
        flat = array.values.slice(offsets[0], offsets[-1] - offsets[0])
        if valid is not None:  # null lists hold no elements
            offsets = np.zeros(len(array) + 1, dtype=np.int64)
            np.cumsum(np.where(valid, np.diff(array.offsets.to_numpy(zero_copy_only=False)), 0), out=offsets[1:])
            flat = array.flatten()
        inner = from_arrow(flat).data if pa.types.is_list(flat.type) or pa.types.is_large_list(flat.type) else None
        return Value(Jagged.from_offsets(offsets, _primitive_to_numpy(flat) if inner is None else inner), valid)
    return Value(_primitive_to_numpy(array), valid)


def _primitive_to_numpy(array: pa.Array) -> np.ndarray:
    if pa.types.is_boolean(array.type):
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.bool_)
    if array.null_count:
        array = array.fill_null(pa.scalar(0, array.type) if not pa.types.is_floating(array.type) else 0.0)
    return array.to_numpy(zero_copy_only=False)


def to_arrow(value: Value, n: int) -> pa.Array:
    """Convert a :class:`Value` with ``n`` events back to Arrow; undefined events become nulls."""
    mask = None if value.valid is None else ~value.valid
    data = value.data
    if isinstance(data, Jagged):
        values = to_arrow(Value(data.values), len(data.values)) if isinstance(data.values, Jagged) else pa.array(data.values)
        offsets = pa.array(data.offsets, type=pa.int64())
        out = pa.LargeListArray.from_arrays(offsets, values, mask=None if mask is None else pa.array(mask))
        return out
    arr = np.broadcast_to(np.asarray(data), (n,))
    return pa.array(arr, mask=mask)


def broadcast_scalar(data: np.ndarray | np.generic, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(data), (n,))
