"""The analysis graph as an SVG picture (issue #19): laid out without Graphviz, escaped, shown in notebooks."""

from __future__ import annotations

import os
import pickle
import xml.etree.ElementTree as ET

import numpy as np
import polars as pl
import pytest

import hepframe
from hepframe import graphsvg
from hepframe.errors import AnalysisError

SVG = "{http://www.w3.org/2000/svg}"


def groups(svg_text: str, kind: str) -> list[ET.Element]:
    """The <g> elements whose class list holds ``kind`` ("node", "action", "edge", "filter", ...)."""
    root = ET.fromstring(svg_text)
    assert root.tag == f"{SVG}svg"
    return [e for e in root.iter(f"{SVG}g") if kind in e.get("class", "").split()]


def boxes(svg_text: str) -> list[tuple[float, float, float, float, str]]:
    """(x, y, width, height, title) of every node and action box."""
    out = []
    for group in groups(svg_text, "node") + groups(svg_text, "action"):
        rect, title = group.find(f"{SVG}rect"), group.find(f"{SVG}title")
        assert rect is not None and title is not None
        x, y, w, h = (float(rect.get(a, "nan")) for a in ("x", "y", "width", "height"))
        out.append((x, y, w, h, title.text or ""))
    return out


def branched(path: str) -> hepframe.RDataFrame:
    """A graph with branches on the source, a Vary with its universes, and a long label."""
    df = hepframe.RDataFrame("Events", path)
    sel = df.Filter("nMuon < 3 && MET_pt > 0", "few <muons> & MET").Define("lead", "Jet_pt[0]")
    sel.Histo1D(("lead", "", 10, 0, 200), "lead")
    sel.Count()
    df.Count()
    varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"], "scale")
    hepframe.VariationsFor(varied.Histo1D(("met", "", 10, 0, 100), "MET_pt"))
    long = df.Range(10).Define("a_rather_long_column_name", "MET_pt * 2 + 3 * MET_pt * MET_pt - 17 * MET_pt")
    long.Sum("a_rather_long_column_name")
    long.Mean("a_rather_long_column_name")
    return sel


def chain(n_nodes: int) -> hepframe.RDataFrame:
    """``n_nodes`` nodes (the source included): Defines and Filters with a Histo1D every tenth node."""
    node = hepframe.FromPolars(pl.DataFrame({"x": np.linspace(0.0, 1.0, 100)}))
    for i in range(1, n_nodes):
        node = node.Filter(f"x > {-i}") if i % 3 == 0 else node.Define(f"v{i}", f"x * {i}")
        if i % 10 == 0:
            node.Histo1D((f"h{i}", "", 10, 0, 1), "x")
    return node


def test_one_box_per_node_and_action_and_one_edge_per_link(small_nanoaod_file: str) -> None:
    sel = branched(small_nanoaod_file)
    analysis = sel._analysis
    text = graphsvg.svg(sel)
    n_nodes, n_actions = len(analysis.nodes), len(analysis.actions)
    assert len(groups(text, "node")) == n_nodes == 6
    assert len(groups(text, "action")) == n_actions == 8  # the Vary made two more copies of its histogram
    assert len(groups(text, "edge")) == n_nodes - 1 + n_actions
    kinds = {k: len(groups(text, k)) for k in ("source", "filter", "define", "range", "vary")}
    assert kinds == {"source": 1, "filter": 1, "define": 2, "range": 1, "vary": 1}
    varied = [g for g in groups(text, "action") if "[scale:" in g.findtext(f"{SVG}title", "")]
    assert len(varied) == 2 and all(g.find(f"{SVG}rect").get("stroke-dasharray") for g in varied)  # type: ignore[union-attr]
    # The frame's own node is the one drawn as current.
    (current,) = groups(text, "current")
    assert current.findtext(f"{SVG}title") == "Define lead = Jet_pt[0]"


def test_user_text_is_escaped(small_nanoaod_file: str) -> None:
    text = graphsvg.svg(branched(small_nanoaod_file))
    assert "nMuon &lt; 3 &amp;&amp; MET_pt &gt; 0" in text and "few &lt;muons&gt; &amp; MET" in text
    assert "<muons>" not in text and "&& " not in text
    titles = [b[4] for b in boxes(text)]
    assert "Filter few <muons> & MET [nMuon < 3 && MET_pt > 0]" in titles  # parsed back to the user's text


def test_characters_xml_forbids_still_give_a_picture() -> None:
    df = hepframe.FromPolars(pl.DataFrame({"x": [1.0, 2.0]}))
    odd = df.Filter("x > 0", "bell\x07 and\nnewline \ud800")
    text = hepframe.SaveGraph(odd, format="svg")
    (node,) = groups(text, "filter")
    assert node.findtext(f"{SVG}text") == "Filter bell\ufffd and newline \ufffd [x > 0]"  # one line on the box
    assert "newline" in node.findtext(f"{SVG}title", "") and "\x07" not in text


