"""``from hepframe import PyRDF``: the API of CERN's PyRDF package (RDataFrame on Spark), without ROOT.

A PyRDF script switches by changing ``import PyRDF`` to ``from hepframe import PyRDF``:

>>> from hepframe import PyRDF  # doctest: +SKIP
>>> PyRDF.use("spark", {"npartitions": 8})  # doctest: +SKIP
>>> df = PyRDF.RDataFrame("Events", ["data.root"])  # doctest: +SKIP
>>> h = df.Filter("nMuon == 2").Histo1D(("m", "", 30, 0, 120), "MET_pt")  # doctest: +SKIP
>>> h.GetValue()  # the event loop runs here, once, for everything booked  # doctest: +SKIP

``PyRDF.RDataFrame`` takes ROOT.RDataFrame's forms and returns a :class:`hepframe.RDataFrame`
(on ``engine="spark"`` after ``use("spark")``); its results are lazy, as PyRDF's proxies:
``GetValue()`` runs the event loop, and other attributes pass through to the value.

``use("spark", conf)``: ``npartitions`` sets the number of partitions; keys ``spark.*`` configure
the Spark session, which is started by ``use`` if none is running (with a running session they
cannot apply: a warning names them, where PyRDF ignored them silently). PyRDF's
``reuse_parallel_collection`` is accepted and has no effect. Any other key is an error.

``include_headers`` declares the helper functions of the headers (:func:`hepframe.declare`; they
travel with each task); ``include_shared_libraries`` loads compiled C++ and raises
:class:`~hepframe.errors.CppRequiredError`, naming the alternatives. ``send_generic_files``
ships files to the Spark workers (``SparkContext.addFile``, as PyRDF did; tasks open them with
``pyspark.SparkFiles.get(name)``) and does nothing locally. ``initialize`` runs its function
once, now, in this process: see :mod:`hepframe.distributed` for why not on the workers.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import hepframe
from hepframe import distributed
from hepframe.errors import AnalysisError, CppRequiredError, UnsupportedOperationError

__all__ = [
    "RDataFrame",
    "RDataFrameException",
    "create_logger",
    "current_backend",
    "include_headers",
    "include_shared_libraries",
    "initialize",
    "send_generic_files",
    "use",
]

#: PyRDF's error for bad RDataFrame arguments: hepframe raises AnalysisError (this name catches it).
RDataFrameException = AnalysisError

#: PyRDF-only Spark options that have no meaning here (accepted, without effect).
_IGNORED_KEYS = frozenset({"reuse_parallel_collection"})


@dataclass(frozen=True)
class Backend:
    """The backend ``use`` chose: ``"local"`` (Polars, every core) or ``"spark"`` (with its session)."""

    name: str
    npartitions: int | None = None
    session: Any = None


current_backend = Backend("local")


def use(backend_name: str, conf: Mapping[str, Any] | None = None) -> None:
    """Choose where ``RDataFrame`` runs: ``"local"`` or ``"spark"`` (``conf``: ``npartitions``, ``spark.*``)."""
    global current_backend
    conf = dict(conf or {})  # PyRDF popped keys from the caller's dict; this leaves it alone
    npartitions = conf.pop("npartitions", None)
    if npartitions is not None and (not isinstance(npartitions, int) or isinstance(npartitions, bool)
                                    or npartitions < 1):  # fmt: skip
        raise AnalysisError(f"PyRDF.use: npartitions must be a positive number of partitions, got {npartitions!r}")
    if backend_name == "local":
        if conf:
            raise AnalysisError(f"PyRDF.use('local', conf): the local backend takes no options, got {sorted(conf)}")
        current_backend = Backend("local")  # npartitions: local runs batches on every core instead
    elif backend_name == "spark":
        unknown = sorted(k for k in conf if not str(k).startswith("spark.") and k not in _IGNORED_KEYS)
        if unknown:
            raise AnalysisError(f"PyRDF.use('spark', conf): unknown options {unknown}; the options are 'npartitions' "
                                "and Spark settings ('spark.*')")  # fmt: skip
        settings = {k: str(v) for k, v in conf.items() if k not in _IGNORED_KEYS}
        current_backend = Backend("spark", npartitions, _session(settings))
    elif backend_name == "dask":
        raise UnsupportedOperationError("PyRDF.use('dask'): Dask is not a hepframe backend; use 'spark' or 'local'")
    else:
        raise AnalysisError(f"PyRDF.use: unknown backend {backend_name!r}; use 'local' or 'spark'")


def _session(settings: dict[str, str]) -> Any:
    """The running Spark session (warning about ``settings`` it lacks), or a new one with them."""
    from pyspark.sql import SparkSession

    from hepframe.engines.spark_engine import default_session

    running = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if running is not None or not settings:
        session = running or default_session()
        conf = session.sparkContext.getConf()
        ignored = sorted(k for k, v in settings.items() if conf.get(k) != v)
        if ignored:
            warnings.warn(f"PyRDF.use('spark'): a Spark session is already running; these settings are not "
                          f"applied: {ignored}", stacklevel=3)  # fmt: skip
        return session
    return default_session(settings)  # hepframe's default session, with the settings


def RDataFrame(*args: Any) -> hepframe.RDataFrame:  # noqa: N802
    """ROOT.RDataFrame's forms ``(n)``, ``(tree, files)``, ... on the backend chosen by :func:`use`."""
    if current_backend.name == "spark":
        return distributed.Spark.RDataFrame(*args, executor=current_backend.session,
                                            npartitions=current_backend.npartitions)  # fmt: skip
    from hepframe import ROOT

    return ROOT.RDataFrame(*args)


def initialize(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fun(*args, **kwargs)`` once, now (see :func:`hepframe.distributed.initialize`)."""
    distributed.initialize(fun, *args, **kwargs)


def include_headers(headers_paths: str | Iterable[str]) -> None:
    """Declare the helper functions of these headers (hepframe.declare), as PyRDF does on every worker."""
    distributed.declare_headers(headers_paths)


def include_shared_libraries(shared_libraries_paths: str | Iterable[str]) -> None:
    raise CppRequiredError(f"PyRDF.include_shared_libraries loads compiled C++ libraries, and hepframe runs no C++: "
                           f"{distributed.CPP_ALTERNATIVE}")  # fmt: skip


def send_generic_files(files_paths: str | os.PathLike | Iterable[str | os.PathLike]) -> None:
    """Ship files (or every file of directories) to the Spark workers; nothing to do locally, as in PyRDF."""
    if current_backend.name == "spark":
        distributed.distribute_files(files_paths, current_backend.session)


def create_logger(level: str = "WARNING", log_path: str | None = "./PyRDF.log") -> logging.Logger:
    """PyRDF's logger: messages of ``level`` and above to stdout and, if ``log_path``, to that file."""
    logger = logging.getLogger("PyRDF")
    logger.setLevel(getattr(logging, level))
    formatter = logging.Formatter("%(levelname)s: %(name)s[%(asctime)s]: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_path:
        handlers.append(logging.FileHandler(log_path))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger
