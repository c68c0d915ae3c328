"""The analysis graph as a self-contained SVG picture, laid out here: no Graphviz needed.

The graph is a tree rooted at the source, and booked actions are its leaves (``VariationsFor``
adds one action per universe), so a layered top-to-bottom tree layout fits it exactly: one layer
per depth, each parent above its children. Subtrees are packed side by side by their contours
(the left and right edges of their boxes on each layer, as in Reingold and Tilford's tidy trees),
so boxes never overlap and a short branch tucks in beside a long chain, which stays one straight
column. One pass up the tree and one down place every box; a chain costs O(1) per node.

Only presentation attributes are used (no ``<style>``, no ``id``): an SVG shown inline in a
notebook shares the page with others, and a style sheet or an id would leak into them.
"""

from __future__ import annotations

import html
import re
from typing import Any

from hepframe import graph as g
from hepframe.display import Text

FONT_SIZE = 12
CHAR_WIDTH = 7.25  # of a monospace font at FONT_SIZE px (0.6 em), rounded up
MAX_CHARS = 40  # longer labels are cut, with the full label in the tooltip
PAD = 10  # text to box edge
BOX_HEIGHT = 26
H_GAP = 16  # between boxes side by side
V_GAP = 30  # between layers: room for an edge and its arrowhead
MARGIN = 10
ARROW = 6  # arrowhead length

# kind: (class, fill, stroke); colours in the hues of ROOT's own SaveGraph (hepframe.rootgraph)
_NODE_STYLE: dict[type, tuple[str, str, str]] = {
    g.Source: ("source", "#fdf0c8", "#b7791f"),
    g.Filter: ("filter", "#d9f2e3", "#2f855a"),
    g.Define: ("define", "#dce8fb", "#2b6cb0"),
    g.Range: ("range", "#ebe3f5", "#6b46c1"),
    g.Vary: ("vary", "#fde4d2", "#c05621"),
}
_OTHER_NODE = ("other", "#eeeeee", "#555555")
_ACTION_STYLE = ("action", "#fbe0e0", "#c53030")
_EDGE_COLOUR = "#666666"
# Characters XML 1.0 forbids (a C++ expression may hold any); newlines and tabs are allowed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class GraphText(Text):
    """``SaveGraph``'s text (dot, or the SVG source) that shows as the graph's picture in notebooks."""

    picture: str

    def __new__(cls, text: str, picture: str) -> GraphText:
        self = super().__new__(cls, text)
        self.picture = picture
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # pickling and copy keep the picture
        return str(self), self.picture

    def _repr_svg_(self) -> str:
        return self.picture

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # Jupyter ranks HTML above SVG, and Text's _repr_html_ is the preformatted text: the bundle
        # gives the picture as HTML too (inline SVG), so a cell shows the graph, not its source.
        return {"text/plain": str(self), "image/svg+xml": self.picture, "text/html": self.picture}


def svg(obj: Any) -> str:
    """The whole computation graph of ``obj`` (an ``RDataFrame`` or a ``ResultPtr``) as SVG text.

    The frame's node, or the result's action, is drawn with a thicker border.
    """
    from hepframe.dataframe import ResultPtr

    if isinstance(obj, ResultPtr):
        return render(obj._frame._analysis, obj._action)
    return render(obj._analysis, obj._node)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _shown(label: str) -> str:
    """The label on one line (whitespace runs collapsed), cut to MAX_CHARS with an ellipsis."""
    line = " ".join(label.split())
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "\u2026"


def _action_label(action: g.Action) -> str:
    return action.label if action.universe == "nominal" else f"{action.label} [{action.universe}]"


def _pack(kids: list[int], contour: list[list[tuple[int, int]]]) -> tuple[list[int], list[tuple[int, int]]]:
    """Sibling subtrees side by side, each as far left as the ones before allow, layer by layer.

    Contours list each subtree's (left, right) box edges per layer, deepest layer first, relative
    to the subtree root's centre. Returns each kid's centre and the group's contour, both relative
    to where the parent goes.
    """
    depths = sorted(len(contour[kid]) for kid in kids)
    deepest = next(i for i, kid in enumerate(kids) if len(contour[kid]) == depths[-1])
    pos = [0]
    merged = list(contour[kids[0]])
    for kid in kids[1:]:
        rows = contour[kid]
        common = min(len(merged), len(rows))
        shift = max(merged[-1 - d][1] - rows[-1 - d][0] for d in range(common)) + H_GAP
        pos.append(shift)
        deeper, lift = (rows, shift) if len(rows) > len(merged) else (merged, 0)
        out = [(lo + lift, hi + lift) for lo, hi in deeper[: len(deeper) - common]]
        for d in reversed(range(common)):
            (lo1, hi1), (lo2, hi2) = merged[-1 - d], rows[-1 - d]
            out.append((min(lo1, lo2 + shift), max(hi1, hi2 + shift)))
        merged = out
    # Over the middle kids, or straight over the one deepest subtree: the main chain stays a line.
    middle = pos[deepest] if len(kids) == 1 or depths[-1] > depths[-2] else (pos[0] + pos[-1]) // 2
    return [p - middle for p in pos], [(lo - middle, hi - middle) for lo, hi in merged]


