"""The user-facing, RDataFrame-like API: lazy transformations and lazy result handles."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Literal, ParamSpec, TypeAlias, TypeVar, cast, overload

import numpy as np

from hepframe import graph as g
from hepframe.connectors import RootSource
from hepframe.connectors.root import DEFAULT_STEP_BYTES, DEFAULT_STEP_SIZE
from hepframe.display import Text
from hepframe.engines.base import BatchEngine, DistributedEngine, Engine, get_engine
from hepframe.errors import AnalysisError, UnknownColumnError, UnsupportedSyntaxError, did_you_mean
from hepframe.execution import Executor
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN, compile_expression
from hepframe.expr.types import BOOL, SIZE_T, CType, root_type_name
from hepframe.histograms import parse_histo_model
from hepframe.random_columns import PREFIX as RANDOM_PREFIX
from hepframe.random_columns import bind_draws
from hepframe.random_columns import prepare as prepare_draws

if TYPE_CHECKING:  # the result types, for type checkers only: importing hepframe stays as light as it was
    import awkward as ak
    import numpy.typing as npt
    import polars as pl
    import pyarrow as pa
    from boost_histogram.axis import Axis

    from hepframe.actions import CutFlowReport, DisplayTable, Statistic
    from hepframe.actions import Graph as GraphPoints  # RDataFrame.Graph would shadow the name in the class
    from hepframe.connectors.base import DataSource
    from hepframe.connectors.spec import SampleInfo
    from hepframe.roothist import RootHist
    from hepframe.rootprofile import RootProfile
    from hepframe.snapshot import RSnapshotOptions

T = TypeVar("T", covariant=True)  # a result is only read: ResultPtr[RootHist] is a ResultPtr[object]
A = TypeVar("A")  # Aggregate's accumulator
P = ParamSpec("P")

#: Paths as the file arguments take them: one path or glob, or several.
Paths: TypeAlias = "str | os.PathLike[str] | Iterable[str | os.PathLike[str]]"
#: A histogram model: ROOT's tuple ``(name, title, nbins, low, high, ...)`` (or a ``TH1DModel``), or hist axes.
HistoModel: TypeAlias = "tuple[Any, ...] | Sequence[Any] | Axis"
#: A Python callable used as a Define or Filter expression (vectorized, or a numba/``hepframe.udf`` function).
PythonFunction: TypeAlias = Callable[..., Any]
#: The C++ template arguments of ``df.Take["float"]``: type names (or Python types), one or a tuple.
TemplateArgs: TypeAlias = "str | type | tuple[str | type, ...]"


class ResultPtr(Generic[T]):
    """A lazy result, like ROOT's ``RResultPtr``: the event loop runs on the first ``GetValue()``.

    Asking for any result computes every result booked on the same graph in one pass. The type
    parameter is the result's type: ``Histo1D`` gives ``ResultPtr[RootHist]`` (a ``hist.Hist``),
    ``Count`` ``ResultPtr[int]``, ``Sum`` ``ResultPtr[float]``, ...
    """

    def __init__(self, frame: RDataFrame, action: g.Action):
        self._frame = frame
        self._action = action

    def GetValue(self) -> T:  # noqa: N802 - ROOT spelling
        analysis = self._frame._analysis
        if self._action in analysis.failed:
            raise analysis.failed[self._action]
        if self._action not in analysis.results:
            self._frame._run()
        return analysis.results[self._action]

    def IsReady(self) -> bool:  # noqa: N802
        return self._action in self._frame._analysis.results

    def GetPtr(self) -> T:  # noqa: N802
        """ROOT's ``GetPtr()``: the result object itself (computed if needed)."""
        return self.GetValue()

    @property
    def value(self) -> T:
        return self.GetValue()

    def __getattr__(self, name: str) -> Any:
        # Like RResultPtr's operator->: forward to the computed value (e.g. h.GetValue().sum()).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.GetValue(), name)

    def __repr__(self) -> str:
        state = "ready" if self.IsReady() else "pending: the next event loop computes it"
        action = self._action
        what = action.label
        if isinstance(action, g.ColumnAction) and action.kind in ("Histo", "Profile"):  # name the histogram
            o = action.options
            what = f"{action.kind}{len(o['axes'])}D {o['name']!r} of {', '.join(c.name for c in action.columns)}"
        return f"<ResultPtr {what} on {self._frame._analysis.root.source.tree!r} ({state})>"

    def _repr_html_(self) -> str:
        from hepframe.display import pre

        if not self.IsReady():
            return pre(repr(self))
        value = self.GetValue()
        shown = getattr(type(value), "_repr_html_", None)
        return shown(value) if shown is not None else pre(repr(value))


class _Templated(Generic[P, T]):
    """A verb that also takes C++ template arguments, as PyROOT spells them: ``df.Take["unsigned int"]("nJet")``.

    hepframe knows every column's type, so the template arguments are checked as type names and
    otherwise not needed; the call is the same. The verb keeps its signature for type checkers.
    """

    def __init__(self, method: Callable[Concatenate[RDataFrame, P], T]) -> None:
        self._method = method
        self.__doc__, self.__name__ = method.__doc__, method.__name__

    @overload
    def __get__(self, frame: None, owner: type | None = None) -> _Templated[P, T]: ...
    @overload
    def __get__(self, frame: RDataFrame, owner: type | None = None) -> _TemplatedCall[P, T]: ...
    def __get__(self, frame: RDataFrame | None, owner: type | None = None) -> _Templated[P, T] | _TemplatedCall[P, T]:
        if frame is None:
            return self
        return _TemplatedCall(cast("Callable[P, T]", MethodType(self._method, frame)))


class _TemplatedCall(Generic[P, T]):
    """A templated verb bound to its RDataFrame: call it, or give it template arguments first."""

    def __init__(self, bound: Callable[P, T]) -> None:
        self._bound = bound
        self.__doc__ = bound.__doc__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._bound(*args, **kwargs)

    def __getitem__(self, types: TemplateArgs) -> Callable[P, T]:
        from hepframe.udf import parse_type

        bound = self._bound
        for t in types if isinstance(types, tuple) else (types,):
            if isinstance(t, str) and not t.startswith(("ROOT::RDF::", "RDF")):
                try:
                    parse_type(t)
                except Exception:
                    raise AnalysisError(f"{bound.__name__}[{t!r}]: unknown C++ type {t!r}") from None
        return bound


