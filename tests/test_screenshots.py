"""The notebook displays rendered in a real headless browser (issue #19): screenshots checked pixel by pixel.

Every display of a small analysis (the frame, results pending and ready, histograms, the cut-flow
report, ``Display``, ``Describe``, ``explain``, ``SaveGraph`` and ``VariationsFor``) goes into one
page that imitates a JupyterLab output area; Debian's Chromium (``/usr/bin/chromium``, installed by
scripts/test.sh) renders it in one run that writes the screenshot and the DOM, into whose title a
script of the page puts every display's layout. The checks read both: a table must show its grid
(one grey border line per row and per column boundary) with text in every cell, preformatted text
its own text with one row of glyphs per non-blank line, a picture its lines, filled shapes and
labels where the DOM puts them. The same page with every display's HTML shown as escaped markup in
a ``<pre>`` (what a broken display looks like), rendered alongside, is the negative control: the
same checks must reject each of its displays, the pixel checks alone too (pictures and tables).

Chromium is required in CI (``CI=true``: a missing browser fails); elsewhere the tests skip without it.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hepframe

pytestmark = pytest.mark.slow  # two browser runs, ~5 s

WIDTH = 1280  # the browser window; the height follows the page
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1", "--mute-audio",
]  # fmt: skip

# A white page with a few rules of JupyterLab's rendermime CSS (light theme): tables centred,
# odd body rows on a light grey, text in 87 % black; the displays' inline styles win over these.
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pending</title><style>
body {{ background: #fff; margin: 0; color: rgba(0, 0, 0, 0.87);
        font-family: system-ui, -apple-system, "DejaVu Sans", sans-serif; font-size: 14px;
        display: flex; flex-wrap: wrap; align-items: flex-start; }}
section {{ padding: 4px 16px 12px; max-width: 1240px; box-sizing: border-box; }}
h3 {{ font-size: 12px; color: #888; margin: 0 0 4px; font-weight: normal; }}
.jp-RenderedHTMLCommon {{ overflow-x: auto; line-height: 1.5; }}
.jp-RenderedHTMLCommon table {{ border-collapse: collapse; border-spacing: 0; border: none;
        margin-left: auto; margin-right: auto; font-size: 12px; }}
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {{ padding: 0.5em; border: none; text-align: right; }}
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) {{ background: #f5f5f5; }}
.jp-RenderedHTMLCommon pre {{ font-family: "DejaVu Sans Mono", monospace; line-height: 1.3; margin: 0; }}
</style></head><body>
{sections}
<script>
window.addEventListener("load", () => {{
  const box = e => {{ const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }};
  const sections = {{}};
  for (const out of document.querySelectorAll("div.out")) {{
    sections[out.dataset.key] = {{
      box: box(out),
      tables: [...out.querySelectorAll("table")].map(t => ({{
        box: box(t), caption: t.caption ? t.caption.textContent : null,
        rows: [...t.rows].map(r => [...r.cells].map(c => c.textContent)),
        cells: [...t.rows].map(r => [...r.cells].map(box))}})),
      pres: [...out.querySelectorAll("pre")].map(p => ({{box: box(p), text: p.textContent}})),
      svgs: [...out.querySelectorAll("svg")].map(s => ({{
        box: box(s), width: s.getAttribute("width"), height: s.getAttribute("height"),
        rects: [...s.querySelectorAll("rect")].map(r => ({{box: box(r), fill: r.getAttribute("fill")}}))}})),
      imgs: [...out.querySelectorAll("img")].map(i => ({{box: box(i), natural: [i.naturalWidth, i.naturalHeight]}})),
    }};
  }}
  const layout = {{height: document.documentElement.scrollHeight, sections}};
  document.title = "LAYOUT:" + btoa(unescape(encodeURIComponent(JSON.stringify(layout))));
}});
</script>
</body></html>
"""


def chromium() -> str:
    """Debian's Chromium; missing, a failure in CI and a skip elsewhere."""
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
    if found:
        return found
    message = "Chromium is missing (Debian: apt-get install chromium; scripts/test.sh installs it as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Shot:
    """One rendered page: the screenshot (H x W x RGB) and each display's layout, from the DOM."""

    png: Path
    pixels: np.ndarray
    window: tuple[int, int]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def crop(self, box: list[float]) -> np.ndarray:
        x, y, w, h = (round(v) for v in box)
        return self.pixels[max(y, 0) : y + h, max(x, 0) : x + w]


