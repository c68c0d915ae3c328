"""``from hepframe import ROOT``: ROOT's Python names for an RDataFrame analysis, without ROOT.

A ROOT user switches by changing ``import ROOT`` to ``from hepframe import ROOT``; the
``ROOT.RDataFrame`` it gives is a :class:`hepframe.RDataFrame`, whose verbs already carry
ROOT's names and semantics (``Filter``, ``Define``, ``Histo1D``, ``Report``, ...). This module
adds what scripts reach through the ``ROOT`` namespace: the ``RDataFrame`` constructor forms,
implicit multi-threading switches, ``ROOT.RDF`` (models, ``RunGraphs``, ``SaveGraph``,
``Experimental.VariationsFor``), ``std.vector`` and ``gROOT.SetBatch``.

Anything that needs the C++ interpreter (``gInterpreter.Declare``, ``ProcessLine``, ``TCanvas``)
raises :class:`~hepframe.errors.CppRequiredError` naming the construct and what to use instead:
hepframe never runs user text as code. See docs/migrating-from-root.md.

Examples
--------
>>> from hepframe import ROOT
>>> df = ROOT.RDataFrame(10).Define("x", "rdfentry_ * 2")
>>> df.Sum("x").GetValue()
90.0

"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import hepframe
from hepframe import distributed
from hepframe.errors import AnalysisError, CppRequiredError
from hepframe.roottree import FileTree, TChain, TFile, TTree
from hepframe.snapshot import RSnapshotOptions
from hepframe.trandom3 import TRandom3, gRandom
from hepframe.udf import Numba
from hepframe.variations import RunGraphs, SaveGraph, VariationsFor

if TYPE_CHECKING:
    from hepframe.dataframe import ResultPtr
    from hepframe.roothist import RootHist

__all__ = [
    "RDF",
    "Numba",
    "DisableImplicitMT",
    "EnableImplicitMT",
    "GetThreadPoolSize",
    "IsImplicitMTEnabled",
    "RDataFrame",
    "TCanvas",
    "TH1D",
    "TH1F",
    "TH2D",
    "TH3D",
    "TChain",
    "TFile",
    "TTree",
    "TRandom3",
    "VecOps",
    "gRandom",
    "gInterpreter",
    "gROOT",
    "std",
]

class _Namespace(SimpleNamespace):
    """A ROOT namespace with some of ROOT's names; a missing one is a clear error, not a bare AttributeError."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(_missing(f"{self.__dict__.get('_path', 'ROOT')}.{name}"))


def _missing(what: str) -> str:
    return (f"{what} is not provided by hepframe's ROOT facade (yet): see docs/migrating-from-root.md for what "
            "is supported and the alternatives")  # fmt: skip


# None: never set (hepframe's default: a thread per CPU); 1: disabled; n: EnableImplicitMT(n).
_threads: int | None = None


def EnableImplicitMT(n: int = 0) -> None:  # noqa: N802 - ROOT spelling
    """Compute batches on ``n`` threads (0: one per CPU); results are bit-identical for any ``n``."""
    global _threads
    if not isinstance(n, int) or n < 0:
        raise AnalysisError(f"EnableImplicitMT(n): n must be a non-negative number of threads, got {n!r}")
    _threads = n or (os.cpu_count() or 1)


def DisableImplicitMT() -> None:  # noqa: N802
    """Run the event loops on one thread, as ROOT does without implicit multi-threading."""
    global _threads
    _threads = 1


def IsImplicitMTEnabled() -> bool:  # noqa: N802
    return _threads is not None and _threads > 1


def GetThreadPoolSize() -> int:  # noqa: N802
    return _threads if _threads is not None and _threads > 1 else 0


class _VectorMeta(type):
    def __getitem__(cls, element_type: Any) -> type:  # std.vector["string"] or std.vector[int]
        import numpy as np

        from hepframe.udf import parse_type

        name = element_type if isinstance(element_type, str) else element_type.__name__
        if name in ("string", "std::string", "str", "TString"):
            return cls
        dtype = np.dtype(parse_type(name).scalar.dtype)
        return type(f"vector<{name}>", (cls,), {"element_type": dtype})  # TTree.Branch makes an RVec branch of it


class _Vector(list, metaclass=_VectorMeta):
    """``std.vector[T]()``: a Python list with ``push_back``/``size``, accepted wherever files are."""

    def push_back(self, item: Any) -> None:
        self.append(item)

    emplace_back = push_back

    def size(self) -> int:
        return len(self)

    def empty(self) -> bool:
        return not self