def _layout(children: list[list[int]], parent: list[int], width: list[int]) -> tuple[list[int], list[int]]:
    """Each box's centre x and layer: a tidy tree (Reingold-Tilford style), parents over their children.

    Subtrees are packed by their contours, so a long chain keeps its line past a short side branch.
    """
    n = len(width)
    roots = [i for i in range(n) if parent[i] < 0]  # the source; several only for graphs not made by RDataFrame
    order, stack = [], roots[::-1]
    while stack:  # parents before children
        item = stack.pop()
        order.append(item)
        stack.extend(reversed(children[item]))
    contour: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    offset = [0] * n  # centre relative to the parent's
    for item in reversed(order):  # children before parents
        kids = children[item]
        if not kids:
            rows: list[tuple[int, int]] = []
        elif len(kids) == 1:  # a chain: take over the child's contour (deepest first, so this appends)
            rows, contour[kids[0]] = contour[kids[0]], []
        else:
            rel, rows = _pack(kids, contour)
            for kid, r in zip(kids, rel, strict=True):
                offset[kid], contour[kid] = r, []
        rows.append((-(width[item] // 2), width[item] // 2))
        contour[item] = rows
    center, depth = [0] * n, [0] * n
    if not roots:
        return center, depth
    rel, rows = _pack(roots, contour)
    shift = MARGIN - min(lo for lo, _ in rows)
    for root, r in zip(roots, rel, strict=True):
        center[root] = shift + r
    for item in order:
        for kid in children[item]:
            center[kid] = center[item] + offset[kid]
            depth[kid] = depth[item] + 1
    return center, depth


def render(analysis: g.Analysis, highlight: object = None) -> str:
    """SVG text of ``analysis``: one box per node and per action, one edge per parent-child link."""
    nodes, actions = analysis.nodes, analysis.actions
    index = {id(n): i for i, n in enumerate(nodes)}
    n_nodes = len(nodes)
    # Items 0..n_nodes-1 are the nodes, then the actions; children in booking order, nodes first.
    labels = [_clean(n.label) for n in nodes] + [_clean(_action_label(a)) for a in actions]
    parent = [index.get(id(n.parent), -1) if n.parent is not None else -1 for n in nodes]
    parent += [index.get(id(a.node), -1) for a in actions]
    children: list[list[int]] = [[] for _ in labels]
    for item, p in enumerate(parent):
        if p >= 0:
            children[p].append(item)
    for kids in children:  # child nodes left of the actions, each group in booking order
        kids.sort(key=lambda item: item >= n_nodes)
    shown = [_shown(label) for label in labels]
    width = [2 * (int(len(s) * CHAR_WIDTH) // 2 + PAD + 1) for s in shown]  # even, so centres are whole

    center, depth = _layout(children, parent, width)
    xs = [c - w // 2 for c, w in zip(center, width, strict=True)]
    ys = [MARGIN + d * (BOX_HEIGHT + V_GAP) for d in depth]
    total_w = max((x + w for x, w in zip(xs, width, strict=True)), default=0) + MARGIN
    total_h = max(ys, default=MARGIN) + BOX_HEIGHT + MARGIN

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hepframe-graph" width="{total_w}" height="{total_h}" '
        f'viewBox="0 0 {total_w} {total_h}" font-family="monospace" font-size="{FONT_SIZE}" role="img">',
        f"<title>hepframe analysis graph: {n_nodes} node(s), {len(actions)} result(s)</title>",
    ]
    for item, p in enumerate(parent):
        if p < 0:
            continue
        x1, y1 = xs[p] + width[p] // 2, ys[p] + BOX_HEIGHT
        x2, y2 = xs[item] + width[item] // 2, ys[item]
        mid = (y1 + y2 - ARROW) // 2
        out.append(
            f'<g class="edge"><path d="M{x1} {y1} C{x1} {mid} {x2} {mid} {x2} {y2 - ARROW}" fill="none" '
            f'stroke="{_EDGE_COLOUR}" stroke-width="1.2"/><path d="M{x2} {y2} L{x2 - 4} {y2 - ARROW} '
            f'L{x2 + 4} {y2 - ARROW} Z" fill="{_EDGE_COLOUR}"/></g>'
        )
    for item, label in enumerate(labels):
        obj: g.Node | g.Action
        if item < n_nodes:
            obj = nodes[item]
            kind, fill, stroke = next((s for t, s in _NODE_STYLE.items() if isinstance(obj, t)), _OTHER_NODE)
            kind, rx, dash = "node " + kind, 3, ""
        else:
            obj = actions[item - n_nodes]
            kind, fill, stroke = _ACTION_STYLE
            rx = BOX_HEIGHT // 2  # a pill: results are the graph's leaves
            dash = "" if obj.universe == "nominal" else ' stroke-dasharray="4 2"'  # a varied copy
        current = obj is highlight
        x, y, w = xs[item], ys[item], width[item]
        out.append(
            f'<g class="{kind}{" current" if current else ""}"><title>{html.escape(label)}</title>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{BOX_HEIGHT}" rx="{rx}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{3 if current else 1.2}"{dash}/>'
            f'<text x="{x + w // 2}" y="{y + BOX_HEIGHT // 2}" dy="0.35em" text-anchor="middle" fill="#1a1a1a">'
            f"{html.escape(shown[item])}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
