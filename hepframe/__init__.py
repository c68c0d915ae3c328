"""hepframe: RDataFrame-style HEP analysis on Polars (and Spark), from ROOT files to hist and pyhf.

Examples
--------
>>> import hepframe
>>> hepframe.__version__
'0.1.0'

"""

from hepframe.connectors.polars_scan import scan_root
from hepframe.dataframe import FromSpec, RDataFrame, ResultPtr
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
from hepframe.udf import numba_udf, udf
from hepframe.variations import RunGraphs, SaveGraph, VariationsFor

__version__ = "0.1.0"

__all__ = [
    "DataSourceError",
    "EventError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
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
    "numba_udf",
    "scan_root",
    "udf",
]
