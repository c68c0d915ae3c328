"""``ROOT.RDF.Distributed`` (and ``ROOT.RDF.Experimental.Distributed``): RDataFrame on a Spark cluster.

ROOT's distributed RDataFrame splits the dataset into ranges, runs the graph on each on the
cluster and merges the results. hepframe's Spark engine does the same (cluster-aligned
partitions, one Spark job per event loop, partial results merged on the driver), so a
distributed ROOT script switches with its import:

>>> from hepframe import ROOT  # doctest: +SKIP
>>> df = ROOT.RDF.Experimental.Distributed.Spark.RDataFrame("Events", files, sparkcontext=sc,
...                                                         npartitions=8)  # doctest: +SKIP

The result is a :class:`hepframe.RDataFrame` on ``engine="spark"``, with ROOT's verbs and
numbers. Dask is not a hepframe backend: ``Dask.RDataFrame`` says so.

What runs where, honestly:

* ``initialize(fn, *args)`` runs ``fn`` once, at once, in this process (as ROOT does first).
  It is not run again on the workers: hepframe's tasks need no per-worker setup (declared C++
  functions, Python UDFs and ``Numba.Declare``'d functions travel with each task). For
  settings of the worker processes, use Spark's own (``spark.executorEnv.NAME``).
* ``DistributeFiles(paths)`` ships files with ``SparkContext.addFile``, as ROOT does; tasks
  find them with ``pyspark.SparkFiles.get(name)``.
* ``DistributeHeaders`` and ``DistributeCppCode`` declare the code here
  (:func:`hepframe.declare`); each task compiles it again from its source. Only
  ``DistributeSharedLibs`` (compiled C++) raises :class:`~hepframe.errors.CppRequiredError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import hepframe
from hepframe.engines.base import get_engine
from hepframe.errors import AnalysisError, CppRequiredError, UnsupportedOperationError
from hepframe.variations import RunGraphs, VariationsFor

__all__ = [
    "Dask",
    "DistributeCppCode",
    "DistributeFiles",
    "DistributeHeaders",
    "DistributeSharedLibs",
    "FromSpec",
    "RDataFrame",
    "RunGraphs",
    "Spark",
    "VariationsFor",
    "initialize",
]

CPP_ALTERNATIVE = ("declare the helpers' source instead (ROOT.gInterpreter.Declare, hepframe.declare; "
                   "docs/cpp-helpers.md), or write them in Python: @ROOT.Numba.Declare([...], ...) (or @hepframe.numba_udf) "
                    "for per-event functions called by name in expressions, @hepframe.udf for vectorized ones; "
                    "they travel to the workers with each task")  # fmt: skip


def spark_session(executor: Any = None) -> Any:
    """The SparkSession to run on: that of ``executor`` (a SparkContext or SparkSession), else hepframe's default."""
    from hepframe.engines.spark_engine import default_session

    if executor is None:
        return default_session()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if isinstance(executor, SparkSession):
        return executor
    if not isinstance(executor, SparkContext):
        raise AnalysisError(f"the Spark backend needs a SparkContext (or a SparkSession), got {type(executor).__name__}")
    active = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if active is not None and active.sparkContext is executor:
        return active
    return SparkSession(executor)  # a session over the given context (as ROOT uses the context itself)


def _spark_rdataframe(args: tuple, executor: Any, npartitions: int | None) -> hepframe.RDataFrame:
    from hepframe import ROOT

    if npartitions is not None and (not isinstance(npartitions, int) or isinstance(npartitions, bool) or npartitions < 1):
        raise AnalysisError(f"npartitions must be a positive number of partitions, got {npartitions!r}")
    # The constructor forms are ROOT.RDataFrame's: (n), (tree, files), (TChain), ...
    return ROOT.RDataFrame(*args, engine=get_engine("spark", spark=spark_session(executor), npartitions=npartitions))


class _Backend:
    """A backend namespace (``Distributed.Spark``): its ``RDataFrame``."""

    def __init__(self, name: str, make: Callable[..., hepframe.RDataFrame]) -> None:
        self._name = name
        self.RDataFrame = make

    def __repr__(self) -> str:
        return f"<ROOT.RDF.Distributed.{self._name} (hepframe)>"


def _spark(*args: Any, sparkcontext: Any = None, executor: Any = None, npartitions: int | None = None,
           **kwargs: Any) -> hepframe.RDataFrame:  # fmt: skip
    """``Spark.RDataFrame(*args, executor=sc or sparkcontext=sc, npartitions=n)``: ROOT.RDataFrame's forms, on Spark.

    ``executor`` is ROOT 6.40's name for the SparkContext; ``sparkcontext`` the older one (both
    accepted). Without either, the active Spark session is used, or a local one on every core.
    ``npartitions`` is about how many cluster-aligned partitions to split the files into
    (default: about 100 000 entries each; ROOT's default is the cluster's parallelism).
    """
    if kwargs:
        raise AnalysisError(f"Spark.RDataFrame: unknown keyword arguments {sorted(kwargs)}; "
                            "takes executor= (or sparkcontext=) and npartitions=")  # fmt: skip
    if sparkcontext is not None and executor is not None:
        raise AnalysisError("Spark.RDataFrame: give the SparkContext once, as executor= (or the older sparkcontext=)")
    return _spark_rdataframe(args, executor if executor is not None else sparkcontext, npartitions)


