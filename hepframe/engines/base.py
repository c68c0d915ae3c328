"""The boundary every engine implements, and the support declarations behind the docs' matrix.

An engine turns typed IR into its own computations over a *frame* (the events of one batch
that passed the filters so far). The engine-neutral executor (:mod:`hepframe.execution`)
walks the analysis graph and calls these methods. A distributed engine (Spark, planned) will
run the same walk per partition and merge the accumulators, which add exactly.

Each engine declares, per operation key (see ``ir.Expr.op_key``) and per shape (scalar
or RVec), whether it runs the operation natively, through a vectorized kernel from
``hepframe.udfs``/the reference implementation, or not at all. Compilation consults the
declaration and fails loudly, at compile time, on anything unsupported.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import Enum
from typing import Any, ClassVar

from hepframe.connectors import Batch
from hepframe.engines.values import Value
from hepframe.errors import UnsupportedOperationError
from hepframe.expr import ir
from hepframe.expr.functions import FUNCTIONS


class Support(Enum):
    NATIVE = "native"
    KERNEL = "kernel"
    UNSUPPORTED = "unsupported"


#: Operation keys of the IR besides function names, with a short description for the docs.
NODE_KEYS: dict[str, str] = {
    "column": "column reference", "literal": "literal constant", "cast": "C++ conversion",
    "unary-": "negation", "unary~": "bitwise not", "unary!": "logical not",
    "+": "addition", "-": "subtraction", "*": "multiplication", "/": "division (integer: truncating)",
    "%": "integer remainder", "<<": "shift left", ">>": "shift right", "&": "bitwise and", "|": "bitwise or",
    "^": "bitwise xor", "<": "less", "<=": "less or equal", ">": "greater", ">=": "greater or equal",
    "==": "equal", "!=": "not equal", "&&": "logical and (short-circuit)", "||": "logical or (short-circuit)",
    "ternary": "c ? a : b", "index": "v[i]", "mask": "v[mask]",
}  # fmt: skip


def all_op_keys() -> list[str]:
    return [*NODE_KEYS, *FUNCTIONS]


def shape_of(node: ir.Expr) -> str:
    """'rvec' when the node or any operand is an RVec, else 'scalar'."""
    if node.type.is_rvec or any(c.type.is_rvec for c in node.children()):
        return "rvec"
    return "scalar"


class Engine(ABC):
    """An execution engine for compiled analysis graphs."""

    name: ClassVar[str]
    #: op key -> {"scalar": Support, "rvec": Support}; missing keys are unsupported.
    SUPPORT: ClassVar[dict[str, dict[str, Support]]]

    #: How the engine runs Python UDFs (``udf:<name>`` op keys).
    UDF_SUPPORT: ClassVar[Support] = Support.KERNEL

    #: Whether the executor may compute several batches at once on threads (the engine keeps no
    #: per-loop state and releases the GIL in its heavy work).
    PARALLEL_BATCHES: ClassVar[bool] = False

    def support(self, node: ir.Expr) -> Support:
        if node.op_key.startswith("udf:"):
            return self.UDF_SUPPORT
        by_shape = self.SUPPORT.get(node.op_key, {})
        return by_shape.get(shape_of(node), Support.UNSUPPORTED)

    def check(self, expr: ir.Expr, text: str = "") -> None:
        """Raise UnsupportedOperationError if any node of ``expr`` cannot run on this engine."""
        for node in expr.walk():
            if self.support(node) is Support.UNSUPPORTED:
                where = f" in {text!r}" if text else ""
                raise UnsupportedOperationError(
                    f"the {self.name} engine does not support {node.op_key!r} on {shape_of(node)} operands{where}"
                )

    # -- frames ------------------------------------------------------------
    @abstractmethod
    def make_frame(self, batch: Batch) -> Any:
        """A frame over the batch's events, including the ``rdfentry_`` column."""

    @abstractmethod
    def num_rows(self, frame: Any) -> int: ...

    @abstractmethod
    def has_column(self, frame: Any, name: str) -> bool: ...

    def column_names(self, frame: Any) -> frozenset[str] | None:
        """The frame's columns, for engines that can drop the ones no later step uses (None: cannot)."""
        return None

    def select_columns(self, frame: Any, names: frozenset[str]) -> Any:
        """The frame with only ``names`` (before a filter copies the surviving rows of every column)."""
        return frame

    @abstractmethod
    def with_columns(self, frame: Any, columns: Sequence[tuple[str, ir.Expr, str]]) -> Any:
        """Add defined columns ``(name, expr, source text)``; undefined values raise EventError."""

    @abstractmethod
    def apply_filter(self, frame: Any, expr: ir.Expr, text: str) -> tuple[Any, int]:
        """Keep the events where ``expr`` is true; returns (filtered frame, number passing)."""

    @abstractmethod
    def take_rows(self, frame: Any, mask: Any) -> Any:
        """The events where the numpy boolean ``mask`` is true."""

    @abstractmethod
    def evaluate(self, frame: Any, exprs: Sequence[tuple[ir.Expr, str]]) -> list[Value]:
        """Evaluate expressions to numpy values (for filling results); undefined values raise."""

    def describe(self) -> str:
        return self.name


_ENGINES: dict[str, type[Engine]] = {}


def register_engine(cls: type[Engine]) -> type[Engine]:
    _ENGINES[cls.name] = cls
    return cls


def get_engine(name: str | Engine) -> Engine:
    if isinstance(name, Engine):
        return name
    import hepframe.engines.polars_engine  # noqa: F401 - registers itself
    import hepframe.engines.reference_engine  # noqa: F401
    import hepframe.engines.spark_engine  # noqa: F401 - needs pyspark only when it runs

    try:
        return _ENGINES[name]()
    except KeyError:
        raise UnsupportedOperationError(
            f"unknown engine {name!r}; available: {', '.join(sorted(_ENGINES))} (gpu is planned)"
        ) from None


def available_engines() -> list[str]:
    get_engine("reference")
    return sorted(_ENGINES)