def render(pages: dict[str, tuple[str, int]], tmp: Path) -> dict[str, Shot]:
    """Screenshot each page (name: HTML, a guess of its height) and read its layout from the DOM.

    One Chromium run per page, all at once; a page taller than its guess is run again at its height,
    so that one screenshot holds all of it.
    """
    from PIL import Image

    browser = chromium()
    home = {"HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache")}
    heights = {name: guess for name, (_, guess) in pages.items()}
    for name, (page, _) in pages.items():
        (tmp / f"{name}.html").write_text(page, encoding="utf-8")
    shots: dict[str, Shot] = {}
    for _ in range(2):
        runs = {}
        for name in set(pages) - set(shots):
            profile = tmp / f"profile-{name}-{heights[name]}"  # a new empty profile per run
            out, err = (open(tmp / f"{name}.{ext}", "w") for ext in ("dom", "log"))
            with out, err:
                runs[name] = subprocess.Popen(
                    [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{heights[name]}",
                     f"--screenshot={tmp / name}.png", "--dump-dom", (tmp / f"{name}.html").as_uri()],
                    stdout=out, stderr=err, stdin=subprocess.DEVNULL, env={**os.environ, **home},
                )  # fmt: skip
        for name, proc in runs.items():
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                for other in runs.values():
                    other.kill()
                raise
            found = re.search(r"<title>LAYOUT:([A-Za-z0-9+/=]+)</title>", (tmp / f"{name}.dom").read_text())
            assert rc == 0 and found, f"Chromium failed on {name} (rc {rc}):\n{(tmp / f'{name}.log').read_text()[-3000:]}"
            layout = json.loads(base64.b64decode(found.group(1)).decode("utf-8"))
            if layout["height"] > heights[name]:
                heights[name] = layout["height"] + 20
                continue
            png = tmp / f"{name}.png"
            assert png.is_file(), f"no screenshot {png}"
            with Image.open(png) as image:
                window = (WIDTH, heights[name])
                assert image.size == window, f"{png}: {image.size} is not the window size {window}"
                shots[name] = Shot(png, np.asarray(image.convert("RGB")), window, layout["sections"])
    assert set(shots) == set(pages), f"pages that grew between two renderings: {set(pages) - set(shots)}"
    return shots


# -- what each kind of display must look like ----------------------------------------------------

def nonwhite(pixels: np.ndarray) -> np.ndarray:
    return pixels.min(axis=-1) < 245


def dark(pixels: np.ndarray) -> np.ndarray:
    """Text pixels (black at 87 %, anti-aliased): the darkest channel well under mid-grey."""
    return pixels.max(axis=-1) < 140


def runs(mask: np.ndarray, min_length: int) -> list[int]:
    """Indices of the rows of ``mask`` holding ``min_length`` consecutive True values."""
    if mask.shape[1] < min_length:
        return []
    counts = np.concatenate([np.zeros((len(mask), 1), dtype=int), np.cumsum(mask, axis=1)], axis=1)
    return np.flatnonzero((counts[:, min_length:] - counts[:, :-min_length] == min_length).any(axis=1)).tolist()