def _dask(*args: Any, **kwargs: Any) -> hepframe.RDataFrame:
    raise UnsupportedOperationError(
        "Dask is not a hepframe backend: distributed RDataFrame runs on Spark "
        "(ROOT.RDF.Distributed.Spark.RDataFrame(..., executor=sparkcontext, npartitions=n)), "
        "or locally on every core with ROOT.RDataFrame"
    )


Spark = _Backend("Spark", _spark)
Dask = _Backend("Dask", _dask)


def RDataFrame(*args: Any, executor: Any = None, **kwargs: Any) -> hepframe.RDataFrame:  # noqa: N802
    """``ROOT.RDataFrame(..., executor=connection)``: dispatch on the connection, as ROOT 6.40 does."""
    if executor is None:
        raise AnalysisError("distributed RDataFrame needs executor=, the SparkContext to run on")
    if type(executor).__module__.split(".")[0] in ("distributed", "dask"):
        return _dask()
    return _spark(*args, executor=executor, **kwargs)


def FromSpec(jsonfile: Any, *, executor: Any = None, npartitions: int | None = None) -> hepframe.RDataFrame:  # noqa: N802
    """``Distributed.FromSpec(spec, executor=sc)``: an RDataFrame over a dataset spec, on Spark."""
    if executor is None:
        raise AnalysisError("Distributed.FromSpec needs executor=, the SparkContext to run on")
    if type(executor).__module__.split(".")[0] in ("distributed", "dask"):
        return _dask()
    return hepframe.FromSpec(jsonfile, engine=get_engine("spark", spark=spark_session(executor), npartitions=npartitions))


def initialize(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fun(*args, **kwargs)`` now, in this process, as ROOT's ``initialize`` does first.

    ROOT also runs it at the start of every task; hepframe does not, because its tasks need no
    setup: declared C++ functions and Python UDFs travel with the tasks.
    """
    if not callable(fun):
        raise AnalysisError(f"initialize(fun, *args): fun must be callable, got {type(fun).__name__}")
    fun(*args, **kwargs)


def _paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Files named by ``paths`` (directories: every file below them, as ROOT and PyRDF take them)."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[str] = []
    for item in items:
        path = os.fspath(item)
        if os.path.isdir(path):
            out += sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise AnalysisError(f"no file or directory {path!r} to send to the workers")
    return out


def distribute_files(paths: str | os.PathLike | Iterable[str | os.PathLike], executor: Any = None) -> list[str]:
    """Send files to every Spark worker (``SparkContext.addFile``); returns the names ``SparkFiles.get`` takes."""
    files = _paths(paths)
    context = spark_session(executor).sparkContext
    for path in files:
        context.addFile(os.path.abspath(path))
    return [os.path.basename(p) for p in files]


def DistributeFiles(paths_to_files: str | os.PathLike | Iterable[str | os.PathLike]) -> None:  # noqa: N802
    """Send files to the workers, as ROOT does (with ``SparkContext.addFile``); tasks open ``SparkFiles.get(name)``."""
    distribute_files(paths_to_files)


def DistributeHeaders(paths_to_headers: Any) -> None:  # noqa: N802
    """Declare the helper functions of these header files (hepframe.declare); tasks get them with their source."""
    declare_headers(paths_to_headers)


def declare_headers(paths: Any) -> None:
    """``hepframe.declare`` of each header file (a directory: every file below it), in order."""
    import hepframe

    for path in _paths(paths):
        with open(path, encoding="utf-8") as f:
            hepframe.declare(f.read(), path=os.path.abspath(path))


def DistributeSharedLibs(paths_to_shared_libraries: Any) -> None:  # noqa: N802
    raise CppRequiredError(f"DistributeSharedLibs loads compiled C++ libraries on the workers, and hepframe runs no "
                           f"C++: {CPP_ALTERNATIVE}")  # fmt: skip


def DistributeCppCode(code_to_declare: str) -> None:  # noqa: N802
    """Declare C++ helper functions (hepframe.declare); tasks compile them again from this source."""
    import hepframe

    hepframe.declare(code_to_declare)


def __getattr__(name: str) -> Any:  # ROOT.RDF.Distributed.LiveVisualize, ...
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"ROOT.RDF.Distributed.{name} is not provided by hepframe (yet): see "
                         "docs/migrating-from-root.md for what is supported and the alternatives")  # fmt: skip