def FromSpec(spec: dict[str, Any] | str | os.PathLike[str], engine: str | Engine = "polars",  # noqa: N802
             progress: bool | None = None, step_size: int = DEFAULT_STEP_SIZE) -> RDataFrame:  # fmt: skip
    """An RDataFrame over the samples of an RDatasetSpec (dict, JSON text or JSON file).

    Numeric metadata become the columns ``sample_<key>``; see :meth:`RDataFrame.DefinePerSample`.

    Examples
    --------
    >>> spec = {"samples": {"ttbar": {"trees": ["Events"], "files": ["tt.root"],
    ...                                "metadata": {"xsec": 831.8, "sumw": 1e6}}}}
    >>> df = hepframe.FromSpec(spec)  # doctest: +SKIP

    """
    from hepframe.connectors.spec import DatasetSource, load_spec

    return RDataFrame.from_source(DatasetSource(load_spec(spec), step_size), engine=engine, progress=progress)


def FromParquet(files: Paths, engine: str | Engine = "polars", progress: bool | None = None,  # noqa: N802
                step_size: int = DEFAULT_STEP_SIZE) -> RDataFrame:  # fmt: skip
    """An RDataFrame over Parquet files (e.g. written by ``hepframe convert`` or ``Snapshot``).

    Column types come from the Arrow schema (``list<T>`` columns are RVecs). On Spark, the files
    are read by Spark's own Parquet reader and native expressions run in the JVM.

    Examples
    --------
    >>> df = hepframe.FromParquet("skim/*.parquet", engine="spark")  # doctest: +SKIP

    """
    from hepframe.connectors.parquet import ParquetSource

    return RDataFrame.from_source(ParquetSource.open(files, step_size), engine=engine, progress=progress)


def FromPolars(frame: Any, engine: str | Engine = "polars", progress: bool | None = None,  # noqa: N802
               step_size: int = DEFAULT_STEP_SIZE) -> RDataFrame:  # fmt: skip
    """An RDataFrame over a Polars ``DataFrame`` or ``LazyFrame`` (collected once, then read in batches).

    Numeric columns and (nested) lists of numbers become C++ columns and RVecs with the same
    element types; other columns (strings, structs) are left out, and a frame with none left is
    an error. ``rdfentry_`` numbers the rows.

    Examples
    --------
    >>> import polars as pl, hepframe
    >>> df = hepframe.FromPolars(pl.DataFrame({"pt": [[10.0, 45.0], [50.0]], "w": [1.0, 2.0]}))
    >>> df.Define("n", "Sum(pt > 40)").Sum("n").GetValue()
    2.0

    """
    import polars as pl

    from hepframe.connectors.memory import TableSource
    from hepframe.connectors.parquet import ctype_of_arrow

    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, pl.DataFrame):
        raise AnalysisError(f"FromPolars takes a polars DataFrame or LazyFrame, got {type(frame).__name__}")
    table = frame.to_arrow()
    schema = {f.name: ctype_of_arrow(f.type) for f in table.schema}
    kept = {name: ctype for name, ctype in schema.items() if ctype is not None}
    if not kept and table.num_columns:
        raise AnalysisError(f"FromPolars: no numeric or list-of-numbers column among {', '.join(schema)}")
    source = TableSource("polars", table.select(list(kept)), kept, step_size=step_size, label="Polars")
    return RDataFrame.from_source(source, engine=engine, progress=progress)


def _as_cpp_function(text: str, schema: Mapping[str, CType], refused: UnsupportedSyntaxError) -> ir.Expr:
    """What the expression compiler refuses, compiled as a C++ function of the columns (hepframe.cpp).

    The expression compiler's error stands when the text needs what neither supports (gRandom,
    strings, ...); otherwise the C++ compiler's error, which knows more of C++, is the one raised.
    """
    if "gRandom" in text or '"' in text:
        raise refused
    from hepframe.cpp import compile_define
    from hepframe.errors import ExpressionTypeError

    try:
        return compile_define(text, schema)
    except ExpressionTypeError as exc:
        if "not a column type" in str(exc):  # e.g. a declared function of Lorentz vectors: the first error says why
            raise refused from None
        raise


