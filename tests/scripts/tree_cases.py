"""Trees written with PyROOT's TTree/Branch/Fill, then read through TChains and friend trees.

``python tree_cases.py root|hepframe DIR`` writes the files in DIR with that ROOT module and prints,
as one JSON line, what RDataFrame reads back: every branch type (scalars of each leaf code, fixed
and variable arrays, std::vector), chains with a tree name per file and missing branches,
friends matched by entry and by index (BuildIndex), dotted friend columns in expressions and
Display's Row numbers after a filter. tests/test_root_trees.py compares the two modes.
"""

from __future__ import annotations

import array
import json
import os
import sys

import numpy as np

mode, workdir = sys.argv[1], sys.argv[2]
if mode == "root":
    import ROOT
else:
    from hepframe import ROOT
os.chdir(workdir)


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    array_like = np.asarray(value)
    if array_like.dtype == object:
        return [plain(v) for v in value]
    return {"dtype": str(array_like.dtype), "values": array_like.tolist()}


def write_types() -> None:
    with ROOT.TFile("types.root", "RECREATE"):
        t = ROOT.TTree("t", "all leaf types")
        buffers = {}
        for code, typecode in [("B", "b"), ("b", "B"), ("S", "h"), ("s", "H"), ("I", "i"), ("i", "I"),
                               ("L", "q"), ("l", "Q"), ("F", "f"), ("D", "d")]:  # fmt: skip
            buffers[code] = array.array(typecode, [0])
            t.Branch(f"x{code}{'u' if code.islower() else ''}", buffers[code], f"x{code}{'u' if code.islower() else ''}/{code}")
        flag = np.zeros(1, dtype=bool)
        t.Branch("flag", flag, "flag/O")
        fixed = array.array("f", [0, 0, 0])
        t.Branch("fixed", fixed, "fixed[3]/F")
        n = array.array("i", [0])
        var = array.array("d", [0] * 8)
        t.Branch("n", n, "n/I")
        t.Branch("var", var, "var[n]/D")
        vec = ROOT.std.vector["float"]()
        t.Branch("vec", vec)
        for i in range(7):
            for code, buf in buffers.items():
                buf[0] = (i * 37 + 5) % 100 - (50 if code.isupper() and code not in "FD" else 0)
            buffers["F"][0] = i / 3
            buffers["D"][0] = i / 7
            flag[0] = i % 2 == 0
            fixed[0], fixed[1], fixed[2] = i, i + 0.5, -i
            n[0] = i % 4
            for k in range(8):
                var[k] = i * 10 + k
            vec.clear()
            for k in range(i % 3):
                vec.push_back(k * 1.5 + i)
            t.Fill()
        t.Write()


def write_chain_and_friends() -> None:
    def tree(path: str, name: str, branches: dict[str, list[int]]) -> None:
        with ROOT.TFile(path, "RECREATE"):
            t = ROOT.TTree(name, name)
            bufs = {b: array.array("i", [0]) for b in branches}
            for b, buf in bufs.items():
                t.Branch(b, buf, f"{b}/I")
            for i in range(len(next(iter(branches.values())))):
                for b, buf in bufs.items():
                    buf[0] = branches[b][i]
                t.Fill()
            t.Write()

    tree("c1.root", "first", {"x": [1, 2, 3], "y": [10, 20, 30]})
    tree("c2.root", "second", {"y": [40, 50]})
    tree("c3.root", "third", {"x": [6, 7], "y": [60, 70]})
    tree("main.root", "events", {"idx": [5, 1, 2, 3, 3, 9, 1], "x": [50, 10, 20, 30, 31, 90, 11]})
    tree("aux.root", "aux", {"idx": [3, 1, 9, 7], "y": [300, 100, 900, 700]})
    tree("pos.root", "pos", {"w": [1, 2, 3, 4, 5, 6, 7, 8]})


write_types()
write_chain_and_friends()
out: dict = {}

df = ROOT.RDataFrame("t", "types.root")
names = sorted(str(c) for c in df.GetColumnNames() if str(c) != "xB")  # ROOT's AsNumpy fails on Char_t
out["types"] = plain(df.Define("xB_as_int", "int(xB)").AsNumpy([*names, "xB_as_int"]))
# (not "vec": uproot writes a std::vector branch as a variable-size leaf array, which ROOT calls RVec<Float_t>)
out["type_names"] = {name: str(df.GetColumnType(name)) for name in [*names, "xB"] if name != "vec"}
out["types_count"] = int(df.Count().GetValue())
out["vec_sum"] = float(df.Sum("vec").GetValue())
out["var_sum"] = float(df.Define("s", "Sum(var)").Sum("s").GetValue())

chain = ROOT.TChain()
for path, name in [("c1.root", "first"), ("c2.root", "second"), ("c3.root", "third")]:
    chain.Add(f"{path}?#{name}")
cdf = ROOT.RDataFrame(chain)
out["chain_y"] = plain(cdf.AsNumpy(["y"]))
out["chain_x"] = plain(cdf.DefaultValueFor("x", -1).AsNumpy(["x"]))
out["chain_available"] = plain(cdf.FilterAvailable("x").Define("s", "x + y").AsNumpy(["s"]))
out["chain_display"] = cdf.FilterMissing("x").Display(["y"]).AsString()

main = ROOT.TChain("events")
main.Add("main.root")
aux = ROOT.TChain("aux")
aux.Add("aux.root")
aux.BuildIndex("idx")
main.AddFriend(aux)
pos = ROOT.TChain("pos")
pos.Add("pos.root")
main.AddFriend(pos, "p")
fdf = ROOT.RDataFrame(main)
out["friend_columns"] = sorted(str(c) for c in fdf.GetColumnNames())
out["friend_default"] = plain(fdf.DefaultValueFor("aux.y", -1).DefaultValueFor("aux.idx", -1)
                              .AsNumpy(["idx", "aux.idx", "aux.y", "p.w"]))  # fmt: skip
out["friend_expr"] = plain(fdf.FilterAvailable("aux.y").Define("z", "aux.y * 2 + p.w").AsNumpy(["z", "x"]))
out["friend_missing"] = plain(fdf.FilterMissing("aux.y").AsNumpy(["idx", "x"]))
out["friend_filter"] = int(fdf.FilterAvailable("aux.y").Filter("aux.y > 150 && p.w > 2").Count().GetValue())
out["friend_display"] = fdf.DefaultValueFor("aux.y", 0).Filter("x > 15").Display(["idx", "aux.y", "p.w"]).AsString()
print(json.dumps(out))
