"""``ROOT.RDF.SaveGraph`` in ROOT 6.40's own DOT layout: same node numbers, labels, colours, shapes.

ROOT numbers the nodes from the source down: the source is 0; each Filter, Range and action gets
the next number, then the Defines just above it (nearest first). It prints each chain from the
action up, a node's Defines after it, then one ``parent -> child`` edge per node in printed
order. For a whole graph (``SaveGraph(df)``) the chains of all actions are printed in booking
order, shared nodes once; ROOT's own order of actions there is not specified.
"""

from __future__ import annotations

from hepframe import graph as g

_STYLE = {  # fillcolor, shape
    "action": ("#e47c7e", "box"), "filter": ("#0f9d58", "hexagon"), "define": ("#4285f4", "ellipse"),
    "range": ("#9574b4", "diamond"), "source": ("#f4b400", "ellipse"),
}  # fmt: skip
_ACTION_CLASSES = {"Profile": "TProfile", "Graph": "TGraph", "Stats": "TStatistic", "AsNumpy": "Take"}


def _action_label(action: g.Action) -> str:
    if isinstance(action, g.ColumnAction) and action.kind in ("Histo", "Profile"):
        dims = len(action.options["axes"])
        cls = {1: "TH1D", 2: "TH2D", 3: "TH3D"}.get(dims, "THnD") if action.kind == "Histo" else (
            "TProfile" if dims == 1 else "TProfile2D")  # fmt: skip
        return f"{cls}\\n{action.options['name']}"
    if isinstance(action, g.ColumnAction):
        return _ACTION_CLASSES.get(action.kind, action.kind)
    return type(action).__name__


def _source_label(source: object) -> str:
    from hepframe.connectors import RootSource
    from hepframe.connectors.memory import TableSource

    if isinstance(source, RootSource):
        return "TTreeDS"
    if isinstance(source, TableSource) and not source.label and not source.schema:
        return f"Empty source\\nEntries: {source.num_entries}"
    return source.label if isinstance(source, TableSource) and source.label else type(source).__name__


def root_dot(analysis: g.Analysis, actions: list[g.Action]) -> str:
    """The DOT text ROOT's SaveGraph writes for ``actions`` (one result, or all of a graph)."""
    ids: dict[int, int] = {id(analysis.root): 0}
    counter = 1

    def number(chain: list[g.Node | g.Action]) -> None:
        nonlocal counter
        pending: list[int] = []
        for item in chain:
            if isinstance(item, g.Define):
                pending.append(id(item))
                continue
            if id(item) not in ids:
                ids[id(item)] = counter
                counter += 1
            for key in reversed(pending):
                if key not in ids:
                    ids[key] = counter
                    counter += 1
            pending = []

    chains = []
    for action in actions:
        above = [n for n in reversed(action.node.ancestors()) if isinstance(n, (g.Define, g.Filter, g.Range))]
        chain: list[g.Node | g.Action] = _ranges_first([*above, action])
        number(chain)
        chains.append(chain)
    lines, edges, printed = ["digraph {"], [], set()

    def emit(item: g.Node | g.Action | None, parent: g.Node | g.Action | None) -> None:
        if item is None or id(item) in printed:
            return
        printed.add(id(item))
        if isinstance(item, g.Action):
            kind, label = "action", _action_label(item)
        elif isinstance(item, g.Filter):
            kind, label = "filter", item.name or "Filter"
        elif isinstance(item, g.Range):
            kind, label = "range", "Range"
        elif isinstance(item, g.Define):
            kind, label = "define", f"Define\\n{item.name}"
        else:
            kind, label = "source", _source_label(analysis.root.source)
        colour, shape = _STYLE[kind]
        lines.append(f'\t{ids[id(item)]} [label="{label}", style="filled", fillcolor="{colour}", shape="{shape}"];')
        if parent is not None:
            edges.append(f"\t{ids[id(parent)]} -> {ids[id(item)]};")

    for chain in chains:
        nodes = [analysis.root, *chain]
        parents = {id(b): a for a, b in zip(nodes, nodes[1:], strict=False)}
        # From the action up: each Filter/Range/action, then the Defines just above it, nearest first.
        index = len(nodes) - 1
        while index >= 0:
            item = nodes[index]
            emit(item, parents.get(id(item)))
            j = index - 1
            while j > 0 and isinstance(nodes[j], g.Define):
                emit(nodes[j], parents.get(id(nodes[j])))
                j -= 1
            index = j
    return "\n".join([*lines, *edges, "}"])


def _ranges_first(chain: list) -> list:
    """ROOT draws the Defines made before a Range below it: a Range node keeps no Defines of its own."""
    out: list = []
    defines: list = []
    for item in chain:
        if isinstance(item, g.Define):
            defines.append(item)
        elif isinstance(item, g.Range):
            out.append(item)
        else:
            out += [*defines, item]
            defines = []
    return out + defines