def drawn_shapes(pixels: np.ndarray, line: int = 100, block: int = 10) -> bool:
    """Whether ``pixels`` hold what a drawing has and text has not: a line ``line`` px long, or a
    ``block`` x ``block`` px area of one colour."""
    ink = nonwhite(pixels)
    if runs(ink, line):
        return True
    same = ink[1:, 1:] & (pixels[1:, 1:] == pixels[:-1, 1:]).all(axis=-1) & (pixels[1:, 1:] == pixels[1:, :-1]).all(axis=-1)
    sums = np.pad(same.astype(int), ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    areas = sums[block:, block:] - sums[:-block, block:] - sums[block:, :-block] + sums[:-block, :-block]
    return bool((areas == block * block).any())


def groups(indices: list[int]) -> list[list[int]]:
    """Consecutive indices grouped: one group per drawn line, or per row of glyphs."""
    out: list[list[int]] = []
    for i in indices:
        if out and i == out[-1][-1] + 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def border_lines(pixels: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """Horizontal and vertical lines of the tables' border grey (#ccc) in a crop: rows and columns."""
    grey = (np.abs(pixels.astype(int) - 204).max(axis=-1) <= 12)
    return groups(runs(grey, 40)), groups(runs(grey.T, 12))


def check_table(shot: Shot, key: str, expect: dict[str, Any]) -> list[str]:
    section = shot.sections[key]
    if len(section["tables"]) != 1:
        return [f"{len(section['tables'])} table(s) in the DOM, expected 1"]
    table = section["tables"][0]
    problems = []
    rows = table["rows"]
    n_rows, n_cols = expect["shape"]
    if [len(r) for r in rows] != [n_cols] * n_rows:
        problems.append(f"cells per row {[len(r) for r in rows]}, expected {n_rows} rows of {n_cols}")
    if rows and rows[0] != expect["header"]:
        problems.append(f"header {rows[0]} != {expect['header']}")
    if [r[0] for r in rows] != expect["first_column"]:
        problems.append(f"first column {[r[0] for r in rows]} != {expect['first_column']}")
    if expect.get("caption") is not None and expect["caption"] not in (table["caption"] or ""):
        problems.append(f"caption {table['caption']!r} lacks {expect['caption']!r}")
    # The pixels of the grid: the cells' box, drawn with one 1px border between cells (collapsed).
    cells = [c for row in table["cells"] for c in row]
    left, top = min(c[0] for c in cells), min(c[1] for c in cells)
    right, bottom = max(c[0] + c[2] for c in cells), max(c[1] + c[3] for c in cells)
    grid = shot.crop([left - 2, top - 2, right - left + 4, bottom - top + 4])
    horizontal, vertical = border_lines(grid)
    if len(horizontal) != n_rows + 1 or len(vertical) != n_cols + 1:
        problems.append(f"border lines: {len(horizontal)} horizontal (expected {n_rows + 1}), "
                        f"{len(vertical)} vertical (expected {n_cols + 1})")  # fmt: skip
    for r, row in enumerate(table["cells"]):
        for c, cell in enumerate(row):
            if rows[r][c].strip() and not dark(shot.crop(cell)).any():
                problems.append(f"cell ({r}, {c}) {rows[r][c]!r} shows no text")
    return problems


def check_pre(shot: Shot, key: str, expect: dict[str, Any]) -> list[str]:
    section = shot.sections[key]
    if len(section["pres"]) != 1:
        return [f"{len(section['pres'])} <pre> in the DOM, expected 1"]
    pre = section["pres"][0]
    problems = []
    if pre["text"] != expect["text"]:
        problems.append(f"text shown differs: {pre['text'][:200]!r}")
    lines = expect["text"].rstrip("\n").split("\n")
    # Each line of text in its own band of the <pre>, glyphs exactly where the line is not blank.
    x, y, w, h = pre["box"]
    band = h / len(lines)
    for i, line in enumerate(lines):
        inked = dark(shot.crop([x, y + i * band + 1, w, band - 2])).any()
        if inked != bool(line.strip()):
            problems.append(f"line {i} {line[:60]!r} {'shows no text' if line.strip() else 'is not blank'}")
            break
    glyph_rows = groups(runs(dark(shot.crop(pre["box"])), 1))
    if len(glyph_rows) != sum(1 for line in lines if line.strip()):
        problems.append(f"{len(glyph_rows)} rows of glyphs for {sum(1 for s in lines if s.strip())} non-blank lines")
    return problems


def check_histogram(shot: Shot, key: str, expect: dict[str, Any]) -> list[str]:
    """hist's own display: an SVG drawing (axis and steps, or a grid of shaded cells) beside the axes' text."""
    svgs = shot.sections[key]["svgs"]
    if len(svgs) != 1:
        return [f"{len(svgs)} <svg> in the DOM, expected 1"]
    x, y, w, h = svgs[0]["box"]
    if w < 100 or h < 50:
        return [f"the picture is {w} x {h} px"]
    drawn = nonwhite(shot.crop(svgs[0]["box"]))
    cols, rows = np.flatnonzero(drawn.any(axis=0)), np.flatnonzero(drawn.any(axis=1))
    problems = []
    width, height = (int(np.ptp(v)) if len(v) else 0 for v in (cols, rows))
    if drawn.mean() < 0.01 or width < 0.8 * w or height < 0.5 * h:
        problems.append(f"the drawing covers {drawn.mean():.1%} of the picture, {width} x {height} px of {w} x {h}")
    if not drawn_shapes(shot.crop(svgs[0]["box"])):
        problems.append("the picture has no axis line nor filled bin, only text-like marks")
    return problems


def check_graph(shot: Shot, key: str, expect: dict[str, Any]) -> list[str]:
    """SaveGraph's picture: one filled box per node and result, at its size, each with its label."""
    svgs = shot.sections[key]["svgs"]
    if len(svgs) != 1:
        return [f"{len(svgs)} <svg> in the DOM, expected 1"]
    svg = svgs[0]
    problems = []
    size = [round(v) for v in svg["box"][2:]]
    if [svg["width"], svg["height"]] != [str(v) for v in size] or min(size) < 50:
        problems.append(f"the picture is {size} px for width={svg['width']} height={svg['height']}")
    if len(svg["rects"]) != expect["boxes"]:
        problems.append(f"{len(svg['rects'])} boxes drawn, expected {expect['boxes']}")
    for rect in svg["rects"]:
        x, y, w, h = rect["box"]
        fill = np.array([int(rect["fill"][i : i + 2], 16) for i in (1, 3, 5)])
        inside = shot.pixels[round(y + h / 2), round(x + 5)]  # left of the label, inside the border
        if np.abs(inside.astype(int) - fill).max() > 8:
            problems.append(f"box at {x:.0f},{y:.0f} is {inside.tolist()} inside, not its fill {rect['fill']}")
        if not dark(shot.crop(rect["box"])).any():
            problems.append(f"box at {x:.0f},{y:.0f} shows no label")
    return problems


def check_image(shot: Shot, key: str, expect: dict[str, Any]) -> list[str]:
    """The SVG as a standalone image (JupyterLab shows image/svg+xml as <img>): it loads, at its size."""
    imgs = shot.sections[key]["imgs"]
    if len(imgs) != 1:
        return [f"{len(imgs)} <img> in the DOM, expected 1"]
    problems = []
    if imgs[0]["natural"] != expect["size"]:
        problems.append(f"the image is {imgs[0]['natural']} px (0: not a valid SVG), expected {expect['size']}")
    image = shot.crop(imgs[0]["box"])
    if nonwhite(image).mean() < 0.05:
        problems.append(f"the image is blank ({nonwhite(image).mean():.1%} drawn)")
    # The same picture as the inline SVG: the same renderer draws both.
    inline = shot.crop(shot.sections[expect["same_as"]]["svgs"][0]["box"]) if shot.sections[expect["same_as"]]["svgs"] else None
    if inline is None or inline.shape != image.shape:
        problems.append(f"the image is {image.shape[:2]} px, the inline picture {None if inline is None else inline.shape[:2]}")
    elif (different := (np.abs(inline.astype(int) - image).max(axis=-1) > 40).mean()) > 0.01:
        problems.append(f"the image differs from the inline picture in {different:.1%} of its pixels")
    return problems


def relocated(shot: Shot, layout: Shot) -> Shot:
    """``shot``'s pixels with the DOM of ``layout``, each display's boxes moved to where ``shot`` drew it:
    the checks then test the pixels alone, as if the browser had drawn ``shot`` for ``layout``'s DOM."""

    def moved(value: Any, dx: float, dy: float) -> Any:
        if isinstance(value, dict):
            return {k: [v[0] + dx, v[1] + dy, *v[2:]] if k == "box"
                    else [[[b[0] + dx, b[1] + dy, *b[2:]] for b in row] for row in v] if k == "cells"
                    else moved(v, dx, dy) for k, v in value.items()}  # fmt: skip
        return [moved(v, dx, dy) for v in value] if isinstance(value, list) else value

    sections = {}
    for key, section in layout.sections.items():
        (x0, y0, *_), (x1, y1, *_) = section["box"], shot.sections[key]["box"]
        sections[key] = moved(section, x1 - x0, y1 - y0)
    return Shot(shot.png, shot.pixels, shot.window, sections)


CHECKS = {"table": check_table, "pre": check_pre, "histogram": check_histogram, "graph": check_graph,
          "image": check_image}  # fmt: skip


@dataclass
class Display:
    label: str
    html: str
    kind: str
    expect: dict[str, Any]


def notebook_html(obj: Any) -> str:
    """The HTML Jupyter shows for ``obj``: the text/html of its mime bundle, else its ``_repr_html_``."""
    bundle = getattr(obj, "_repr_mimebundle_", None)
    if bundle is not None:
        data = bundle()
        data = data[0] if isinstance(data, tuple) else data
        if "text/html" in data:
            return data["text/html"]
    return obj._repr_html_()


def table_expect(header: list[str], first_column: list[Any], caption: str | None = None) -> dict[str, Any]:
    first = [header[0], *(str(v) for v in first_column)]
    return {"shape": (len(first), len(header)), "header": header, "first_column": first, "caption": caption}


def analysis_displays(path: str, tiny_path: str) -> dict[str, Display]:
    df = hepframe.RDataFrame("Events", path)
    two = df.Filter("nMuon == 2", "two <muons>").Define("x", "MET_pt * 2")
    high = two.Filter("MET_pt > 20", "MET > 20 & more")
    h = two.Histo1D(("met", "MET", 10, 0, 100), "MET_pt")
    shown: dict[str, Display] = {}
    shown["pending"] = Display("ResultPtr, pending", h._repr_html_(), "pre", {"text": repr(h)})
    h2 = two.Histo2D(("h2", "", 5, 0, 100, 5, 0, 200), "MET_pt", "x")
    profile = high.Profile1D(("p", "", 10, 0, 100), "MET_pt", "x")
    report = df.Report()
    table = two.Display(["nMuon", "Muon_pt"], nRows=3)
    varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"], "scale")
    variations = hepframe.VariationsFor(varied.Histo1D(("v", "", 10, 0, 100), "MET_pt"))
    graph = hepframe.SaveGraph(high)
    h.GetValue()
    entries = report.GetValue().entries
    rows = table.GetValue()
    shown["frame"] = Display("RDataFrame", high._repr_html_(), "table", table_expect(
        ["step", "node"], range(len(high._node.ancestors())), caption="polars engine"))  # fmt: skip
    shown["histo1d"] = Display("ResultPtr of Histo1D, ready", h._repr_html_(), "histogram", {})
    shown["histo2d"] = Display("Histo2D", h2.GetValue()._repr_html_(), "histogram", {})
    shown["profile"] = Display("Profile1D", profile._repr_html_(), "histogram", {})
    shown["report"] = Display("Report", report._repr_html_(), "table", table_expect(
        ["filter", "pass", "all", "eff %", "cumulative eff %"], [e.name for e in entries], caption="cut flow"))  # fmt: skip
    assert [e.name for e in entries] == ["two <muons>", "MET > 20 & more"]  # markup characters, shown as text
    shown["display"] = Display("Display", table._repr_html_(), "table", table_expect(
        ["Row", "nMuon", "Muon_pt"], [int(i) for i in rows._row_numbers()]))  # fmt: skip
    shown["variations"] = Display("VariationsFor", variations._repr_html_(), "table", table_expect(
        ["variation", "state"], list(variations), caption="VariationsFor"))  # fmt: skip
    describe = hepframe.RDataFrame("Events", tiny_path).Define("y", "x * 2").Describe()  # 11 columns, not 66
    explain = high.explain()
    shown["describe"] = Display("Describe", describe._repr_html_(), "pre", {"text": str(describe)})
    shown["explain"] = Display("explain", explain._repr_html_(), "pre", {"text": str(explain)})
    mermaid = hepframe.SaveGraph(high, format="mermaid")
    shown["mermaid"] = Display("SaveGraph mermaid", notebook_html(mermaid), "pre", {"text": str(mermaid)})
    analysis = high._analysis
    boxes = len(analysis.nodes) + len(analysis.actions)
    shown["graph"] = Display("SaveGraph", notebook_html(graph), "graph", {"boxes": boxes})
    picture = graph._repr_svg_()
    size = [int(re.search(f'{a}="([0-9]+)"', picture).group(1)) for a in ("width", "height")]
    data = base64.b64encode(picture.encode("utf-8")).decode("ascii")
    shown["graph-image"] = Display("SaveGraph as image/svg+xml", f'<img src="data:image/svg+xml;base64,{data}">',
                                   "image", {"size": size, "same_as": "graph"})  # fmt: skip
    svg_format = hepframe.SaveGraph(high, format="svg")
    shown["graph-svg"] = Display('SaveGraph(format="svg")', notebook_html(svg_format), "graph", {"boxes": boxes})
    return shown


def page(displays: dict[str, Display], escaped: bool = False) -> str:
    sections = []
    for key, d in displays.items():
        content = f"<pre>{html.escape(d.html)}</pre>" if escaped else d.html
        sections.append(f'<section><h3>{html.escape(d.label)}</h3>'
                        f'<div class="out jp-RenderedHTMLCommon" data-key="{key}">{content}</div></section>')  # fmt: skip
    return PAGE.format(sections="\n".join(sections))


@pytest.fixture(scope="module")
def rendered(small_nanoaod_file: str, tiny_file: str, tmp_path_factory) -> tuple[dict[str, Display], Shot, Shot]:
    chromium()
    displays = analysis_displays(small_nanoaod_file, tiny_file)
    shots = render({"displays": (page(displays), 3200), "escaped": (page(displays, escaped=True), 5400)},
                   tmp_path_factory.mktemp("screenshots"))  # fmt: skip
    return displays, shots["displays"], shots["escaped"]


KEYS = ["frame", "pending", "histo1d", "histo2d", "profile", "report", "display", "variations", "describe",
        "explain", "mermaid", "graph", "graph-image", "graph-svg"]  # fmt: skip


@pytest.mark.parametrize("key", KEYS)
def test_display_renders_in_chromium(rendered, key: str) -> None:
    displays, shot, escaped = rendered
    d = displays[key]
    section = shot.sections[key]
    where = f"{d.label} in {shot.png}"
    assert nonwhite(shot.crop(section["box"])).sum() > 300, f"{where}: blank"
    assert CHECKS[d.kind](shot, key, d.expect) == [], where
    # The negative control: the same HTML as escaped markup fails the same checks, and looks different.
    assert CHECKS[d.kind](escaped, key, d.expect) != [], f"the checks accept escaped markup ({escaped.png})"
    if d.kind != "pre":  # escaped, preformatted text keeps its lines: its text check above tells them apart
        pixels_only = relocated(escaped, shot)
        assert CHECKS[d.kind](pixels_only, key, d.expect) != [], f"the pixel checks accept {escaped.png}"
    a, b = shot.crop(section["box"]), escaped.crop(escaped.sections[key]["box"])
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    pad = [np.pad(p, ((0, h - p.shape[0]), (0, w - p.shape[1]), (0, 0)), constant_values=255) for p in (a, b)]
    ink = nonwhite(pad[0]) | nonwhite(pad[1])
    differ = (np.abs(pad[0].astype(int) - pad[1]).max(axis=-1) > 60) & ink
    assert differ.sum() > 0.3 * ink.sum(), f"{where}: looks like its escaped markup ({escaped.png})"


def test_screenshots_cover_every_display(rendered) -> None:
    """Every display of the page went through the checks, and the test list names them all."""
    displays, shot, escaped = rendered
    assert sorted(KEYS) == sorted(displays) == sorted(shot.sections) == sorted(escaped.sections)
    for page in (shot, escaped):  # each display whole in its screenshot
        for key, section in page.sections.items():
            x, y, w, h = section["box"]
            assert w > 0 and h > 0 and x >= 0 and y >= 0, f"{key} in {page.png}: box {section['box']}"
            assert x + w <= page.window[0] and y + h <= page.window[1], f"{key} outside {page.png} {page.window}"
