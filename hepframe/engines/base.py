"""The boundary every engine implements, and the support declarations behind the docs' matrix.

A batch engine turns typed IR into its own computations over a *frame* (the events of one batch
that passed the filters so far); the engine-neutral executor (:mod:`hepframe.execution`) walks
the analysis graph and calls its methods. A distributed engine (Spark) runs each event loop as a
job whose tasks run that walk with a batch engine, and merges their accumulators in entry order.

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
    """What the core asks of every engine: its support table, its verbs, and how it explains a plan.

    An engine is either a :class:`BatchEngine` (the local executor drives it batch by batch:
    Polars, the reference engine) or a :class:`DistributedEngine` (it runs each event loop
    itself, e.g. as a Spark job whose tasks run a batch engine). The core branches on these two
    classes, never on optional attributes.
    """

    name: ClassVar[str]
    #: op key -> {"scalar": Support, "rvec": Support}; missing keys are unsupported.
    SUPPORT: ClassVar[dict[str, dict[str, Support]]]

    #: How the engine runs Python UDFs (``udf:<name>`` op keys).
    UDF_SUPPORT: ClassVar[Support] = Support.KERNEL

    #: RDataFrame verbs the engine cannot run, with the reason (also in the support matrix).
    UNSUPPORTED_VERBS: ClassVar[dict[str, str]] = {}

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

    def check_verb(self, verb: str) -> None:
        """Raise UnsupportedOperationError if the engine cannot run the RDataFrame verb ``verb``."""
        reason = self.UNSUPPORTED_VERBS.get(verb)
        if reason is not None:
            raise UnsupportedOperationError(f"{verb} is not supported on the {self.name} engine: {reason}")

    @abstractmethod
    def batch_engine(self) -> BatchEngine:
        """The engine that computes batches: itself, or what a distributed engine's tasks run.

        The executor plans with it (scopes, branches to read).
        """

    # -- explain ---------------------------------------------------------------------------
    def describe(self) -> str:
        return self.name

    def describe_mode(self) -> str:
        """One line for ``explain()``: the engine and how it runs."""
        return self.name

    def explain_lines(self, expr: ir.Expr) -> list[str]:
        """Engine-specific lines about ``expr`` for ``explain()`` (e.g. what Spark computes natively)."""
        return []

    def plan_text(self, expr: ir.Expr) -> str:
        """The engine's compiled form of ``expr``, as text."""
        return self.batch_engine().plan_text(expr)


class BatchEngine(Engine):
    """An engine the local executor drives: it turns typed IR into computations over a *frame*."""

    #: Whether the executor may compute several batches at once on threads (the engine keeps no
    #: per-loop state and releases the GIL in its heavy work).
    PARALLEL_BATCHES: ClassVar[bool] = False

    def batch_engine(self) -> BatchEngine:
        return self

    @abstractmethod
    def plan_text(self, expr: ir.Expr) -> str: ...

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

    #: Whether the executor may leave source branches out of a filtered frame and take them from
    #: the batch's frame when an expression reads them (``add_branches``): a branch is then copied
    #: once, where it is used, not at every filter above that.
    LAZY_BRANCHES: ClassVar[bool] = False

    def add_branches(self, frame: Any, batch_frame: Any, names: Sequence[str]) -> Any:
        """``frame`` (events of ``batch_frame``, by their ``rdfentry_``) with the branches ``names`` added."""
        raise NotImplementedError(f"{type(self).__name__} keeps every branch in its frames")

    @abstractmethod
    def evaluate(self, frame: Any, exprs: Sequence[tuple[ir.Expr, str]]) -> list[Value]:
        """Evaluate expressions to numpy values (for filling results); undefined values raise."""


class DistributedEngine(Engine):
    """An engine that runs each event loop itself (one cluster job per loop; no shared reads)."""

    @abstractmethod
    def run_actions(self, analysis: Any, actions: list[Any], progress: bool | None = None) -> dict[Any, Any]:
        """Run one event loop computing ``actions`` of ``analysis``; their results by action.

        ``progress``: the RDataFrame's option (None: the default rule of :mod:`hepframe.progress`).
        """


# -- registry: engines by name, imported when first asked for ------------------------------
_ENGINES: dict[str, type[Engine]] = {}
#: Built-in engines and the module that registers each (imported on first use: the core never
#: imports an engine module, and ``spark`` needs pyspark only when it is used).
_BUILTIN: dict[str, str] = {
    "polars": "hepframe.engines.polars_engine",
    "reference": "hepframe.engines.reference_engine",
    "spark": "hepframe.engines.spark_engine",
    "gpu": "hepframe.engines.gpu_engine",
}
#: Third-party engines: ``[project.entry-points."hepframe.engines"] name = "module:Class"``.
ENTRY_POINT_GROUP = "hepframe.engines"


def register_engine(cls: type[Engine]) -> type[Engine]:
    """Class decorator: make ``cls`` available as ``engine=cls.name``."""
    _ENGINES[cls.name] = cls
    return cls


def _load(name: str) -> type[Engine] | None:
    if name not in _ENGINES and name in _BUILTIN:
        import importlib

        importlib.import_module(_BUILTIN[name])
    if name not in _ENGINES:
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINT_GROUP, name=name):
            cls = point.load()
            if not (isinstance(cls, type) and issubclass(cls, Engine)):
                raise UnsupportedOperationError(f"entry point {point.value!r} for engine {name!r} is not an Engine class")
            _ENGINES[name] = cls
    return _ENGINES.get(name)


def engine_class(name: str) -> type[Engine]:
    """The class of the engine ``name``, without building one (which may need a GPU or a cluster)."""
    cls = _load(name)
    if cls is None:
        raise UnsupportedOperationError(f"unknown engine {name!r}; available: {', '.join(available_engines())}")
    return cls


def get_engine(name: str | Engine, **options: Any) -> Engine:
    """The engine ``name`` (a new instance, built with ``options``), or ``name`` itself if it is one."""
    if isinstance(name, Engine):
        if options:
            raise UnsupportedOperationError(f"engine options {sorted(options)} need an engine name, not an instance")
        return name
    cls = _load(name) if isinstance(name, str) else None
    if cls is None:
        raise UnsupportedOperationError(
            f"unknown engine {name!r}; available: {', '.join(available_engines())}"
        )
    try:
        return cls(**options)
    except TypeError as exc:
        raise UnsupportedOperationError(f"engine {name!r} does not take the options {sorted(options)}: {exc}") from None


def available_engines() -> list[str]:
    """Engine names: the built-in ones, those registered, and those of installed plugins."""
    from importlib.metadata import entry_points

    return sorted({*_BUILTIN, *_ENGINES, *(p.name for p in entry_points(group=ENTRY_POINT_GROUP))})
