"""Notebook and terminal displays (issue #19, item 1): every result shows what it is, text keeps its layout."""

from __future__ import annotations

from collections.abc import Mapping

import hepframe


def test_results_display_in_terminals_and_notebooks(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    two = df.Filter("nMuon == 2", "two <muons>")  # user text is escaped in HTML
    h = two.Histo1D(("met", "MET", 10, 0, 100), "MET_pt")
    report = df.Report()
    shown = two.Display(["nMuon", "Muon_pt"], nRows=3)
    assert repr(h) == "<ResultPtr Histo1D 'met' of MET_pt on 'Events' (pending: the next event loop computes it)>"
    assert "pending" in h._repr_html_()
    h.GetValue()
    assert repr(h).endswith("(ready)>") and "<" in h._repr_html_()  # the histogram's own display
    text = repr(report.GetValue())
    assert text.startswith("two <muons>") and "pass=" in text
    html = report.GetValue()._repr_html_()
    assert html.startswith("<table") and "two &lt;muons&gt;" in html and "<muons>" not in html
    table = shown.GetValue()
    assert repr(table) == str(table) and "| Row" in repr(table)
    assert table._repr_html_().count("<tr>") == 1 + 3
    frame_html = two._repr_html_()
    assert "Filter two &lt;muons&gt;" in frame_html and "polars" in frame_html


def test_text_results_keep_their_lines(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file).Define("x", "MET_pt * 2")
    for text in (df.Describe(), df.explain(), hepframe.SaveGraph(df)):
        assert isinstance(text, str) and "\n" in text
        assert repr(text) == str(text)  # not a quoted string with \n escapes
        assert text._repr_html_().startswith("<pre")


def test_variations_are_a_mapping(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"], "scale")
    hs = hepframe.VariationsFor(varied.Histo1D(("met", "", 10, 0, 100), "MET_pt"))
    assert isinstance(hs, Mapping) and list(hs) == ["nominal", "scale:down", "scale:up"] == hs.GetKeys()
    assert repr(hs) == "<VariationsMap nominal, scale:down, scale:up (pending)>"
    values = list(hs.values())
    assert len(values) == 3 and values[1].values().tolist() != values[2].values().tolist()
    assert dict(hs.items()).keys() == {"nominal", "scale:down", "scale:up"}
    assert repr(hs).endswith("(ready)>") and hs._repr_html_().count("ready") == 3


def test_progress_bar_waits_a_second_and_stays(small_nanoaod_file: str, capsys, monkeypatch) -> None:
    import io

    from hepframe import progress

    source = hepframe.RDataFrame("Events", small_nanoaod_file)._analysis.root.source
    bar = progress.event_bar(source, True)
    assert bar.leave and bar.delay == 1.0 and bar.total == source.num_entries
    bar.close()
    monkeypatch.setattr(progress, "in_notebook", lambda: True)  # as inside a notebook kernel
    monkeypatch.setenv("HEPFRAME_PROGRESS", "1")
    assert not progress.event_bar(source, None).disable
    monkeypatch.setenv("HEPFRAME_PROGRESS", "0")
    assert progress.event_bar(source, None).disable
    # events, their rate and the bytes read, on the bar's last line
    out = io.StringIO()
    monkeypatch.setitem(progress.TQDM_OPTIONS, "delay", 0)
    monkeypatch.setitem(progress.TQDM_OPTIONS, "file", out)
    bar = progress.event_bar(source, True)
    progress.advance(bar, 1000, 3 * 1024 * 1024)
    progress.advance(bar, 500, 1024 * 1024)
    bar.close()
    assert bar.n == 1500 and "4.00MB read" in out.getvalue() and "ev/s" in out.getvalue()
    monkeypatch.setitem(progress.TQDM_OPTIONS, "delay", 1.0)
    monkeypatch.delitem(progress.TQDM_OPTIONS, "file")
    hepframe.RDataFrame("Events", small_nanoaod_file, progress=True).Count().GetValue()  # well under a second
    assert capsys.readouterr().err == ""
