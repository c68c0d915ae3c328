"""Every error hepframe raises on bad user input derives from :class:`HepframeError`.

Messages name what went wrong and where: the expression with a caret under the offending
position, the unknown column with close matches, the file and tree that could not be read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HepframeError(Exception):
    """Base class of every error caused by user input or data."""


def caret_excerpt(text: str, position: int, width: int = 1) -> str:
    """Return ``line L, column C`` plus the offending line with a caret under ``position``."""
    position = max(0, min(position, len(text)))
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end == -1 else line_end
    line_no = text.count("\n", 0, position) + 1
    column = position - line_start + 1
    # A window of the line around the position: generated expressions can be thousands of characters.
    lo = max(line_start, position - 60)
    hi = min(line_end, position + max(1, width) + 60)
    line = ("..." if lo > line_start else "") + text[lo:hi] + ("..." if hi < line_end else "")
    marker = " " * (position - lo + (3 if lo > line_start else 0)) + "^" * max(1, min(width, hi - position))
    return f"line {line_no}, column {column}:\n    {line}\n    {marker}"


class ExpressionError(HepframeError):
    """An expression string that cannot be compiled; carries its position."""

    def __init__(self, message: str, expression: str = "", position: int | None = None, width: int = 1):
        self.message = message
        self.expression = expression
        self.position = position
        if position is not None:
            text = f"{message} at {caret_excerpt(expression, position, width)}"
        elif expression:
            text = f"{message} in expression {expression!r}"
        else:
            text = message
        super().__init__(text)


class ExpressionSyntaxError(ExpressionError):
    """The text is not a valid expression in hepframe's C++ subset."""


class UnsupportedSyntaxError(ExpressionSyntaxError):
    """Valid C++ that RDataFrame strings may contain but hepframe does not translate."""


class UnknownColumnError(ExpressionError):
    """An identifier is neither a column, a Define, nor a known constant."""


class UnknownFunctionError(ExpressionError):
    """A called function is not in the function table."""


class ExpressionTypeError(ExpressionError):
    """Operand types that C++/ROOT would reject, or that hepframe cannot type."""


class UnsupportedOperationError(HepframeError):
    """An engine has no implementation (native or kernel) for an operation."""


UNDEFINED_CAUSES = (
    "it uses an out-of-range index, Max/Min of an empty RVec, RVecs of different sizes, an integer division "
    "by zero (undefined behaviour or an exception in ROOT), or a branch missing from its file (see "
    "DefaultValueFor and FilterAvailable)"
)


class EventError(HepframeError):
    """A per-event evaluation failure, e.g. an out-of-range index, naming the entry."""


class DataSourceError(HepframeError):
    """A file, tree or branch that cannot be opened or read."""


class CppRequiredError(HepframeError):
    """A ROOT construct that needs the C++ interpreter (gInterpreter, TCanvas, ...); names the alternative."""


class AnalysisError(HepframeError):
    """A malformed analysis graph, e.g. a duplicate Define or a bad histogram model."""


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates similar to ``name``, best first (case-insensitive)."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    hits = close_matches(name, candidates)
    return f"; did you mean {', '.join(repr(h) for h in hits)}?" if hits else ""
