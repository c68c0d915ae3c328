"""ROOT's TFile/TTree/TChain in the facade: PyROOT-style tree writing, chains with a tree name per
file and missing branches, friend trees matched by entry or by index (issue #15).

The behaviour is compared with real ROOT (tests/scripts/tree_cases.py writes its files with each
ROOT module and prints what RDataFrame reads back); the rest checks errors and engines.
"""

from __future__ import annotations

import array
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

import hepframe
from hepframe import ROOT as HF
from hepframe.errors import AnalysisError, DataSourceError, UnknownColumnError
from tests.conftest import CONFORMANCE_ENGINES, engine_for

SCRIPT = Path(__file__).parent / "scripts" / "tree_cases.py"


def _cases(mode: str, workdir: Path) -> dict:
    workdir.mkdir()
    env = {**os.environ, "HEPFRAME_PROGRESS": "0"}
    done = subprocess.run([sys.executable, str(SCRIPT), mode, str(workdir)], capture_output=True, text=True, env=env,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.root
def test_trees_chains_and_friends_read_as_in_root(tmp_path: Path) -> None:
    ours, root = _cases("hepframe", tmp_path / "ours"), _cases("root", tmp_path / "root")
    assert ours.keys() == root.keys()
    for key in root:
        assert ours[key] == root[key], key
    assert root["friend_default"]["aux.y"]["values"] == [-1, 100, -1, 300, 300, 900, 100]  # matched by idx
    assert "| 3   |" in root["friend_display"]  # Display's Row is the entry number, after a filter too


def _tree(path: Path, name: str, **branches: list[int]) -> str:
    with HF.TFile(str(path), "RECREATE"):
        t = HF.TTree(name, f"{name} title")
        buffers = {b: array.array("i", [0]) for b in branches}
        for b, buf in buffers.items():
            t.Branch(b, buf, f"{b}/I")
        for i in range(len(next(iter(branches.values())))):
            for b, buf in buffers.items():
                buf[0] = branches[b][i]
            t.Fill()
        t.Write()
    return str(path)


@pytest.fixture
def friends(tmp_path: Path) -> HF.TChain:
    main = HF.TChain("events")
    main.Add(_tree(tmp_path / "main.root", "events", idx=[4, 1, 2, 3], x=[40, 10, 20, 30]))
    aux = HF.TChain("aux")
    aux.Add(_tree(tmp_path / "aux.root", "aux", idx=[3, 1, 4], y=[3, 1, 4]))
    aux.BuildIndex("idx")
    main.AddFriend(aux)
    pos = HF.TChain("pos")
    pos.Add(_tree(tmp_path / "pos.root", "pos", w=[5, 6, 7, 8, 9]))
    main.AddFriend(pos, "p")
    return main


def test_written_tree_is_a_plain_root_file(tmp_path: Path) -> None:
    path = _tree(tmp_path / "t.root", "t", a=[1, 2, 3])
    tree = uproot.open(path)["t"]
    assert tree.title == "t title" and tree["a"].typename == "int32_t"
    assert tree["a"].array(library="np").tolist() == [1, 2, 3]
    assert [p.name for p in tmp_path.iterdir()] == ["t.root"]  # written by renaming a temporary: no leftovers


def test_filled_tree_is_an_rdataframe_input() -> None:
    t = HF.TTree("mem", "in memory")
    x, v = np.zeros(1, np.float64), HF.std.vector["int"]()
    t.Branch("x", x, "x/D")
    t.Branch("v", v)
    for i in range(4):
        x[0] = i / 2
        v.clear()
        v.extend(range(i))
        t.Fill()
    df = HF.RDataFrame(t)
    assert t.GetEntries() == 4 and df.Count().GetValue() == 4
    assert df.Define("s", "x + Sum(v)").AsNumpy(["s"])["s"].tolist() == [0.0, 0.5, 2.0, 4.5]


def test_iterating_a_tree_gives_entries_with_branch_attributes(tmp_path: Path) -> None:
    path = _tree(tmp_path / "t.root", "t", a=[1, 2, 3], b=[7, 8, 9])
    with HF.TFile(path) as f:
        assert [(e.a, e.b) for e in f["t"]] == [(1, 7), (2, 8), (3, 9)]
        assert f.Get("nope") is None
        with pytest.raises(KeyError, match="nope"):
            f["nope"]


@pytest.mark.parametrize("engine", [*CONFORMANCE_ENGINES, "gpu"])
def test_friends_and_per_file_trees_on_every_engine(engine: str, friends: HF.TChain, tmp_path: Path) -> None:
    df = hepframe.RDataFrame.from_source(friends.root_source(), engine=engine_for(engine))
    out = df.DefaultValueFor("aux.y", -1).Define("z", "aux.y * 100 + p.w").AsNumpy(["z", "x"])
    assert out["z"].tolist() == [405, 106, -93, 308] and out["x"].tolist() == [40, 10, 20, 30]
    assert df.FilterMissing("aux.y").Count().GetValue() == 1
    chain = HF.TChain()
    chain.Add(_tree(tmp_path / "c1.root", "one", x=[1, 2]) + "?#one")
    chain.Add(_tree(tmp_path / "c2.root", "two", x=[3]) + "?#two")
    both = hepframe.RDataFrame.from_source(chain.root_source(), engine=engine_for(engine))
    assert both.Sum("x").GetValue() == 6


def test_dotted_friend_columns_in_expressions_and_errors(friends: HF.TChain) -> None:
    df = HF.RDataFrame(friends)
    assert sorted(df.GetColumnNames()) == ["aux.idx", "aux.y", "idx", "p.w", "x"]
    assert df.GetColumnType("aux.y") == "Int_t"
    with pytest.raises(UnknownColumnError, match=r"'aux\.z'.*did you mean 'aux\.y'"):
        df.Define("bad", "aux.z + 1")
    with pytest.raises(DataSourceError, match=r"'aux\.y' has no value for entry 2.*idx == 2.*DefaultValueFor"):
        df.Define("y2", "aux.y * 2").Sum("y2").GetValue()


def test_friend_errors_name_the_tree_and_the_fix(tmp_path: Path) -> None:
    main = HF.TChain("events")
    main.Add(_tree(tmp_path / "main.root", "events", idx=[1, 2, 3]))
    dup = HF.TChain("dup")
    dup.Add(_tree(tmp_path / "dup.root", "dup", idx=[1, 1], y=[5, 6]))
    dup.BuildIndex("idx")
    main.AddFriend(dup)
    with pytest.raises(DataSourceError, match=r"BuildIndex\('idx'\) of friend tree 'dup': the key 1 appears more"):
        HF.RDataFrame(main).DefaultValueFor("dup.y", 0).Sum("dup.y").GetValue()

    short = HF.TChain("events")
    short.Add(str(tmp_path / "main.root"))
    few = HF.TChain("few")
    few.Add(_tree(tmp_path / "few.root", "few", w=[1, 2]))
    short.AddFriend(few)
    with pytest.raises(DataSourceError, match=r"friend tree 'few'.*2 entries, fewer than the main tree"):
        HF.RDataFrame(short).Sum("few.w").GetValue()

    with pytest.raises(AnalysisError, match=r"no branch 'nope' in tree 'few'"):
        few.BuildIndex("nope")
    with pytest.raises(AnalysisError, match="one integer branch"):
        few.BuildIndex("run", "event")
    few.BuildIndex("w")
    lacking = HF.TChain("events")
    lacking.Add(str(tmp_path / "main.root"))
    lacking.AddFriend(few)
    with pytest.raises(DataSourceError, match=r"matched by 'w', which tree 'events' lacks"):
        HF.RDataFrame(lacking)


def test_tree_writing_errors_are_clear(tmp_path: Path) -> None:
    existing = _tree(tmp_path / "e.root", "t", a=[1])
    with pytest.raises(AnalysisError, match="exists.*RECREATE"):
        HF.TFile(existing, "NEW")
    with pytest.raises(AnalysisError, match="UPDATE.*RECREATE.*Snapshot"):
        HF.TFile(existing, "UPDATE")
    t = HF.TTree("t", "t")
    buf = array.array("f", [0] * 4)
    with pytest.raises(AnalysisError, match="give the leaf list"):
        t.Branch("a", buf)
    with pytest.raises(AnalysisError, match="one leaf per branch"):
        t.Branch("a", buf, "a/F:b/F")
    with pytest.raises(AnalysisError, match="not a leaf list"):
        t.Branch("a", buf, "a/Q")
    with pytest.raises(AnalysisError, match="counter branch 'n' must be created before"):
        t.Branch("a", buf, "a[n]/F")
    with pytest.raises(AnalysisError, match="array.array or a numpy array"):
        t.Branch("a", 3.0, "a/F")
    with pytest.raises(AnalysisError, match="no file is open for writing"):
        t.Write()


def test_review_cases_for_trees_and_friends(tmp_path: Path) -> None:
    """Found in review: each lost data silently or gave a confusing error."""
    main = HF.TChain("events")
    main.Add(_tree(tmp_path / "m1.root", "events", idx=[1, 2], x=[10, 20]))
    main.Add(_tree(tmp_path / "m2.root", "events", idx=[3, 4], x=[30, 40]))
    # "alias=tree" with a file, and a friend tree that lives in the main chain's own files
    _tree(tmp_path / "f.root", "aux", y=[100, 200, 300, 400])
    main.AddFriend("a2 = aux", str(tmp_path / "f.root"))
    same_files = HF.TChain("events")
    same_files.Add(str(tmp_path / "m1.root"))
    same_files.Add(str(tmp_path / "m2.root"))
    same_files.AddFriend("events")  # the same tree as a positional friend: all four entries, from both files
    assert HF.RDataFrame(same_files).AsNumpy(["events.x"])["events.x"].tolist() == [10, 20, 30, 40]
    assert HF.RDataFrame(main).Define("z", "a2.y + x").AsNumpy(["z"])["z"].tolist() == [110, 220, 330, 440]

    # a with-block that raises writes nothing
    with pytest.warns(UserWarning, match="not written"), pytest.raises(RuntimeError):
        with HF.TFile(str(tmp_path / "broken.root"), "RECREATE"):
            t = HF.TTree("t", "t")
            a = array.array("i", [0])
            t.Branch("a", a, "a/I")
            t.Fill()
            t.Write()
            raise RuntimeError("the job crashed")
    assert not (tmp_path / "broken.root").exists()

    with HF.TFile(str(tmp_path / "checks.root"), "RECREATE"):
        t = HF.TTree("t", "t")
        with pytest.raises(AnalysisError, match="holds 2 values, fewer than 3"):
            t.Branch("y", np.zeros(2), "y[3]/F")
        n, v = array.array("i", [0]), array.array("d", [0.0, 0.0])
        t.Branch("n", n, "n/I")
        t.Branch("v", v, "v[n]/D")
        n[0] = 3
        with pytest.raises(AnalysisError, match=r"entry 0: branch 'v' has n = 3, but its buffer holds 2"):
            t.Fill()
        with pytest.raises(AnalysisError, match="already has a tree 't'"):
            HF.TTree("t", "again")


def test_an_unclosed_file_is_written_at_exit(tmp_path: Path) -> None:
    code = (
        "import array\n"
        "from hepframe import ROOT\n"
        "def make(path):\n"
        "    f = ROOT.TFile(path, 'RECREATE')\n"
        "    t = ROOT.TTree('t', 't')\n"
        "    a = array.array('i', [7])\n"
        "    t.Branch('a', a, 'a/I')\n"
        "    t.Fill()\n"
        "    t.Write()\n"
        f"make({str(tmp_path / 'first.root')!r})\n"
        f"ROOT.TFile({str(tmp_path / 'second.root')!r}, 'RECREATE')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert uproot.open(tmp_path / "first.root")["t"]["a"].array(library="np").tolist() == [7]
    assert (tmp_path / "second.root").exists()


def test_friend_branch_missing_from_some_friend_files(tmp_path: Path) -> None:
    main = HF.TChain("events")
    main.Add(_tree(tmp_path / "m.root", "events", x=[1, 2, 3, 4]))
    aux = HF.TChain("aux")
    aux.Add(_tree(tmp_path / "a1.root", "aux", y=[10, 20]))
    aux.Add(_tree(tmp_path / "a2.root", "aux", w=[0, 0]))
    main.AddFriend(aux)
    df = HF.RDataFrame(main)
    assert df.DefaultValueFor("aux.y", -1).AsNumpy(["aux.y"])["aux.y"].tolist() == [10, 20, -1, -1]
    assert df.FilterMissing("aux.y").Count().GetValue() == 2
    with pytest.raises(DataSourceError, match=r"branch 'y' missing from tree 'aux' in .*a2\.root"):
        HF.RDataFrame(main).Sum("aux.y").GetValue()


def test_friend_batches_that_do_not_line_up(tmp_path: Path) -> None:
    """A positional friend read with other batch boundaries than the main tree, and entry ranges."""
    import pickle

    from hepframe.connectors.root import Friend, RootSource

    x = list(range(23))
    main = RootSource.open("events", _tree(tmp_path / "m.root", "events", x=x), step_size=3)
    aux = RootSource.open("aux", _tree(tmp_path / "a.root", "aux", y=[10 * v for v in x]), step_size=4)
    main.add_friend(Friend("aux", aux))
    got = [b.table for b in main.iter_batches(["x", "aux.y"])]
    assert [r for t in got for r in t["aux.y"].to_pylist()] == [10 * v for v in x]
    part = [b.table for b in main.iter_batches(["aux.y"], entry_range=(5, 17))]
    assert [r for t in part for r in t["aux.y"].to_pylist()] == [10 * v for v in x[5:17]]
    indexed = RootSource.open("events", str(tmp_path / "m.root"), step_size=3)
    idx = RootSource.open("idx", _tree(tmp_path / "i.root", "idx", x=x[::-1], z=x[::-1]))
    friend = Friend("idx", idx, "x")
    indexed.add_friend(friend)
    assert [r for b in indexed.iter_batches(["idx.z"]) for r in b.table["idx.z"].to_pylist()] == x
    assert friend.matched and not pickle.loads(pickle.dumps(friend)).matched  # cached here, not shipped