def test_long_labels_are_cut_with_the_full_label_as_tooltip(small_nanoaod_file: str) -> None:
    text = graphsvg.svg(branched(small_nanoaod_file))
    label = "Define a_rather_long_column_name = MET_pt * 2 + 3 * MET_pt * MET_pt - 17 * MET_pt"
    (group,) = [g for g in groups(text, "define") if g.findtext(f"{SVG}title") == label]
    shown = group.findtext(f"{SVG}text", "")
    assert shown.endswith("\u2026") and len(shown) == graphsvg.MAX_CHARS and label.startswith(shown[:-1])
    for _, _, w, _, title in boxes(text):  # every box is wide enough for what it shows
        assert w >= min(len(title), graphsvg.MAX_CHARS) * 7


def test_layout_has_no_overlaps_and_parents_sit_above_children(small_nanoaod_file: str) -> None:
    text = graphsvg.svg(branched(small_nanoaod_file))
    root = ET.fromstring(text)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    rects = boxes(text)
    assert len(rects) == 6 + 8
    for i, (x1, y1, w1, h1, t1) in enumerate(rects):
        assert 0 <= x1 and x1 + w1 <= width and 0 <= y1 and y1 + h1 <= height, t1
        for x2, y2, w2, h2, t2 in rects[i + 1 :]:
            apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
            assert apart, f"{t1!r} overlaps {t2!r}"
    # Each edge runs from its parent's bottom edge down to its child's top edge.
    tops = {(x + w / 2, y) for x, y, w, _, _ in rects}
    bottoms = {(x + w / 2, y + h) for x, y, w, h, _ in rects}
    for edge in groups(text, "edge"):
        curve, arrow = edge.findall(f"{SVG}path")
        start = curve.get("d", "").split()[0:2]
        tip = arrow.get("d", "").split()[0:2]
        x1, y1 = float(start[0][1:]), float(start[1])
        x2, y2 = float(tip[0][1:]), float(tip[1])
        assert (x1, y1) in bottoms and (x2, y2) in tops and y2 > y1


def test_long_chain_renders_as_a_straight_column() -> None:
    df = chain(100)
    text = graphsvg.svg(df)
    assert len(groups(text, "node")) == 100 and len(groups(text, "action")) == 9
    assert len(groups(text, "edge")) == 99 + 9
    nodes = boxes(text)[:100]  # the node boxes come first
    centres = {x + w / 2 for x, _, w, _, _ in nodes}
    assert len(centres) == 1  # the chain stays one column past its side results
    assert sorted(y for _, y, _, _, _ in nodes) == [y for _, y, _, _, _ in nodes]  # one layer per node, in order
    assert text == graphsvg.svg(chain(100))  # deterministic: the same graph built again, the same picture


def test_save_graph_svg_is_written_atomically(small_nanoaod_file: str, tmp_path) -> None:
    sel = branched(small_nanoaod_file)
    path = tmp_path / "graph.svg"
    path.write_text("an older picture, longer than nothing " * 1000)
    reader = open(path)  # a reader of the old file keeps it whole: the new one is renamed into place
    old_inode = os.stat(path).st_ino
    text = hepframe.SaveGraph(sel, path, format="svg")
    assert os.stat(path).st_ino != old_inode and reader.read().startswith("an older picture")
    reader.close()
    assert path.read_text(encoding="utf-8") == text and text.startswith("<svg ")
    assert os.listdir(tmp_path) == ["graph.svg"]  # no temporary left behind
    ET.fromstring(path.read_text(encoding="utf-8"))
    assert text._repr_svg_() == text  # type: ignore[attr-defined]


def test_default_save_graph_shows_its_picture_in_notebooks(small_nanoaod_file: str) -> None:
    sel = branched(small_nanoaod_file)
    dot = hepframe.SaveGraph(sel)
    assert isinstance(dot, str) and dot.startswith("digraph hepframe {") and repr(dot) == str(dot)
    picture = dot._repr_svg_()  # type: ignore[attr-defined]
    assert len(groups(picture, "node")) == len(sel._analysis.nodes)
    assert dot._repr_html_().startswith("<pre")  # type: ignore[attr-defined]
    copied = pickle.loads(pickle.dumps(dot))
    assert copied == dot and copied._repr_svg_() == picture
    for other in ("mermaid", "root"):  # text only
        assert not hasattr(hepframe.SaveGraph(sel, format=other), "_repr_svg_")
    with pytest.raises(AnalysisError, match="'svg'"):
        hepframe.SaveGraph(sel, format="png")


def test_ipython_shows_the_picture_not_the_dot_source(small_nanoaod_file: str) -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    dot = hepframe.SaveGraph(branched(small_nanoaod_file))
    data, _ = formatters.DisplayFormatter().format(dot)
    assert data["text/plain"].strip() == dot.strip()  # IPython drops the final newline
    # Frontends prefer HTML to SVG: both must be the picture.
    assert data["image/svg+xml"] == data["text/html"] == dot._repr_svg_()  # type: ignore[attr-defined]


def test_result_graph_marks_the_result(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    first = df.Define("x", "MET_pt * 2").Sum("x")
    df.Count()
    text = graphsvg.svg(first)
    (current,) = groups(text, "current")
    assert "action" in current.get("class", "") and current.findtext(f"{SVG}title") == "Sum(x)"
    assert len(groups(text, "action")) == 2  # the whole graph, not only this result's chain