class _NumericLimitsMeta(type):
    def __getitem__(cls, type_name: Any) -> _NumericLimits:
        import numpy as np

        from hepframe.udf import parse_type

        return _NumericLimits(np.dtype(parse_type(type_name if isinstance(type_name, str) else
                                                  type_name.__name__).scalar.dtype))  # fmt: skip


class _NumericLimits(metaclass=_NumericLimitsMeta):
    """``std.numeric_limits["double"].max()`` and friends, for C++ arithmetic types."""

    def __init__(self, dtype: Any) -> None:
        import numpy as np

        self._info: Any = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype) if dtype.kind in "iu" else None
        self._dtype = dtype

    def max(self) -> Any:
        return True if self._info is None else self._dtype.type(self._info.max).item()

    def min(self) -> Any:
        if self._info is None:
            return False
        smallest = self._info.tiny if self._dtype.kind == "f" else self._info.min  # C++: the smallest normal float
        return self._dtype.type(smallest).item()

    def lowest(self) -> Any:
        return False if self._info is None else self._dtype.type(self._info.min).item()

    def epsilon(self) -> float:
        return self._dtype.type(self._info.eps).item() if self._dtype.kind == "f" else 0

    def infinity(self) -> float:
        return float("inf")

    def quiet_NaN(self) -> float:  # noqa: N802
        return float("nan")


std = _Namespace(_path="ROOT.std", vector=_Vector, numeric_limits=_NumericLimits)


def _as_rvec(data: Any) -> Any:
    """``ROOT.VecOps.AsRVec(array)``: an RVec over a numpy array is the array itself here."""
    import numpy as np

    array = np.asarray(data)
    if array.ndim != 1:
        raise AnalysisError(f"AsRVec takes a one-dimensional array, got shape {array.shape}")
    return array


class _RVecMeta(type):
    def __getitem__(cls, element_type: Any) -> Any:
        import numpy as np

        from hepframe.udf import parse_type

        dtype = parse_type(element_type if isinstance(element_type, str) else element_type.__name__).scalar.dtype
        return lambda values=(): np.asarray(values, dtype=dtype)


class _RVec(metaclass=_RVecMeta):
    """``ROOT.VecOps.RVec["float"]([1, 2])``: a numpy array of that element type."""


VecOps = _Namespace(_path="ROOT.VecOps", RVec=_RVec, AsRVec=_as_rvec)


def RDataFrame(*args: Any, **kwargs: Any) -> hepframe.RDataFrame:  # noqa: N802
    """``ROOT.RDataFrame(n)``, ``(tree, file or glob)``, ``(tree, [files])`` or ``(tree, std.vector)``.

    ``RDataFrame(n)`` has ``n`` entries and no columns: ``rdfentry_`` numbers them, as in ROOT.
    A third argument gives ROOT's default columns: actions called without column names use them.
    """
    if "executor" in kwargs:  # ROOT 6.40: RDataFrame(..., executor=sparkcontext, npartitions=n) runs on Spark
        return distributed.RDataFrame(*args, **kwargs)
    threads = kwargs.pop("threads", _threads)
    if len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
        return _empty(args[0], threads, **kwargs)
    defaults: list[str] = []
    if len(args) == 3:  # RDataFrame(tree, files, defaultColumns): actions without column names use them
        defaults = [args[2]] if isinstance(args[2], str) else [str(c) for c in args[2]]
        args = args[:2]
    if len(args) == 1 and isinstance(args[0], TTree):  # a tree filled in this script
        tree = args[0]
        return _from_table(tree.to_arrow(), tree.schema(), threads, label=f"TTree {tree.GetName()}", **kwargs)
    if len(args) == 1 and isinstance(args[0], (TChain, FileTree)):
        return _slotted(hepframe.RDataFrame.from_source(args[0].root_source(threads), **kwargs))
    if len(args) != 2:
        raise AnalysisError(f"ROOT.RDataFrame takes (number of entries), (tree name, files) or (TChain); got {args!r}")
    tree, files = args
    if isinstance(files, Iterable) and not isinstance(files, (str, os.PathLike)):
        files = [os.fspath(f) for f in files]
    df = _slotted(hepframe.RDataFrame(tree, files, threads=threads, **kwargs))
    for name in defaults:
        df._column(name)  # a clear error now for a default column that does not exist
    df._analysis.default_columns = defaults
    return df


