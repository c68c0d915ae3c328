"""hepframe: RDataFrame-style HEP analysis on Polars (and Spark), from ROOT files to hist and pyhf.

Examples
--------
>>> import hepframe
>>> hepframe.__version__
'0.1.0'

"""

# ruff: noqa: E402 - the package path is completed before the subpackages are imported
import os as _os

# Installed, connectors/ and udfs/ are subpackages (setuptools package-dir). Imported straight
# from a source checkout (e.g. by Spark's Python workers, whose cwd is the repository root),
# they sit beside hepframe/: let the package find them there.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "connectors")) and _os.path.isfile(
    _os.path.join(_checkout, "connectors", "__init__.py")
):
    __path__.append(_checkout)  # noqa: F821 - the package's own module search path

from hepframe.connectors.polars_scan import scan_root
from hepframe.dataframe import FromParquet, FromSpec, RDataFrame, ResultPtr
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
from hepframe.udf import list_array, list_parts, numba_udf, udf
from hepframe.variations import RunGraphs, SaveGraph, VariationsFor

__version__ = "0.1.0"

__all__ = [
    "DataSourceError",
    "EventError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "FromParquet",
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
    "scan_root",
    "udf",
]
