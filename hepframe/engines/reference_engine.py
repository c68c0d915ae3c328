"""The reference engine: the numpy evaluator of :mod:`hepframe.engines.reference` on batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hepframe.connectors import Batch
from hepframe.engines import reference
from hepframe.engines.base import NODE_KEYS, BatchEngine, Support, register_engine
from hepframe.engines.values import Jagged, Value, from_arrow
from hepframe.errors import UNDEFINED_CAUSES, EventError
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.functions import FUNCTIONS


@dataclass
class ReferenceFrame:
    columns: dict[str, Value]
    entries: np.ndarray
    memo: dict

    @property
    def n(self) -> int:
        return len(self.entries)

    def take(self, rows: np.ndarray) -> ReferenceFrame:
        cols = {}
        for name, v in self.columns.items():
            data = v.data.take(rows) if isinstance(v.data, Jagged) else (np.asarray(v.data)[rows] if np.ndim(v.data) else v.data)
            cols[name] = Value(data, None if v.valid is None else v.valid[rows])
        return ReferenceFrame(cols, self.entries[rows], {})


def raise_undefined(valid: np.ndarray, entries: np.ndarray, text: str, role: str) -> None:
    i = int(np.argmin(valid))
    raise EventError(
        f"{role} {text!r} is undefined in entry {int(entries[i])}: {UNDEFINED_CAUSES}"
    )


@register_engine
class ReferenceEngine(BatchEngine):
    """Evaluates everything with numpy; the oracle of the conformance tests."""

    name = "reference"
    SUPPORT = {key: {"scalar": Support.NATIVE, "rvec": Support.NATIVE} for key in [*NODE_KEYS, *FUNCTIONS]}
    UDF_SUPPORT = Support.NATIVE

    def plan_text(self, expr: ir.Expr) -> str:
        return "numpy reference evaluator"

    def make_frame(self, batch: Batch) -> ReferenceFrame:
        cols = {name: from_arrow(batch.table.column(name)) for name in batch.table.column_names}
        entries = np.arange(batch.entry_start, batch.entry_start + batch.table.num_rows, dtype=np.uint64)
        cols[ENTRY_COLUMN] = Value(entries)
        return ReferenceFrame(cols, entries, {})

    def num_rows(self, frame: ReferenceFrame) -> int:
        return frame.n

    def has_column(self, frame: ReferenceFrame, name: str) -> bool:
        return name in frame.columns

    def _eval(self, frame: ReferenceFrame, expr: ir.Expr) -> Value:
        ctx = reference.Context(frame.n, frame.entries)
        value = reference.evaluate(expr, frame.columns, ctx, frame.memo)
        data = value.data
        if not isinstance(data, Jagged) and np.ndim(data) == 0:
            value = Value(np.full(frame.n, data), value.valid)
        return value

    def with_columns(self, frame: ReferenceFrame, columns: Sequence[tuple[str, ir.Expr, str]]) -> ReferenceFrame:
        for name, expr, text in columns:
            value = self._eval(frame, expr)
            if value.valid is not None and not value.valid.all():
                raise_undefined(value.valid, frame.entries, text, "Define")
            frame.columns[name] = value
        return frame

    def apply_filter(self, frame: ReferenceFrame, expr: ir.Expr, text: str) -> tuple[ReferenceFrame, int]:
        value = self._eval(frame, expr)
        if value.valid is not None and not value.valid.all():
            raise_undefined(value.valid, frame.entries, text, "Filter")
        mask = np.asarray(value.data, dtype=np.bool_)
        return frame.take(mask), int(mask.sum())

    def take_rows(self, frame: ReferenceFrame, mask: np.ndarray) -> ReferenceFrame:
        return frame.take(np.asarray(mask, dtype=np.bool_))

    def evaluate(self, frame: ReferenceFrame, exprs: Sequence[tuple[ir.Expr, str]]) -> list[Value]:
        out = []
        for expr, text in exprs:
            value = self._eval(frame, expr)
            if value.valid is not None and not value.valid.all():
                raise_undefined(value.valid, frame.entries, text, "column")
            out.append(value)
        return out