def _empty(n: int, threads: int | None, **kwargs: Any) -> hepframe.RDataFrame:
    import pyarrow as pa

    if n < 0:
        raise AnalysisError(f"RDataFrame(n): the number of entries must be non-negative, got {n}")
    return _from_table(pa.table({"__entry_only__": pa.nulls(n, pa.int8())}), {}, threads, **kwargs)  # no columns


def _from_table(table: Any, schema: dict, threads: int | None = None, label: str = "", **kwargs: Any
                ) -> hepframe.RDataFrame:  # fmt: skip
    """An RDataFrame over an in-memory Arrow table, in batches spread over the implicit-MT threads."""
    from hepframe.connectors.memory import TableSource

    n = table.num_rows
    step = max(1, -(-n // max(1, threads if threads is not None else (_threads or 1)))) if n else 1
    source = TableSource("", table, schema, step_size=min(step, 250_000), label=label)
    return _slotted(hepframe.RDataFrame.from_source(source, **kwargs))


def _slotted(df: hepframe.RDataFrame) -> hepframe.RDataFrame:
    """ROOT's GetNSlots: the implicit-MT pool size when it is on, else 1."""
    df._analysis.slots = GetThreadPoolSize() or 1
    return df


def MakeTrivialDataFrame(n: int | None = None) -> hepframe.RDataFrame:  # noqa: N802
    """``ROOT.RDF.MakeTrivialDataFrame(n)``: one column ``col0`` (ULong64_t) holding the entry number."""
    import numpy as np

    if n is None:
        raise AnalysisError("MakeTrivialDataFrame() without a size is an infinite source; give the number of entries")
    if not isinstance(n, int) or n < 0:
        raise AnalysisError(f"MakeTrivialDataFrame(n): n must be a non-negative number of entries, got {n!r}")
    return _from_numpy({"col0": np.arange(n, dtype=np.uint64)}, "RTrivialDS")


def FromNumpy(columns: Any) -> hepframe.RDataFrame:  # noqa: N802
    """``ROOT.RDF.FromNumpy({"x": array, ...})``: one column per one-dimensional numpy array of numbers."""
    return _from_numpy(columns, "RVecDS")


def _from_numpy(columns: Any, label: str) -> hepframe.RDataFrame:
    import numpy as np
    import pyarrow as pa

    from hepframe.expr.types import CType

    if not hasattr(columns, "items"):
        raise AnalysisError("FromNumpy takes a dict of column name -> one-dimensional numpy array")
    arrays, schema, length = {}, {}, None
    for name, data in columns.items():
        array = np.asarray(data)
        if array.ndim != 1:
            raise AnalysisError(f"FromNumpy: column {name!r} has shape {array.shape}; ROOT takes one-dimensional arrays")
        try:
            schema[str(name)] = CType.from_dtype(array.dtype)
        except TypeError:
            raise AnalysisError(f"FromNumpy: column {name!r} has dtype {array.dtype}; ROOT takes arrays of "
                                "fundamental types (bool, integers, floats)") from None  # fmt: skip
        if length is not None and len(array) != length:
            raise AnalysisError(f"FromNumpy: column {name!r} has {len(array)} entries, the others {length}")
        length = len(array)
        arrays[str(name)] = pa.array(np.ascontiguousarray(array))
    if not arrays:
        raise AnalysisError("FromNumpy needs at least one column")
    return _from_table(pa.table(arrays), schema, label=label)


def FromPandas(frame: Any) -> hepframe.RDataFrame:  # noqa: N802
    """``ROOT.RDF.FromPandas(df)``: the frame's columns, as FromNumpy takes them."""
    if not hasattr(frame, "columns"):
        raise AnalysisError(f"FromPandas takes a pandas DataFrame, got {type(frame).__name__}")
    return FromNumpy({str(c): frame[c].to_numpy() for c in frame.columns})


def AddProgressBar(df: hepframe.RDataFrame) -> None:  # noqa: N802
    """``ROOT.RDF.Experimental.AddProgressBar(df)``: show hepframe's progress bar for this graph's event loops."""
    if not isinstance(df, hepframe.RDataFrame):
        raise AnalysisError(f"AddProgressBar takes an RDataFrame, got {type(df).__name__}")
    df._analysis.progress = True


_CSV_OPTIONS = {"leftTrim": "left_trim", "rightTrim": "right_trim", "skipBlankLines": "skip_blank_lines",
                "skipFirstNLines": "skip_first_n_lines", "skipLastNLines": "skip_last_n_lines", "comment": "comment",
                "columnNames": "column_names"}  # fmt: skip


def FromCSV(fileName: str | os.PathLike, readHeaders: bool = True, delimiter: str = ",",  # noqa: N802, N803
            linesChunkSize: int = -1, colTypes: Any = None, **options: Any) -> hepframe.RDataFrame:  # noqa: N803
    """``ROOT.RDF.FromCSV``: ROOT's RCsvDS type inference and values (hepframe.connectors.csv_source).

    String columns are read but, as hepframe has no string values, not usable in expressions.
    """
    from hepframe.connectors.csv_source import read_csv

    unknown = set(options) - set(_CSV_OPTIONS)
    if unknown:
        raise AnalysisError(f"FromCSV: unknown option(s) {sorted(unknown)}; ROOT's are {sorted(_CSV_OPTIONS)}")
    table, schema = read_csv(fileName, readHeaders, delimiter, linesChunkSize, colTypes,
                             **{_CSV_OPTIONS[k]: v for k, v in options.items()})  # fmt: skip
    return _from_table(table, schema, label="RCsv")


class _TString(str):
    """A ``TString``: a Python string with ``Data()``."""

    def Data(self) -> str:  # noqa: N802
        return str(self)


def _tutorial_dir() -> _TString:
    """ROOT's tutorials directory: ``$HEPFRAME_ROOT_TUTORIALS``, else the ROOT wheel's, if installed."""
    import importlib.util

    given = os.environ.get("HEPFRAME_ROOT_TUTORIALS")
    if given:
        return _TString(given)
    spec = importlib.util.find_spec("ROOT")  # finds the wheel without importing it
    if spec is not None and spec.origin:
        candidate = os.path.join(os.path.dirname(spec.origin), "tutorials")
        if os.path.isdir(candidate):
            return _TString(candidate)
    raise AnalysisError(
        "gROOT.GetTutorialDir(): hepframe ships no ROOT tutorials; set HEPFRAME_ROOT_TUTORIALS to a directory "
        "holding them (or install the 'root' wheel)"
    )


def _save_graph(obj: hepframe.RDataFrame | ResultPtr[Any], path: str | os.PathLike[str] | None = None) -> str:
    """``ROOT.RDF.SaveGraph(result or df[, file])``: the graph in ROOT's DOT layout (hepframe.rootgraph)."""
    return SaveGraph(obj, path, format="root")


def _model(kind: str, dims: int) -> Callable[..., tuple[Any, ...]]:
    """ROOT's ``TH1DModel(name, title, nbins, low, high)`` and friends: the tuple hepframe takes."""

    def model(*args: Any) -> tuple[Any, ...]:
        if len(args) < 2:
            raise AnalysisError(f"{kind}(name, title, nbins, low, high, ...) needs at least a name and a title")
        return tuple(args)

    model.__name__ = model.__qualname__ = kind
    model.__doc__ = f"``ROOT.RDF.{kind}``: a {dims}D model, the tuple form hepframe's actions take."
    return model


def __getattr__(name: str) -> Any:  # module attribute lookup: ROOT.TFile, ROOT.gRandom, ...
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(_missing(f"ROOT.{name}"))


if TYPE_CHECKING:  # what type checkers see of the namespaces: their functions with their signatures

    class _Experimental(_Namespace):
        VariationsFor = staticmethod(VariationsFor)
        FromSpec = staticmethod(hepframe.FromSpec)
        AddProgressBar = staticmethod(AddProgressBar)

    class _RDF(_Namespace):
        TH1DModel = TH2DModel = TH3DModel = TProfile1DModel = TProfile2DModel = staticmethod(_model("", 0))
        RunGraphs = staticmethod(RunGraphs)
        SaveGraph = staticmethod(_save_graph)
        MakeTrivialDataFrame = staticmethod(MakeTrivialDataFrame)
        FromNumpy = staticmethod(FromNumpy)
        FromPandas = staticmethod(FromPandas)
        FromCSV = staticmethod(FromCSV)
        RSnapshotOptions = RSnapshotOptions
        Experimental: _Experimental


RDF = cast("_RDF", _Namespace(
    _path="ROOT.RDF",
    TH1DModel=_model("TH1DModel", 1),
    TH2DModel=_model("TH2DModel", 2),
    TH3DModel=_model("TH3DModel", 3),
    TProfile1DModel=_model("TProfile1DModel", 1),
    TProfile2DModel=_model("TProfile2DModel", 2),
    RunGraphs=RunGraphs,
    SaveGraph=_save_graph,
    MakeTrivialDataFrame=MakeTrivialDataFrame,
    FromNumpy=FromNumpy,
    FromPandas=FromPandas,
    FromCSV=FromCSV,
    Distributed=distributed,
    RSnapshotOptions=RSnapshotOptions,
    Experimental=_Namespace(_path="ROOT.RDF.Experimental", VariationsFor=VariationsFor, FromSpec=hepframe.FromSpec,
                            Distributed=distributed, AddProgressBar=AddProgressBar),  # fmt: skip
))


class _Interpreter:
    """``gInterpreter``: ``Declare`` compiles helper functions (hepframe.cpp); there is no interpreter to run C++."""

    def Declare(self, code: str) -> bool:  # noqa: N802
        """Compile C++ helper functions (docs/cpp-helpers.md); they become callable in expression strings.

        An error in the code raises a positioned error, where ROOT prints it and returns False.
        """
        hepframe.declare(code)
        return True

    def ProcessLine(self, code: str) -> int:  # noqa: N802
        raise CppRequiredError(
            "gInterpreter.ProcessLine runs C++, which hepframe does not: do the same in Python "
            "(RDataFrame verbs, hepframe.udf for per-event functions)"
        )


gInterpreter = _Interpreter()


class _GlobalROOT:
    """``gROOT``: batch mode is the only mode (no graphics windows)."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(_missing(f"ROOT.gROOT.{name}"))

    def SetBatch(self, flag: bool = True) -> None:  # noqa: N802
        pass

    def GetTutorialDir(self) -> _TString:  # noqa: N802
        return _tutorial_dir()

    GetTutorialsDir = GetTutorialDir  # noqa: N815 - ROOT's newer spelling

    def IsBatch(self) -> bool:  # noqa: N802
        return True


gROOT = _GlobalROOT()


def _histogram_class(kind: str, dim: int) -> Callable[..., RootHist]:
    def construct(name: str, title: str = "", *binning: Any) -> RootHist:
        from hepframe.roothist import book

        return book(name, title, dim, *binning)

    construct.__name__ = kind
    construct.__doc__ = (f"``ROOT.{kind}(name, title, nbins, low, high{', ...' if dim > 1 else ''})``: an empty {dim}D "
                         "histogram (a hepframe RootHist) to fill with ``Fill``; contents are kept in double precision.")
    return construct


TH1D, TH1F, TH1I = (_histogram_class(k, 1) for k in ("TH1D", "TH1F", "TH1I"))
TH2D, TH2F = (_histogram_class(k, 2) for k in ("TH2D", "TH2F"))
TH3D, TH3F = (_histogram_class(k, 3) for k in ("TH3D", "TH3F"))


def TCanvas(*args: Any, **kwargs: Any) -> Any:  # noqa: N802
    raise CppRequiredError(
        "TCanvas draws with ROOT's graphics: plot the hist result with h.plot() or mplhep.histplot(h), "
        "and save it with matplotlib (plt.savefig)"
    )


# ROOT.ROOT.EnableImplicitMT() is the same function under ROOT's C++ namespace.
if TYPE_CHECKING:

    class _ROOT(_Namespace):
        EnableImplicitMT = staticmethod(EnableImplicitMT)
        DisableImplicitMT = staticmethod(DisableImplicitMT)
        IsImplicitMTEnabled = staticmethod(IsImplicitMTEnabled)
        GetThreadPoolSize = staticmethod(GetThreadPoolSize)
        RDataFrame = staticmethod(RDataFrame)
        RDF: _RDF


ROOT = cast("_ROOT", _Namespace(
    _path="ROOT.ROOT",
    EnableImplicitMT=EnableImplicitMT,
    DisableImplicitMT=DisableImplicitMT,
    IsImplicitMTEnabled=IsImplicitMTEnabled,
    GetThreadPoolSize=GetThreadPoolSize,
    RDF=RDF,
    RDataFrame=RDataFrame,
))
