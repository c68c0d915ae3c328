"""hepframe: RDataFrame-style HEP analysis on Polars (and Spark), from ROOT files to hist and pyhf.

Examples
--------
>>> import hepframe
>>> hepframe.__version__
'0.1.0'

"""

# ruff: noqa: E402 - the subpackages are located before they are imported


def _locate_subpackages() -> None:
    """Find hepframe.connectors and hepframe.udfs when hepframe is imported from a source checkout.

    Installed (also editable), setuptools maps them (package-dir). Imported straight from a
    checkout (e.g. by Spark's Python workers, whose cwd is the repository root), they sit beside
    hepframe/: register exactly these two, never the checkout itself (which would make
    ``hepframe.hepframe`` or ``hepframe.tests`` importable).
    """
    import importlib.machinery
    import importlib.util
    import os
    import sys

    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for sub in ("connectors", "udfs"):
        name, directory = f"hepframe.{sub}", os.path.join(checkout, sub)
        if name in sys.modules or not os.path.isfile(os.path.join(directory, "__init__.py")):
            continue
        if importlib.util.find_spec(name) is not None:
            continue
        finder = importlib.machinery.PathFinder.find_spec(name, [checkout])
        if finder is not None:
            sys.meta_path.append(_SubpackageFinder(name, finder))


class _SubpackageFinder:
    """A meta-path finder for one subpackage that lives outside the package directory."""

    def __init__(self, name: str, spec) -> None:  # noqa: ANN001 - a ModuleSpec
        self.name, self.spec = name, spec

    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001, ANN201 - importlib protocol
        if fullname != self.name:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, self.spec.origin,
                                                      submodule_search_locations=self.spec.submodule_search_locations)


_locate_subpackages()

from hepframe.connectors.polars_scan import scan_root
from hepframe.dataframe import FromParquet, FromPolars, FromSpec, RDataFrame, ResultPtr
from hepframe.errors import (
    DataSourceError,
    EventError,
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    HepframeError,
    UnknownColumnError,
    UnknownFunctionError,
    UnsupportedOperationError,
    UnsupportedSyntaxError,
)
from hepframe.plotting import plot  # matplotlib and mplhep load on the first plot
from hepframe.udf import list_array, list_parts, numba_udf, udf
from hepframe.variations import RunGraphs, SaveGraph, VariationsFor

__version__ = "0.1.0"


def declare(code: str, *, path: str | None = None) -> list[str]:
    """Compile C++ helper functions (as ``ROOT.gInterpreter.Declare``); returns their names.

    The functions become callable by name in every expression string, on every engine; see
    docs/cpp-helpers.md for the subset of C++ that hepframe compiles.

    Examples
    --------
    >>> import hepframe
    >>> hepframe.declare("float twice(float x) { return 2 * x; }")  # doctest: +SKIP
    ['twice']

    """
    from hepframe.cpp import declare as _declare  # numba and the compiler load on first use

    return _declare(code, path=path)


__all__ = [
    "DataSourceError",
    "EventError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "FromParquet",
    "FromPolars",
    "FromSpec",
    "HepframeError",
    "RDataFrame",
    "ResultPtr",
    "UnknownColumnError",
    "UnknownFunctionError",
    "UnsupportedOperationError",
    "UnsupportedSyntaxError",
    "RunGraphs",
    "SaveGraph",
    "VariationsFor",
    "__version__",
    "list_array",
    "list_parts",
    "numba_udf",
    "plot",
    "scan_root",
    "udf",
]
