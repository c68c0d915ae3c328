"""The user-facing, RDataFrame-like API: lazy transformations and lazy result handles."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from hepframe import graph as g
from hepframe.connectors import RootSource
from hepframe.connectors.root import DEFAULT_STEP_SIZE
from hepframe.engines.base import Engine, get_engine
from hepframe.errors import AnalysisError, UnknownColumnError, did_you_mean
from hepframe.execution import Executor
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN, compile_expression
from hepframe.expr.types import SIZE_T
from hepframe.histograms import parse_histo1d_model

T = TypeVar("T")


class ResultPtr(Generic[T]):
    """A lazy result, like ROOT's ``RResultPtr``: the event loop runs on the first ``GetValue()``.

    Asking for any result computes every result booked on the same graph in one pass.
    """

    def __init__(self, frame: RDataFrame, action: g.Action):
        self._frame = frame
        self._action = action

    def GetValue(self) -> T:  # noqa: N802 - ROOT spelling
        analysis = self._frame._analysis
        if self._action not in analysis.results:
            self._frame._run()
        return analysis.results[self._action]

    def IsReady(self) -> bool:  # noqa: N802
        return self._action in self._frame._analysis.results

    @property
    def value(self) -> T:
        return self.GetValue()

    def __getattr__(self, name: str) -> Any:
        # Like RResultPtr's operator->: forward to the computed value (e.g. h.GetValue().sum()).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.GetValue(), name)

    def __repr__(self) -> str:
        state = "ready" if self.IsReady() else "lazy"
        return f"<ResultPtr {type(self._action).__name__} ({state})>"


class RDataFrame:
    """A lazy analysis over a TTree, in RDataFrame's vocabulary.

    Parameters
    ----------
    tree
        Name of the TTree, e.g. ``"Events"``.
    files
        A path, a glob (``"data/*.root"``) or a list of them.
    engine
        ``"polars"`` (default) or ``"reference"`` (the numpy oracle).
    progress
        Show a progress bar during event loops (default: only on a terminal;
        ``HEPFRAME_PROGRESS=0`` turns it off).

    Examples
    --------
    >>> import hepframe
    >>> from hepframe.datasets import generate_nanoaod
    >>> path = generate_nanoaod("/tmp/hepframe-doc.root", n_events=2000, seed=3)
    >>> df = hepframe.RDataFrame("Events", path)
    >>> h = df.Filter("nMuon == 2", "two muons").Histo1D(("met", "MET", 20, 0, 200), "MET_pt")
    >>> int(h.GetValue().sum(flow=True)) == df.Filter("nMuon == 2").Count().GetValue()
    True

    """

    def __init__(
        self,
        tree: str,
        files: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
        engine: str | Engine = "polars",
        progress: bool | None = None,
        step_size: int = DEFAULT_STEP_SIZE,
        *,
        _node: g.Node | None = None,
        _analysis: g.Analysis | None = None,
    ):
        if _node is not None and _analysis is not None:
            self._node, self._analysis = _node, _analysis
            self._engine, self._progress = engine, progress
            return
        if files is None:
            raise AnalysisError("RDataFrame needs a tree name and files, e.g. RDataFrame('Events', 'file.root')")
        self._engine = get_engine(engine)
        self._progress = progress
        source = RootSource.open(tree, files, step_size)
        root = g.Source(None, source)
        self._node = root
        self._analysis = g.Analysis(root, nodes=[root])

    # -- helpers -----------------------------------------------------------
    def _derive(self, node: g.Node) -> RDataFrame:
        self._analysis.nodes.append(node)
        return RDataFrame("", engine=self._engine, progress=self._progress, _node=node, _analysis=self._analysis)

    def _compile(self, text: str) -> ir.Expr:
        expr = compile_expression(text, self._node.schema())
        assert isinstance(self._engine, Engine)
        self._engine.check(expr, text)
        return expr

    def _column(self, name: str) -> ir.Column:
        schema = self._node.schema()
        if name == ENTRY_COLUMN:
            return ir.Column(SIZE_T, ENTRY_COLUMN)
        if not isinstance(name, str) or name not in schema:
            raise UnknownColumnError(f"unknown column {name!r}{did_you_mean(str(name), schema)}")
        return ir.Column(schema[name], name)

    def _book(self, action: g.Action) -> ResultPtr:
        self._analysis.actions.append(action)
        return ResultPtr(self, action)

    def _run(self) -> None:
        assert isinstance(self._engine, Engine)
        pending = self._analysis.pending()
        results = Executor(self._analysis, self._engine, self._progress).run(pending)
        self._analysis.results.update(results)

    # -- transformations ---------------------------------------------------
    def _udf_call(self, func, columns, returns=None) -> tuple[ir.Expr, str]:
        from hepframe.udf import as_udf

        if isinstance(columns, str) or columns is None:
            raise AnalysisError("a Python callable needs the list of its input columns, e.g. Define('x', f, ['a', 'b'])")
        u = as_udf(func, returns)
        args = tuple(self._column(c) for c in columns)
        if u.args is not None:
            if len(u.args) != len(args):
                raise AnalysisError(f"UDF {u.name!r} takes {len(u.args)} columns, got {len(args)}")
            for a, t in zip(args, u.args, strict=True):
                if a.type.depth != t.depth:
                    raise AnalysisError(f"UDF {u.name!r} expects {t.short} for column {a.name!r}, which is {a.type.short}")
            args = tuple(self._cast(a, t) for a, t in zip(args, u.args, strict=True))
        expr = ir.Call(u.returns, u.op_key, args)
        assert isinstance(self._engine, Engine)
        self._engine.check(expr)
        return expr, f"{u.name}({', '.join(columns)})"

    @staticmethod
    def _cast(expr: ir.Expr, target):
        from hepframe.expr.binder import Binder

        return Binder.cast(expr, target)

    def Filter(self, expression, columns_or_name=None, name: str | None = None) -> RDataFrame:  # noqa: N802
        """Keep events where ``expression`` is true; a named filter appears in ``Report()``.

        ``Filter("nMuon == 2", "two muons")`` takes a C++ expression; ``Filter(fn, ["nMuon"], "two
        muons")`` takes a vectorized Python callable (see :mod:`hepframe.udf`) returning booleans.
        """
        if callable(expression):
            expr, text = self._udf_call(expression, columns_or_name, returns="bool")
        else:
            if columns_or_name is not None and not isinstance(columns_or_name, str):
                raise AnalysisError("Filter(expression, name): the name must be a string")
            name = columns_or_name
            text = expression
            expr = self._compile(expression)
        if expr.type.is_rvec:
            raise AnalysisError(
                f"Filter {text!r} is {expr.type.short}, not a condition; reduce it, e.g. Any(...) or Sum(...) > 0"
            )
        if not expr.type.scalar.is_arithmetic:
            raise AnalysisError(f"Filter {text!r} is not a condition")
        if expr.type.scalar.name != "BOOL":
            from hepframe.expr.types import BOOL

            expr = self._cast(expr, BOOL)
        return self._derive(g.Filter(self._node, expr, text, name or None))

    def Define(self, name: str, expression, columns=None, returns=None) -> RDataFrame:  # noqa: N802
        """Add a column computed from a C++ ``expression``, or from a Python callable of ``columns``."""
        if not isinstance(name, str) or not name.isidentifier():
            raise AnalysisError(f"invalid column name {name!r}")
        if name in self._node.schema() or name == ENTRY_COLUMN:
            raise AnalysisError(f"column {name!r} already exists; choose another name")
        if callable(expression):
            expr, text = self._udf_call(expression, columns, returns)
        else:
            expr, text = self._compile(expression), expression
        return self._derive(g.Define(self._node, name, expr, text))

    # -- actions -----------------------------------------------------------
    def Histo1D(self, model, column: str | None = None, weight: str | None = None) -> ResultPtr:  # noqa: N802
        """Book a 1D histogram of ``column`` (filled once per element for RVec columns)."""
        if column is None:
            raise AnalysisError("Histo1D needs a model and a column name")
        parsed = parse_histo1d_model(model)
        return self._book(g.Histo1D(self._node, parsed, self._column(column),
                                    self._column(weight) if weight else None))  # fmt: skip

    def Count(self) -> ResultPtr[int]:  # noqa: N802
        """Book the number of events passing the filters."""
        return self._book(g.Count(self._node))

    def Sum(self, column: str) -> ResultPtr[float]:  # noqa: N802
        """Book the sum of ``column`` (of all elements, for RVec columns)."""
        return self._book(g.Sum(self._node, self._column(column)))

    def Mean(self, column: str) -> ResultPtr[float]:  # noqa: N802
        """Book the mean of ``column`` (over all elements, for RVec columns)."""
        return self._book(g.Mean(self._node, self._column(column)))

    def AsNumpy(self, columns: Iterable[str]) -> ResultPtr[dict]:  # noqa: N802
        """Book the values of ``columns`` as numpy arrays (RVec columns: object arrays of arrays, as ROOT)."""
        if isinstance(columns, str):
            columns = [columns]
        return self._book(g.AsNumpy(self._node, [self._column(c) for c in columns]))

    def Report(self) -> ResultPtr:  # noqa: N802
        """Book the cut-flow of named filters (all of them on the root, else those upstream)."""
        return self._book(g.Report(self._node))

    # -- introspection -----------------------------------------------------
    def GetColumnNames(self) -> list[str]:  # noqa: N802
        return sorted(self._node.schema())

    def GetColumnType(self, name: str) -> str:  # noqa: N802
        return str(self._column(name).type)

    @property
    def passes(self) -> int:
        """Number of event loops run on this graph so far."""
        return self._analysis.passes

    def __repr__(self) -> str:
        return f"<hepframe.RDataFrame {type(self._node).__name__} on {self._analysis.root.source.tree!r}>"
