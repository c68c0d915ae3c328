"""Systematic variations (``VariationsFor``), several graphs in one pass (``RunGraphs``), ``SaveGraph``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from hepframe import graph as g
from hepframe import graphsvg
from hepframe.dataframe import RDataFrame, ResultPtr
from hepframe.display import Text
from hepframe.errors import AnalysisError
from hepframe.execution import Executor, run_graphs
from hepframe.expr.ir import free_columns


def _affected_by(action: g.Action, vary: g.Vary, executor: Executor) -> bool:
    """Whether the action's value depends on the varied column as seen below ``vary``."""
    universe = f"{vary.variation}:{vary.tags[0]}"
    marker = f"@{executor.analysis.nodes.index(vary)}:"
    stack: list[tuple[g.Node, str]] = [(action.node, c) for e in action.expressions() for c in free_columns(e)]
    filters = [n for n in action.node.ancestors() if isinstance(n, g.Filter)]
    if isinstance(action, g.Report):  # a cut-flow varies when any reported filter does
        filters = list(executor._report_scope(action))
        if action.weight:
            stack += [(f, action.weight) for f in filters]
    stack += [(n, c) for n in filters for c in free_columns(n.expr)]
    varied = lambda column: marker in column.internal  # noqa: E731
    return any(c is not None and varied(c) for _, c in executor.walk_columns(stack, universe, stop=varied))


T = TypeVar("T", covariant=True)


class VariationsMap(Mapping[str, T], Generic[T]):
    """``VariationsFor(result)``: ``{"nominal": value, "<variation>:<tag>": value, ...}``, lazily (a Mapping)."""

    def __init__(self, frame: RDataFrame, actions: dict[str, g.Action]):
        self._frame = frame
        self._actions = actions

    def GetKeys(self) -> list[str]:  # noqa: N802 - ROOT's RResultMap spelling
        return list(self._actions)

    def __getitem__(self, key: str) -> T:
        try:
            action = self._actions[key]
        except KeyError:
            raise KeyError(f"no variation {key!r}; available: {', '.join(self._actions)}") from None
        return ResultPtr(self._frame, action).GetValue()

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __repr__(self) -> str:
        ready = all(a in self._frame._analysis.results for a in self._actions.values())
        return f"<VariationsMap {', '.join(self._actions)} ({'ready' if ready else 'pending'})>"

    def _repr_html_(self) -> str:
        from hepframe.display import table

        results = self._frame._analysis.results
        rows = [[key, "ready" if action in results else "pending"] for key, action in self._actions.items()]
        return table(["variation", "state"], rows, "VariationsFor")


def VariationsFor(result: ResultPtr[T]) -> VariationsMap[T]:  # noqa: N802 - ROOT spelling
    """Book the varied copies of a result; all are computed in one event loop (another one if it already ran)."""
    if not isinstance(result, ResultPtr):
        raise AnalysisError(f"VariationsFor needs a booked result (e.g. df.Histo1D(...)), got {type(result).__name__}")
    frame, action = result._frame, result._action
    analysis = frame._analysis
    # On a result already computed, the varied copies are computed by the next event loop (ROOT 6.40 also
    # allows this, and runs the loop again); the nominal result is kept.
    executor = Executor(analysis, frame._engine.batch_engine())
    clones: dict[str, g.Action] = {"nominal": action}
    candidates = analysis.nodes if isinstance(action, g.Report) else list(reversed(action.node.ancestors()))
    for node in candidates:
        if isinstance(node, g.Vary) and _affected_by(action, node, executor):
            for tag in node.tags:
                clone = action.clone_for(f"{node.variation}:{tag}")
                analysis.actions.append(clone)
                clones[clone.universe] = clone
    return VariationsMap(frame, clones)


def RunGraphs(handles: Iterable[ResultPtr[object]]) -> int:  # noqa: N802
    """Compute the results of several graphs together; graphs over the same files share each read.

    Returns the number of event loops run (one per distinct dataset).
    """
    by_analysis: dict[int, tuple[RDataFrame, list[g.Action]]] = {}
    handles = list(handles)
    for h in handles:
        if not isinstance(h, ResultPtr):
            raise AnalysisError(f"RunGraphs needs booked results (e.g. df.Count()), got {type(h).__name__}")
        analysis = h._frame._analysis
        if id(analysis) not in by_analysis:
            by_analysis[id(analysis)] = (h._frame, analysis.pending())
    from hepframe.random_columns import prepare

    for frame, acts in by_analysis.values():
        prepare(frame._analysis, acts)  # gRandom columns, as each event loop draws them
    jobs = [(f._analysis, f._engine, acts, f._progress) for f, acts in by_analysis.values() if acts]
    run_graphs(jobs)
    return len({(a.root.source.tree, tuple(a.root.source.files)) for a, *_ in jobs})


def SaveGraph(obj: RDataFrame | ResultPtr[object], path: str | os.PathLike[str] | None = None, format: str = "dot") -> str:  # noqa: N802, A002
    """The computation graph as Graphviz dot (default), an SVG picture, Mermaid, or ROOT's own dot layout (``"root"``).

    Written to ``path`` (atomically) if given; the text is returned either way. The dot and SVG
    texts show as the graph's picture in notebooks (laid out by :mod:`hepframe.graphsvg`, no Graphviz).
    """
    frame = obj._frame if isinstance(obj, ResultPtr) else obj
    analysis = frame._analysis
    ids = {id(n): f"n{i}" for i, n in enumerate(analysis.nodes)}
    act_ids = {id(a): f"a{i}" for i, a in enumerate(analysis.actions)}

    def esc(text: str) -> str:
        return text.replace('"', "'")

    if format == "root":  # ROOT's own layout (what ROOT.RDF.SaveGraph writes)
        from hepframe.rootgraph import root_dot

        text = root_dot(analysis, [obj._action] if isinstance(obj, ResultPtr) else list(analysis.actions))
    elif format == "svg":
        text = graphsvg.svg(obj)
    elif format == "mermaid":
        lines = ["flowchart TD"]
        lines += [f'    {ids[id(n)]}["{esc(n.label)}"]' for n in analysis.nodes]
        lines += [f'    {act_ids[id(a)]}(["{esc(a.label)} ({a.universe})"])' for a in analysis.actions]
        lines += [f"    {ids[id(n.parent)]} --> {ids[id(n)]}" for n in analysis.nodes if n.parent is not None]
        lines += [f"    {ids[id(a.node)]} --> {act_ids[id(a)]}" for a in analysis.actions]
        text = "\n".join(lines) + "\n"
    elif format == "dot":
        lines = ["digraph hepframe {", '  rankdir="TB";']
        lines += [f'  {ids[id(n)]} [label="{esc(n.label)}", shape=box];' for n in analysis.nodes]
        lines += [f'  {act_ids[id(a)]} [label="{esc(a.label)} ({a.universe})", shape=ellipse];' for a in analysis.actions]
        lines += [f"  {ids[id(n.parent)]} -> {ids[id(n)]};" for n in analysis.nodes if n.parent is not None]
        lines += [f"  {ids[id(a.node)]} -> {act_ids[id(a)]};" for a in analysis.actions]
        lines.append("}")
        text = "\n".join(lines) + "\n"
    else:
        raise AnalysisError(f"SaveGraph format must be 'dot', 'svg', 'mermaid' or 'root', got {format!r}")
    if path is not None:
        from hepframe.datasets import atomic_path

        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    if format == "dot":
        return graphsvg.GraphText(text, graphsvg.svg(obj))
    if format == "svg":
        return graphsvg.GraphText(text, text)
    return Text(text)