class RDataFrame:
    """A lazy analysis over a TTree, in RDataFrame's vocabulary.

    Parameters
    ----------
    tree
        Name of the TTree, e.g. ``"Events"``.
    files
        A path, a glob (``"data/*.root"``) or a list of them.
    engine
        ``"polars"`` (default), ``"spark"``, ``"gpu"`` (CUDA kernels: docs/gpu.md) or
        ``"reference"`` (the numpy oracle).
    progress
        Show a progress bar during event loops (default: only on a terminal;
        ``HEPFRAME_PROGRESS=0`` turns it off).
    step_size
        Entries per batch (bounds memory). Default: 250,000, and more for few or small branches,
        up to 16 MiB per batch (branch data and entry numbers) and at least one batch per thread.
    threads
        Threads reading batches and computing them in parallel (default: all CPUs; 1: serial).
        Results are applied in entry order: bit-identical for any number of threads.
    cache
        Use the on-disk column cache of decompressed branches (default: on unless
        ``HEPFRAME_CACHE=0``; see :mod:`hepframe.connectors.cache`).
    entries
        ``(start, stop)``: read only these global entries (numbering continues across files).
    spark
        With ``engine="spark"``: the SparkSession to run on (default: the active one, or a new
        local session on every core).
    npartitions
        With ``engine="spark"``: about how many partitions to split the files into (whole
        clusters each; default: about 100 000 entries per partition).

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
        files: Paths | None = None,
        engine: str | Engine = "polars",
        progress: bool | None = None,
        step_size: int | None = None,
        threads: int | None = None,
        cache: bool | None = None,
        entries: tuple[int, int] | None = None,
        spark: Any = None,
        npartitions: int | None = None,
        *,
        _node: g.Node | None = None,
        _analysis: g.Analysis | None = None,
    ):
        if spark is not None or npartitions is not None:
            if engine != "spark":
                raise AnalysisError("spark= and npartitions= are options of engine='spark'")
            engine = get_engine("spark", spark=spark, npartitions=npartitions)
        self._engine: Engine = get_engine(engine)
        if _node is not None and _analysis is not None:
            self._node, self._analysis = _node, _analysis
            self._progress = progress
            return
        if files is None:
            raise AnalysisError("RDataFrame needs a tree name and files, e.g. RDataFrame('Events', 'file.root')")
        if not isinstance(files, (str, os.PathLike, list, tuple)):
            raise AnalysisError(f"files must be a path, a glob or a list of them, got {type(files).__name__}")
        if step_size is not None and (not isinstance(step_size, int) or step_size < 1):
            raise AnalysisError(f"step_size must be a positive number of entries, got {step_size!r}")
        self._progress = progress
        # Default: batches of 250k entries, larger for few or small branches (DEFAULT_STEP_BYTES).
        source = RootSource.open(tree, files, step_size or DEFAULT_STEP_SIZE, threads, cache, entries,
                                 None if step_size else DEFAULT_STEP_BYTES)  # fmt: skip
        root = g.Source(None, source)
        self._node = root
        self._analysis = g.Analysis(root, nodes=[root])

    # -- helpers -----------------------------------------------------------
    def _derive(self, node: g.Node) -> RDataFrame:
        self._analysis.nodes.append(node)
        return RDataFrame("", engine=self._engine, progress=self._progress, _node=node, _analysis=self._analysis)

    def _compile(self, text: str) -> ir.Expr:
        if not isinstance(text, str):
            raise AnalysisError(f"an expression must be a C++ string or a Python callable, got {type(text).__name__}")
        try:
            compiled = compile_expression(text, self._node.schema())
        except UnsupportedSyntaxError as refused:
            compiled = _as_cpp_function(text, self._node.schema(), refused)
        expr = bind_draws(compiled, text, self._analysis)
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

    def _book(self, action: g.Action) -> ResultPtr[Any]:
        self._analysis.actions.append(action)
        return ResultPtr(self, action)

    @classmethod
    def from_source(cls, source: DataSource, engine: str | Engine = "polars", progress: bool | None = None) -> RDataFrame:
        """An RDataFrame over any connector source (ROOT files, an in-memory table, a dataset spec)."""
        root = g.Source(None, source)
        return cls("", engine=get_engine(engine), progress=progress, _node=root,
                   _analysis=g.Analysis(root, nodes=[root]))  # fmt: skip

    def _run(self) -> None:
        pending = self._analysis.pending()
        prepare_draws(self._analysis, pending)
        engine = self._engine
        try:
            progress = self._progress if self._progress is not None else self._analysis.progress
            if isinstance(engine, DistributedEngine):
                results = engine.run_actions(self._analysis, pending, progress)
            else:
                assert isinstance(engine, BatchEngine)
                results = Executor(self._analysis, engine, progress).run(pending)
        except Exception as exc:
            # The actions of this event loop failed (and re-raise when asked); later bookings still run.
            for action in pending:
                self._analysis.failed[action] = exc
            raise
        self._analysis.results.update(results)

    # -- transformations ---------------------------------------------------
    def _udf_call(self, func: PythonFunction, columns: Sequence[str] | str | None,
                  returns: str | type | CType | None = None) -> tuple[ir.Expr, str]:  # fmt: skip
        from hepframe.udf import as_udf

        if isinstance(columns, str) or columns is None:
            raise AnalysisError("a Python callable needs the list of its input columns, e.g. Define('x', f, ['a', 'b'])")
        u = as_udf(func, returns)
        cols = tuple(self._column(c) for c in columns)
        args: tuple[ir.Expr, ...] = cols
        if u.args is not None:
            if len(u.args) != len(cols):
                raise AnalysisError(f"UDF {u.name!r} takes {len(u.args)} columns, got {len(cols)}")
            for a, t in zip(cols, u.args, strict=True):
                if a.type.depth != t.depth:
                    raise AnalysisError(f"UDF {u.name!r} expects {t.short} for column {a.name!r}, which is {a.type.short}")
            args = tuple(self._cast(a, t) for a, t in zip(cols, u.args, strict=True))
        expr = ir.Call(u.returns, u.op_key, args)
        assert isinstance(self._engine, Engine)
        self._engine.check(expr)
        return expr, f"{u.name}({', '.join(columns)})"

    @staticmethod
    def _cast(expr: ir.Expr, target: CType) -> ir.Expr:
        from hepframe.expr.binder import Binder

        return Binder.cast(expr, target)

    def Filter(self, expression: str | PythonFunction, columns_or_name: str | Sequence[str] | None = None,  # noqa: N802
               name: str | None = None) -> RDataFrame:  # fmt: skip
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
        if expr.type.scalar.name != "BOOL":  # ROOT too refuses a filter expression that is not a bool
            raise AnalysisError(
                f"Filter {text!r} is {expr.type.short}, not bool: write the condition, e.g. ({text}) != 0"
            )
        return self._derive(g.Filter(self._node, expr, text, name or None))

    def _check_new_name(self, name: str, redefine: bool = False) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise AnalysisError(f"invalid column name {name!r}")
        exists = name in self._node.schema() or name == ENTRY_COLUMN
        if exists and not redefine:
            raise AnalysisError(f"column {name!r} already exists; use Redefine to replace it")
        if not exists and redefine:
            raise AnalysisError(f"cannot Redefine {name!r}: no such column{did_you_mean(name, self._node.schema())}")

    def _define(self, name: str, expression: str | PythonFunction, columns: Sequence[str] | None,
                returns: str | type | CType | None, kind: str) -> RDataFrame:  # fmt: skip
        if callable(expression):
            expr, text = self._udf_call(expression, columns, returns)
        else:
            expr, text = self._compile(expression), expression
        return self._derive(g.Define(self._node, name, expr, text, kind))

    def Define(self, name: str, expression: str | PythonFunction, columns: Sequence[str] | None = None,  # noqa: N802
               returns: str | type | CType | None = None) -> RDataFrame:  # fmt: skip
        """Add a column computed from a C++ ``expression``, or from a Python callable of ``columns``.

        Examples
        --------
        >>> df.Define("ht", "Sum(Jet_pt[Jet_pt > 30])")  # doctest: +SKIP

        """
        self._check_new_name(name)
        return self._define(name, expression, columns, returns, "Define")

    def Redefine(self, name: str, expression: str | PythonFunction, columns: Sequence[str] | None = None,  # noqa: N802
               returns: str | type | CType | None = None) -> RDataFrame:  # fmt: skip
        """Replace an existing column (a branch or a Define) downstream of this node.

        The expression may use the column's previous value, e.g. ``Redefine("Jet_pt", "Jet_pt * 1.02f")``.
        """
        self._check_new_name(name, redefine=True)
        return self._define(name, expression, columns, returns, "Redefine")

    def Alias(self, alias: str, column: str) -> RDataFrame:  # noqa: N802
        """Make ``column`` also available as ``alias``."""
        self._check_new_name(alias)
        col = self._column(column)
        return self._derive(g.Define(self._node, alias, col, column, "Alias"))


    def Range(self, begin: int, end: int | None = None, stride: int = 1) -> RDataFrame:  # noqa: N802
        """Keep entries ``begin`` to ``end`` (exclusive, every ``stride``-th) of those reaching this node.

        ``Range(n)`` keeps the first n. Entries are counted in entry order on every engine, so the
        result is deterministic. ``end=None`` (or 0, as in ROOT) means "to the end".
        """
        self._engine.check_verb("Range")
        for value in (begin, end, stride):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise AnalysisError(f"Range needs integers, got {value!r}")
        if end is None:
            begin, end = 0, begin
        if end == 0:
            end = None
        if begin < 0 or (end is not None and end < begin) or stride < 1:
            raise AnalysisError(f"Range({begin}, {end}, {stride}): need 0 <= begin <= end and stride >= 1")
        return self._derive(g.Range(self._node, int(begin), None if end is None else int(end), int(stride)))

    def DefinePerSample(self, name: str, function: str | Callable[[SampleInfo], float | np.generic]  # noqa: N802
                        ) -> RDataFrame:  # fmt: skip
        """Add a column whose value is computed once per sample from its :class:`SampleInfo`.

        Example: ``df.DefinePerSample("weight", lambda s: s.GetD("xsec") * 59.7 / s.GetD("sumw"))``.
        The type follows the returned values (float gives double, int gives long, bool gives bool).
        A string is a C++ expression over the sample columns (``"sample_xsec * 2"``).
        """
        from hepframe.connectors.spec import DatasetSource, SampleInfo, _metadata_type

        self._check_new_name(name)
        if isinstance(function, str):
            return self.Define(name, function)
        source = self._analysis.root.source
        infos = source.infos() if isinstance(source, DatasetSource) else [SampleInfo(source.tree, {})]
        values = {info.name: function(info) for info in infos}
        ctype = _metadata_type(list(values.values()))
        if ctype is None:
            raise AnalysisError(f"DefinePerSample({name!r}): the function must return numbers or booleans")
        if not isinstance(source, DatasetSource):
            value = next(iter(values.values()))
            text = ("true" if value else "false") if isinstance(value, bool) else (
                repr(float(value)) if ctype.scalar.is_float else f"{int(value)}L")  # fmt: skip
            return self.Define(name, text)
        internal = f"__per_sample__{name}@{len(self._analysis.nodes)}"
        source.add_sample_column(internal, ctype, values)
        return self._derive(g.Define(self._node, name, ir.Column(ctype, internal), f"DefinePerSample({name})",
                                     "DefinePerSample"))  # fmt: skip

    def _optional_column(self, column: str) -> ir.Column:
        schema = self._node.schema()
        source = self._analysis.root.source
        found = schema[column] if column in schema else source.find_column(column)
        if found is None:
            raise UnknownColumnError(f"no branch {column!r} in any file of the dataset{did_you_mean(column, schema)}")
        source.allow_missing(column)
        return ir.Column(found, column) if column not in schema else self._column(column)

    def DefaultValueFor(self, column: str, default: float | np.number[Any]) -> RDataFrame:  # noqa: N802
        """Use ``default`` for ``column`` in events of files that lack the branch."""
        col = self._optional_column(column)
        if col.type.is_rvec:
            raise AnalysisError("DefaultValueFor supports scalar branches for now")
        if isinstance(default, bool) or not isinstance(default, (int, float, np.number)):
            raise AnalysisError(f"DefaultValueFor({column!r}): the default must be a number, got {default!r}")
        value = ir.Literal(col.type, _convert(default, col))
        expr = ir.Call(col.type, "DefaultValue", (col, value))
        return self._derive(g.Define(self._node, column, expr, f"DefaultValueFor({column}, {default!r})", "Redefine"))

    def FilterAvailable(self, column: str) -> RDataFrame:  # noqa: N802
        """Keep the events whose file has the branch ``column``."""
        expr = ir.Call(BOOL, "IsAvailable", (self._optional_column(column),))
        return self._derive(g.Filter(self._node, expr, f"FilterAvailable({column})", None))

    def FilterMissing(self, column: str) -> RDataFrame:  # noqa: N802
        """Keep the events whose file lacks the branch ``column``."""
        expr = ir.Unary(BOOL, "!", ir.Call(BOOL, "IsAvailable", (self._optional_column(column),)))
        return self._derive(g.Filter(self._node, expr, f"FilterMissing({column})", None))

    def Vary(self, column: str, expression: str, variation_tags: Sequence[str] | None = None,
             variation_name: str | None = None,
             nVariations: int | None = None) -> RDataFrame:  # noqa: N802, N803  # fmt: skip
        """Book systematic variations of ``column`` (see :func:`VariationsFor`).

        ``expression`` returns one value per variation, e.g. for a float column
        ``"ROOT::RVecF{pt * 0.98f, pt * 1.02f}"`` with ``variation_tags=["down", "up"]`` and
        ``variation_name="ptscale"``; for an RVec column, an RVec of RVecs. ``nVariations=n``
        names the tags ``0..n-1``.
        """
        col = self._column(column)
        if variation_tags is None:
            if nVariations is None:
                raise AnalysisError("Vary needs variation_tags (e.g. ['down', 'up']) or nVariations")
            variation_tags = [str(i) for i in range(nVariations)]
        tags = [str(t) for t in variation_tags]
        name = variation_name or column
        for label in (name, *tags):
            if not label or ":" in label:
                raise AnalysisError(f"Vary({column!r}): variation names and tags must be non-empty and without ':', "
                                    f"got {label!r}")  # fmt: skip
        if len(set(tags)) != len(tags):
            raise AnalysisError(f"Vary({column!r}): duplicate variation tags {tags}")
        expr = self._compile(expression)
        want = CType(col.type.scalar, col.type.depth + 1)
        if expr.type != want:  # ROOT requires exactly RVec<column type>
            raise AnalysisError(
                f"Vary({column!r}): the expression must give {want.short} (one value per variation), "
                f"got {expr.type.short}"
            )
        if isinstance(expr, ir.Call) and expr.func == "RVecOf" and len(expr.args) != len(tags):
            raise AnalysisError(f"Vary({column!r}): {len(expr.args)} values for {len(tags)} tags {tags}")
        for n in self._analysis.nodes:  # one name may hold several Vary calls' tags, as in ROOT, but not twice one tag
            clash = [t for t in tags if (name, t) in n.universes] if isinstance(n, g.Vary) else []
            if isinstance(n, g.Vary) and clash:
                raise AnalysisError(f"the variation {name}:{clash[0]} already exists (Vary of {n.column!r})")
        return self._derive(g.Vary(self._node, column, expr, expression, tags, name))

    # -- actions -----------------------------------------------------------
    def _histo(self, model: HistoModel, columns: list[str], weight: str | None, dim: int,
               profile: bool = False) -> ResultPtr[Any]:  # fmt: skip
        value_range = None
        if profile and isinstance(model, (tuple, list)) and len(model) == 2 + 3 * dim + 2 and not any(
            isinstance(m, (list, tuple, np.ndarray)) for m in model
        ):  # TProfile models may end with (ylow, yup): values outside are not filled
            model, value_range = tuple(model[:-2]), (float(model[-2]), float(model[-1]))
        name, title, axes = parse_histo_model(model, dim)
        if any(a.automatic for a in axes) and (dim > 1 or profile):
            raise AnalysisError(
                f"histogram {name!r}: an axis needs low < high; automatic ranges (low >= high, as in "
                f"ROOT's (nbins, 0, 0)) work for Histo1D only"
            )
        cols = [self._column(c) for c in columns]
        for c in cols:
            if c.type.depth > 1:
                raise AnalysisError(f"cannot fill a histogram with {c.name!r}, which is {c.type.short}")
        if len({a.name for a in axes}) < len(axes):  # ROOT models name the histogram, not its axes
            axes = [dataclasses.replace(a, name=c) for a, c in zip(axes, columns, strict=False)]
        w = self._column(weight) if weight else None
        action = g.histogram_action(self._node, name, title, axes, cols, w, profile)
        action.options["value_range"] = value_range
        return self._book(action)

    @_Templated
    def Histo1D(self, model: HistoModel | str | None = None, column: str | None = None,  # noqa: N802
                weight: str | None = None) -> ResultPtr[RootHist]:  # fmt: skip
        """Book a 1D histogram of ``column`` (filled once per element for RVec columns).

        ``model`` is ROOT's ``(name, title, nbins, low, high)`` or ``(name, title, nbins, edges)``,
        or a ``hist.axis``. The result is a ``hist.Hist`` with flow bins and Weight storage.
        ``Histo1D("x")`` (or ``"x", "w"``), and a model with ``low >= high``, choose the axis range
        as ROOT does: from the first 1000 values, extended when later values fall outside.
        """
        if isinstance(model, str):  # ROOT's Histo1D("x") and Histo1D("x", "w"): 128 bins, automatic range
            if weight is not None:
                raise AnalysisError("Histo1D(column, weight) takes two column names; a model goes first")
            column, weight = model, column
            if weight is None:
                model = (column, f"{column};{column};count", 128, 0.0, 0.0)
            else:
                model = (f"{column}_weighted_{weight}", f"{column}, weights: {weight};{column};count * {weight}",
                         128, 0.0, 0.0)  # fmt: skip
        if model is None:  # ROOT's Histo1D(): the first default column, automatic range
            model = ("", "", 128, 0.0, 0.0)
        (column,) = self._or_defaults("Histo1D", [column])
        return self._histo(model, [column], weight, 1)

    @_Templated
    def Histo2D(self, model: HistoModel, x: str | None = None, y: str | None = None,  # noqa: N802
                weight: str | None = None) -> ResultPtr[RootHist]:  # fmt: skip
        """Book a 2D histogram; model ``(name, title, nx, xlow, xhigh, ny, ylow, yhigh)`` or two hist axes."""
        return self._histo(model, self._or_defaults("Histo2D", [x, y]), weight, 2)

    @_Templated
    def Histo3D(self, model: HistoModel, x: str | None = None, y: str | None = None, z: str | None = None,  # noqa: N802
                weight: str | None = None) -> ResultPtr[RootHist]:  # fmt: skip
        """Book a 3D histogram (model as for Histo2D, with a third axis)."""
        return self._histo(model, self._or_defaults("Histo3D", [x, y, z]), weight, 3)

    def HistoND(self, model: HistoModel, columns: Sequence[str], weight: str | None = None,  # noqa: N802
                ) -> ResultPtr[RootHist]:  # fmt: skip
        """Book an N-dimensional histogram; model ``(name, title, dim, nbins[], lows[], highs[])`` or axes."""
        return self._histo(model, list(columns), weight, len(columns))

    @_Templated
    def Profile1D(self, model: HistoModel, x: str | None = None, y: str | None = None,  # noqa: N802
                  weight: str | None = None) -> ResultPtr[RootProfile]:  # fmt: skip
        """Book a profile (mean of ``y`` per bin of ``x``): TProfile's methods and numbers (RootProfile)."""
        return self._histo(model, self._or_defaults("Profile1D", [x, y]), weight, 1, profile=True)

    @_Templated
    def Profile2D(self, model: HistoModel, x: str | None = None, y: str | None = None, z: str | None = None,  # noqa: N802
                  weight: str | None = None) -> ResultPtr[RootProfile]:  # fmt: skip
        """Book a 2D profile (mean of ``z`` per bin of ``x`` and ``y``)."""
        return self._histo(model, self._or_defaults("Profile2D", [x, y, z]), weight, 2, profile=True)

    @_Templated
    def Graph(self, x: str | None = None, y: str | None = None) -> ResultPtr[GraphPoints]:  # noqa: N802
        """Book the (x, y) points of all events, in entry order (a TGraph-like object)."""
        x, y = self._or_defaults("Graph", [x, y])
        return self._book(g.ColumnAction(self._node, columns=[self._column(x), self._column(y)], kind="Graph"))

    def Count(self) -> ResultPtr[int]:  # noqa: N802
        """Book the number of events passing the filters."""
        return self._book(g.Count(self._node))

    def _or_defaults(self, verb: str, columns: list[str | None]) -> list[str]:
        """The column arguments, or ROOT's default columns (``RDataFrame(tree, files, columns)``) when all are left out."""
        if all(c is not None for c in columns):
            return [str(c) for c in columns]
        defaults = self._analysis.default_columns
        if any(c is not None for c in columns) or len(defaults) < len(columns):
            raise AnalysisError(
                f"{verb} needs {len(columns)} column name(s)"
                + (f"; the default columns {defaults} are too few" if defaults else " (this RDataFrame has no default columns)")
            )
        return list(defaults[: len(columns)])

    def _column_action(self, kind: str, columns: Iterable[str], **options: Any) -> ResultPtr[Any]:
        if columns is None or isinstance(columns, (int, float)):
            raise AnalysisError(f"{kind} needs column names, got {columns!r}")
        cols = [self._column(c) for c in columns]
        if kind not in ("AsNumpy", "Take", "AsArrow", "AsAwkward", "Snapshot"):
            for c in cols:
                if c.type.depth > 1:
                    raise AnalysisError(f"{kind} cannot use {c.name!r}, which is {c.type.short}; index it first, e.g. c[0]")
        return self._book(g.ColumnAction(self._node, columns=cols, kind=kind, options=options))

    @_Templated
    def Sum(self, column: str | None = None) -> ResultPtr[float]:  # noqa: N802
        """Book the sum of ``column`` (of all elements, for RVec columns)."""
        return self._column_action("Sum", self._or_defaults("Sum", [column]))

    @_Templated
    def Mean(self, column: str | None = None) -> ResultPtr[float]:  # noqa: N802
        """Book the mean of ``column`` (over all elements, for RVec columns)."""
        return self._column_action("Mean", self._or_defaults("Mean", [column]))

    @_Templated
    def Min(self, column: str | None = None) -> ResultPtr[float]:  # noqa: N802
        """Book the smallest value of ``column`` (over all elements, for RVec columns)."""
        return self._column_action("Min", self._or_defaults("Min", [column]))

    @_Templated
    def Max(self, column: str | None = None) -> ResultPtr[float]:  # noqa: N802
        """Book the largest value of ``column``."""
        return self._column_action("Max", self._or_defaults("Max", [column]))

    @_Templated
    def StdDev(self, column: str | None = None) -> ResultPtr[float]:  # noqa: N802
        """Book the (unbiased) standard deviation of ``column``."""
        return self._column_action("StdDev", self._or_defaults("StdDev", [column]))

    @_Templated
    def Stats(self, column: str | None = None, weight: str | None = None) -> ResultPtr[Statistic]:  # noqa: N802
        """Book a TStatistic-like summary (N, sum of weights, mean, RMS, min, max) of ``column``."""
        return self._column_action("Stats", self._or_defaults("Stats", [column]) + ([weight] if weight else []))

    @_Templated
    def Take(self, column: str | None = None) -> ResultPtr[npt.NDArray[Any]]:  # noqa: N802
        """Book all values of ``column`` as a numpy array (RVec columns: an object array of arrays)."""
        return self._column_action("Take", self._or_defaults("Take", [column]))

    @overload
    def AsNumpy(self, columns: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None,  # noqa: N802
                lazy: Literal[False] = False) -> dict[str, npt.NDArray[Any]]: ...
    @overload
    def AsNumpy(self, columns: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None,  # noqa: N802
                *, lazy: Literal[True]) -> ResultPtr[dict[str, npt.NDArray[Any]]]: ...
    @overload
    def AsNumpy(self, columns: Iterable[str] | str | None, exclude: Iterable[str] | str | None,  # noqa: N802
                lazy: Literal[True]) -> ResultPtr[dict[str, npt.NDArray[Any]]]: ...
    @overload
    def AsNumpy(self, columns: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None,  # noqa: N802
                lazy: bool = False) -> dict[str, npt.NDArray[Any]] | ResultPtr[dict[str, npt.NDArray[Any]]]: ...
    def AsNumpy(self, columns: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None,  # noqa: N802
                lazy: bool = False) -> dict[str, npt.NDArray[Any]] | ResultPtr[dict[str, npt.NDArray[Any]]]:  # fmt: skip
        """The values of ``columns`` as a dict of numpy arrays (RVec columns: object arrays of arrays).

        As in ROOT: ``columns=None`` means every column (``GetColumnNames()``) but those in
        ``exclude``; the event loop runs now (with every other booked result); ``lazy=True``
        books it instead and returns a handle (``GetValue()`` gives the dict).
        """
        if isinstance(columns, str):
            columns = [columns]
        if columns is None:
            columns = self.GetColumnNames()
        if exclude is not None:
            excluded = {exclude} if isinstance(exclude, str) else set(exclude)
            columns = [c for c in columns if c not in excluded]
        handle = self._column_action("AsNumpy", columns)
        return handle if lazy else handle.GetValue()

    def AsArrow(self, columns: Iterable[str]) -> ResultPtr[pa.Table]:  # noqa: N802
        """Book the values of ``columns`` as a ``pyarrow.Table`` (RVec columns as list columns)."""
        return self._column_action("AsArrow", [columns] if isinstance(columns, str) else columns)

    def AsPolars(self, columns: Iterable[str] | str | None = None) -> pl.DataFrame:  # noqa: N802
        """The selected events' ``columns`` (default: all) as a Polars ``DataFrame``; runs the event loop now.

        Types are kept (float32 stays Float32, RVecs become List columns), in entry order.
        """
        import polars as pl

        names = self._snapshot_columns(columns) if columns is not None else self.GetColumnNames()
        frame = pl.from_arrow(self.AsArrow(names).GetValue(), rechunk=True)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def AsAwkward(self, columns: Iterable[str]) -> ResultPtr[ak.Array]:  # noqa: N802
        """Book the values of ``columns`` as an awkward array of records."""
        return self._column_action("AsAwkward", [columns] if isinstance(columns, str) else columns)

    def Reduce(self, function: np.ufunc, column: str, init: Any = None) -> ResultPtr[Any]:  # noqa: N802
        """Book a reduction of ``column`` with a numpy ufunc, e.g. ``Reduce(np.maximum, "MET_pt")``.

        The ufunc reduces each batch (vectorized) and combines the partial results.
        """
        if not hasattr(function, "reduce"):
            raise AnalysisError("Reduce needs a numpy ufunc such as np.add or np.maximum; use Aggregate otherwise")
        return self._column_action("Reduce", [column], batch=lambda v: function.reduce(_flat_values(v)),
                                   merge=function, init=init)  # fmt: skip

    def Aggregate(self, aggregator: Callable[[A, npt.NDArray[Any]], A], merger: Callable[[A, A], A],  # noqa: N802
                  column: str, init: A | None = None) -> ResultPtr[A]:  # fmt: skip
        """Book ``aggregator(acc, values_of_batch) -> acc``, with ``merger(acc1, acc2)`` for partials.

        ``aggregator`` receives the batch's values as a numpy array (all elements for RVec columns).
        """
        start = cast("A", init)  # None when not given: the aggregator's first call receives it, as ROOT's default
        return self._column_action("Reduce", [column], batch=lambda v: aggregator(start, _flat_values(v)),
                                   merge=merger, init=init)  # fmt: skip

    def Report(self, weight: str | None = None) -> ResultPtr[CutFlowReport]:  # noqa: N802
        """Book the cut-flow of named filters (all of them on the root, else those upstream).

        With ``weight``, each entry also has the sum of that column's values over the events
        that reach and pass the filter (a weighted cut-flow). The column must be visible at every
        reported filter, e.g. a weight defined before the first Filter.
        """
        report = g.Report(self._node, weight=weight)
        if weight is not None:
            for node in Executor(self._analysis, self._engine.batch_engine())._report_scope(report):
                if weight not in node.schema():
                    raise AnalysisError(f"Report weight {weight!r} is not defined at filter {node.name!r}; "
                                        f"define it before the first filter")  # fmt: skip
        return self._book(report)

    @overload
    def Snapshot(self, tree: str, path: str | os.PathLike[str], columns: Iterable[str] | str | None = None,  # noqa: N802
                 lazy: Literal[False] = False) -> RDataFrame: ...
    @overload
    def Snapshot(self, tree: str, path: str | os.PathLike[str], columns: Iterable[str] | str | None = None,  # noqa: N802
                 *, lazy: Literal[True]) -> ResultPtr[RDataFrame]: ...
    @overload
    def Snapshot(self, tree: str, path: str | os.PathLike[str], columns: Iterable[str] | str | None,  # noqa: N802
                 lazy: Literal[True]) -> ResultPtr[RDataFrame]: ...
    @overload
    def Snapshot(self, tree: str, path: str | os.PathLike[str], columns: Iterable[str] | str | None = None,  # noqa: N802
                 lazy: bool | RSnapshotOptions = False) -> RDataFrame | ResultPtr[RDataFrame]: ...
    def Snapshot(self, tree: str, path: str | os.PathLike[str], columns: Iterable[str] | str | None = None,  # noqa: N802
                 lazy: bool | RSnapshotOptions = False) -> RDataFrame | ResultPtr[RDataFrame]:  # fmt: skip
        """Write ``columns`` of the events reaching this node to ROOT, Parquet or Arrow IPC, atomically.

        ``columns`` selects as in ROOT: ``None`` or ``""`` all columns (Defines included), a string a
        regular expression matched against whole names (``"MET_.*"``), a list exactly those names;
        selecting no column is an error. The format follows the extension (``.root``, ``.parquet``,
        ``.arrow``/``.feather``). The file appears only when complete; temporaries left by killed
        writers are removed by the next write into the same directory. On Spark, the output is a
        Parquet dataset directory with one part per task, renamed into place when every task has
        succeeded. Returns a new RDataFrame over the written file (or a lazy handle with ``lazy=True``).
        """
        self._engine.check_verb("Snapshot")
        from hepframe.snapshot import RSnapshotOptions, partitioned_parquet_writer, snapshot_writer

        if isinstance(lazy, RSnapshotOptions):  # ROOT's Snapshot(tree, file, columns, options)
            if lazy.fMode.upper() != "RECREATE":
                raise AnalysisError(f"Snapshot: fMode {lazy.fMode!r} is not supported; hepframe writes new files "
                                    "(RECREATE), atomically")  # fmt: skip
            lazy = lazy.fLazy

        names = self._snapshot_columns(columns)
        cols = [self._column(c) for c in names]
        distributed = isinstance(self._engine, DistributedEngine)
        if distributed and str(path).lower().endswith(".root"):
            return self._distributed_root_snapshot(tree, path, names, lazy)
        writer = (partitioned_parquet_writer if distributed else snapshot_writer)(tree, path, cols)
        handle = self._book(g.ColumnAction(self._node, columns=cols, kind="Snapshot", options={"writer": writer}))
        return handle if lazy else handle.GetValue()

    def _distributed_root_snapshot(self, tree: str, path: str | os.PathLike[str], names: list[str],
                                   lazy: bool) -> RDataFrame:  # fmt: skip
        """A ROOT file from a distributed engine: the tasks write a Parquet dataset, the driver one ROOT file.

        ROOT's distributed Snapshot writes a file per partition; one file keeps ``path`` what the
        user named, written atomically as every Snapshot is.
        """
        import glob
        import shutil
        import tempfile

        if lazy:
            raise AnalysisError("a lazy Snapshot to a ROOT file is not supported on a distributed engine; "
                                "write '*.parquet', or call Snapshot without lazy=True")  # fmt: skip
        parent = os.path.dirname(os.path.abspath(path))
        staging = tempfile.mkdtemp(prefix=".hepframe-snapshot-", dir=parent)
        try:
            parts = os.path.join(staging, "parts.parquet")
            self.Snapshot(tree, parts, names)
            pieces = sorted(glob.glob(os.path.join(parts, "*.parquet")))  # part files, in partition (entry) order
            FromParquet(pieces, progress=False).Snapshot(tree, path, names)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return RDataFrame(tree, path, engine=self._engine, progress=self._progress)

    def _snapshot_columns(self, columns: Iterable[str] | str | None) -> list[str]:
        from hepframe.snapshot import select_columns  # ROOT's rules: a regular expression or a list of names

        # ROOT's order: the defined columns in the order of their Defines, then the dataset's columns
        visible = set(self.GetColumnNames())
        defined = list(dict.fromkeys(n.name for n in reversed(self._node.ancestors())
                                     if isinstance(n, g.Define) and n.name in visible))  # fmt: skip
        dataset = [c for c in self._node.schema() if c in visible and c not in defined]
        return select_columns(defined + dataset, columns)

    def Cache(self, columns: Iterable[str] | str | None = None) -> RDataFrame:  # noqa: N802
        """Run the event loop once and keep ``columns`` (default: all) of the selected events in memory.

        Returns a new RDataFrame over the cached table: later analyses do not read the files again.
        """
        from hepframe.connectors.memory import TableSource

        names = self._snapshot_columns(columns)
        table = self.AsArrow(names).GetValue()
        source = TableSource(self._analysis.root.source.tree, table, {n: self._node.schema()[n] for n in names})
        return RDataFrame.from_source(source, engine=self._engine, progress=self._progress)

    # -- introspection -----------------------------------------------------
    def GetColumnNames(self) -> list[str]:  # noqa: N802
        return sorted(c for c in self._node.schema() if not c.startswith(("__per_sample__", RANDOM_PREFIX)))

    def GetColumnType(self, name: str) -> str:  # noqa: N802
        """The column's C++ type; TTree branches as ROOT names them (``Float_t``, ``ROOT::VecOps::RVec<Int_t>``)."""
        column = self._column(name)
        source = self._analysis.root.source
        if isinstance(source, RootSource) and name in source.schema and name not in self._node.defines_in_scope():
            return source.root_types.get(name) or root_type_name(column.type, dataset=True)
        return str(column.type)

    def GetDefinedColumnNames(self) -> list[str]:  # noqa: N802
        """Columns defined or redefined upstream of this node (not aliases), as ROOT lists them."""
        kinds = ("Define", "Redefine", "DefinePerSample")
        return sorted({n.name for n in self._node.ancestors() if isinstance(n, g.Define) and n.kind in kinds})

    def GetFilterNames(self) -> list[str]:  # noqa: N802
        """Filter names as ROOT gives them: upstream ones from the source down, or all of them on the root."""
        if self._node is self._analysis.root:
            nodes = [n for n in self._analysis.nodes if isinstance(n, g.Filter)]
        else:
            nodes = [n for n in reversed(self._node.ancestors()) if isinstance(n, g.Filter)]
        return [n.name or "Unnamed Filter" for n in nodes]

    def Describe(self) -> Description:  # noqa: N802
        """The dataset, the graph's properties and every column's type and origin, in ROOT's layout."""
        from hepframe.connectors.memory import TableSource

        source = self._analysis.root.source
        if isinstance(source, RootSource):
            where = f"in file {source.files[0]}" if len(source.files) == 1 else "in files\n" + "\n".join(
                f"  {f}" for f in source.files)  # fmt: skip
            dataset = f"Dataframe from TChain {source.tree} {where}"
        elif isinstance(source, TableSource) and not source.schema and not source.label:
            dataset = f"Empty dataframe filling {source.num_entries} rows"
        else:
            label = source.label if isinstance(source, TableSource) and source.label else type(source).__name__
            dataset = f"Dataframe from datasource {label}"
        names = self.GetColumnNames()
        schema = self._node.schema()
        defined = self._node.defines_in_scope()
        properties = [("Columns in total", len(names)), ("Columns from defines", len(self.GetDefinedColumnNames())),
                      ("Event loops run", self._analysis.passes), ("Processing slots", self.GetNSlots())]  # fmt: skip
        types = [source.root_types.get(n) or root_type_name(schema[n], dataset=True)
                 if n not in defined and isinstance(source, RootSource) else root_type_name(schema[n]) for n in names]
        origins = [defined[n].kind if n in defined else "Dataset" for n in names]
        name_width, type_width = _column_width(names), _column_width(types)
        lines = [dataset, "", f"{'Property':<24}Value", f"{'--------':<24}-----"]
        lines += [f"{label:<24}{value:>5}" for label, value in properties]
        lines += ["", f"{'Column':<{name_width}}{'Type':<{type_width}}Origin",
                  f"{'------':<{name_width}}{'----':<{type_width}}------"]  # fmt: skip
        lines += [f"{n:<{name_width}}{t:<{type_width}}{o}" for n, t, o in zip(names, types, origins, strict=True)]
        return Description("\n".join(lines) + "\n")

    def GetNSlots(self) -> int:  # noqa: N802
        """ROOT's number of processing slots: 1, or the threads of ``ROOT.EnableImplicitMT`` (facade)."""
        return self._analysis.slots

    def GetNRuns(self) -> int:  # noqa: N802
        """The number of event loops run on this graph so far."""
        return self._analysis.passes

    def Display(self, columns: Iterable[str] | str = "", nRows: int = 5,  # noqa: N802, N803
                nMaxCollectionElements: int = 10, *, columnList: Iterable[str] | str | None = None,  # noqa: N803
                ) -> ResultPtr[DisplayTable]:  # fmt: skip
        """Book a table of the first ``nRows`` events, printed as ROOT prints it (``.Print()``, ``AsString()``).

        ``columns``: a list of names, or a regular expression (``""``: all columns, sorted by name, as
        in ROOT); RVec columns show at most ``nMaxCollectionElements`` elements.
        """
        if columnList is not None:  # ROOT's keyword name
            columns = columnList
        names = self._snapshot_columns(columns or None) if not isinstance(columns, str) or columns else []
        if not names:
            names = sorted(self.GetColumnNames())
        return self.Range(nRows)._column_action("AsNumpy", [ENTRY_COLUMN, *names], display=nMaxCollectionElements)

    def explain(self) -> Text:
        """The compiled engine plan for every expression upstream of this node."""
        from hepframe.display import Text
        from hepframe.explain import explain

        return Text(explain(self))

    def _repr_html_(self) -> str:
        from hepframe.display import table
        from hepframe.graphsvg import svg

        steps = [[i, node.label] for i, node in enumerate(reversed(self._node.ancestors()))]
        booked = [a.label for a in self._analysis.actions if a.node is self._node]
        caption = f"hepframe.RDataFrame on the {self._engine.name} engine" + (
            f"; booked here: {', '.join(booked)}" if booked else "")  # fmt: skip
        return table(["step", "node"], steps, caption) + svg(self)

    @property
    def passes(self) -> int:
        """Number of event loops run on this graph so far."""
        return self._analysis.passes

    def __repr__(self) -> str:
        return f"<hepframe.RDataFrame {type(self._node).__name__} on {self._analysis.root.source.tree!r}>"


class Description(Text):
    """``Describe()``'s text, with ROOT's ``Print()`` and ``AsString()`` (``shortFormat``: the dataset line only)."""

    def AsString(self, shortFormat: bool = False) -> str:  # noqa: N802, N803
        return self.split("\n\n", 1)[0] if shortFormat else str(self)

    def Print(self, shortFormat: bool = False) -> None:  # noqa: N802, N803
        text = self.AsString(shortFormat)
        print(text, end="" if text.endswith("\n") else "\n")


def _column_width(names: list[str]) -> int:
    """ROOT's GetColumnWidth: the longest name rounded up to the next multiple of 8 (always some space)."""
    return (max((len(n) for n in names), default=0) // 8 + 1) * 8


def _convert(value: Any, column: ir.Column) -> int | float | bool:
    from hepframe.expr.binder import convert_literal

    return convert_literal(value, column.type.scalar)


def _flat_values(value: Any) -> npt.NDArray[Any]:
    from hepframe.actions import flatten

    return flatten(value)
