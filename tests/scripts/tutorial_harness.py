"""Run one of ROOT's Python dataframe tutorials with ``import ROOT`` or ``from hepframe import ROOT``.

``python tutorial_harness.py root|hepframe path/to/dfNNN.py`` writes the prepared script into the
current directory and runs it there, then prints a JSON line with every number the script left in
its global variables: histogram contents and errors with flow bins, entries, means and standard
deviations, counts, sums, numpy arrays (values and dtypes), statistics and graphs. Drawing lines
(canvases, styles, ``Draw``, ``SaveAs`` on a canvas) are replaced by ``pass`` in both runs: drawing
is not a number, and hepframe has no ROOT graphics.
"""

from __future__ import annotations

import json
import math
import os
import re
import runpy
import sys
from pathlib import Path

_DRAWING = re.compile(
    r"TCanvas|TLegend|TLatex|TPaveText|TLine\b|TArrow|TText|gStyle|gPad|\.Draw\w*\(|\.SaveAs\(|\.Print\(\s*['\"]\w*\.(png|pdf)|"
    r"SetLog[xyz]|\.Divide\(|\.cd\(|\.Set(Marker|Line|Fill|Title|Stats|Range|Grid|Tick|Label|Maximum|Minimum|"
    r"LeftMargin|RightMargin|TopMargin|BottomMargin|NdivisionsX?|MoreLogLabels|NoExponent|TextFont|TextSize|"
    r"BorderSize|Header|Opt\w*)\w*\(|\.AddEntry\(|\.Modified\(|\.Update\(|\.GetXaxis\(\)\.Set|\.GetYaxis\(\)\.Set"
)


def prepare(text: str, mode: str, replace: dict[str, str] | None = None) -> str:
    """The tutorial with the import swapped (hepframe), drawing lines replaced by ``pass``, and
    ``replace``'s strings (remote inputs) replaced by local ones."""
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    lines = []
    for line in text.splitlines():
        if _DRAWING.search(line) and not line.rstrip().endswith(("(", ",", "\\")):
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}pass  # drawing"
        elif mode == "hepframe" and line.strip() == "import ROOT":
            line = line.replace("import ROOT", "from hepframe import ROOT")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _number(x):
    x = float(x)
    return repr(x) if math.isnan(x) or math.isinf(x) else x


def _histogram(h) -> dict:
    dim = int(h.GetDimension())
    nx = int(h.GetNbinsX())
    ny = int(h.GetNbinsY()) if dim > 1 else 0
    nz = int(h.GetNbinsZ()) if dim > 2 else 0
    cells = [(i, j, k) for k in range(nz + 2 if dim > 2 else 1) for j in range(ny + 2 if dim > 1 else 1)
             for i in range(nx + 2)]  # fmt: skip
    out = {
        "name": str(h.GetName()), "title": str(h.GetTitle()), "dim": dim, "entries": _number(h.GetEntries()),
        "content": [_number(h.GetBinContent(*c[:dim])) for c in cells],
        "error": [_number(h.GetBinError(*c[:dim])) for c in cells],
        "mean": [_number(h.GetMean(a)) for a in range(1, dim + 1)],
        "stddev": [_number(h.GetStdDev(a)) for a in range(1, dim + 1)],
        "xaxis": [nx, _number(h.GetXaxis().GetXmin()), _number(h.GetXaxis().GetXmax())],
    }  # fmt: skip
    return out


