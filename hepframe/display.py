"""HTML for notebook displays (``_repr_html_``): small tables and preformatted text, always escaped.

Every user-facing result has a plain ``__repr__`` for terminals and one of these for Jupyter;
text that comes from users (column names, expressions, titles) goes through ``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:0.9em"
_CELL = "padding:2px 8px;border:1px solid #ccc;text-align:{align}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> str:
    """An HTML table; numbers right-aligned, everything escaped."""

    def cell(tag: str, value: object) -> str:
        align = "right" if isinstance(value, (int, float)) and not isinstance(value, bool) else "left"
        return f'<{tag} style="{_CELL.format(align=align)}">{html.escape(str(value))}</{tag}>'

    head = "".join(cell("th", h) for h in header)
    body = "".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in rows)
    title = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return f'<table style="{_STYLE}">{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def pre(text: str) -> str:
    """Preformatted text (ROOT's layouts keep their alignment)."""
    return f'<pre style="font-size:0.9em">{html.escape(text)}</pre>'


class Text(str):
    """A string that displays as its text (newlines kept) in terminals and notebooks, not as a quoted repr."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return pre(str(self))
