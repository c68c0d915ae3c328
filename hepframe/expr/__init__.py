"""Expression front end: parser, typed IR, C++ types and the canonical function table."""

from hepframe.expr.binder import compile_expression
from hepframe.expr.ir import free_columns
from hepframe.expr.parser import parse
from hepframe.expr.types import CType, Scalar

__all__ = ["CType", "Scalar", "compile_expression", "free_columns", "parse"]