def describe(value):
    """A JSON-able record of the numbers in ``value``, or None if it holds none."""
    import numpy as np

    if hasattr(value, "GetValue") and callable(value.GetValue) and not hasattr(value, "GetBinContent"):
        try:
            value = value.GetValue()
        except Exception:  # noqa: BLE001 - a lazy result that cannot run is not a number
            return None
    if hasattr(value, "GetBinContent") and hasattr(value, "GetDimension"):
        return {"histogram": _histogram(value)}
    if hasattr(value, "GetMeanErr") and hasattr(value, "GetW2"):
        return {"stats": [_number(value.GetN()), _number(value.GetW()), _number(value.GetW2()),
                          _number(value.GetMean()), _number(value.GetRMS()), _number(value.GetMin()),
                          _number(value.GetMax())]}  # fmt: skip
    if hasattr(value, "GetN") and hasattr(value, "GetPointX"):
        n = int(value.GetN())
        return {"graph": [[_number(value.GetPointX(i)), _number(value.GetPointY(i))] for i in range(n)]}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, (int, float, np.integer, np.floating)):
        return {"number": _number(value)}
    if isinstance(value, np.ndarray) and value.dtype != object:
        return {"array": [_number(v) for v in value.ravel()], "dtype": str(value.dtype)}
    if isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()):
        return {"arrays": {k: describe(v) for k, v in value.items()}}
    return None


def _written_trees(before: set[Path]) -> dict:
    """Every tree in the ROOT files the script wrote (Snapshot), read back with uproot."""
    import numpy as np
    import uproot

    out = {}
    for path in sorted(set(Path.cwd().glob("*.root")) - before):
        with uproot.open(path) as f:
            for key, cls in f.classnames(recursive=False).items():
                if cls != "TTree":
                    continue
                arrays = f[key].arrays(library="np")
                tree = {}
                for name, a in sorted(arrays.items()):
                    if name.startswith("__rdf_sizeof_") and name[13:] in arrays:
                        continue  # the sizes of a counted array, which ROOT keeps inside a std::vector branch
                    if a.dtype == object:  # one array per entry: sizes and flat values
                        parts = [np.asarray(x) for x in a]
                        flat = np.concatenate(parts) if parts else np.zeros(0)
                        tree[name] = {"sizes": [len(x) for x in parts], "dtype": str(flat.dtype),
                                      "values": [_number(v) for v in flat.astype(np.float64)]}  # fmt: skip
                    else:
                        tree[name] = {"values": [_number(v) for v in np.asarray(a, dtype=np.float64)], "dtype": str(a.dtype)}
                out[f"{path.name}:{key.split(';')[0]}"] = tree
    return out


def main() -> None:
    mode, source = sys.argv[1], Path(sys.argv[2])
    script = Path.cwd() / source.name
    replace = json.loads(os.environ.get("HEPFRAME_TUTORIAL_REPLACE", "{}"))
    script.write_text(prepare(source.read_text(), mode, replace))
    before = set(Path.cwd().glob("*.root"))
    if mode == "root":  # ROOT's defined numbers: one thread (sums under implicit MT depend on scheduling)
        import ROOT

        ROOT.ROOT.EnableImplicitMT = ROOT.EnableImplicitMT = lambda *args: None
    if os.environ.get("HEPFRAME_TUTORIAL_SPARK") and mode == "hepframe":  # every RDataFrame distributed on Spark
        from hepframe import ROOT

        spark, local = ROOT.RDF.Experimental.Distributed.Spark.RDataFrame, ROOT.RDataFrame
        ROOT.RDataFrame = lambda *args, **kwargs: (
            local(*args, **kwargs) if "engine" in kwargs else spark(*args, npartitions=2, **kwargs))  # fmt: skip
    threads = int(os.environ.get("HEPFRAME_TUTORIAL_IMT", "0"))
    if threads and mode == "hepframe":  # the same script with implicit multi-threading switched on first
        from hepframe import ROOT

        ROOT.EnableImplicitMT(threads)
    sys.argv = [str(script)]
    names = runpy.run_path(str(script), run_name="__main__")
    record = {}
    for name in sorted(names):
        if name.startswith("_") or name in ("ROOT",):
            continue
        found = describe(names[name])
        if found is not None:
            record[name] = found
    record["written files"] = _written_trees(before)
    sys.stdout.flush()
    print("\n@@NUMBERS@@" + json.dumps(record, sort_keys=True))


if __name__ == "__main__":
    main()
