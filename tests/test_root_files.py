"""Reading files written by ROOT itself: every common leaf type, and ROOT's own tutorial files."""

from __future__ import annotations

import os
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

import hepframe
from hepframe.errors import DataSourceError
from tests.conftest import ENGINES, assert_same_values, root_hist_arrays

pytestmark = pytest.mark.root

WRITER = r"""
void hepframe_write_leaf_types(const char *path, int n) {
   TFile f(path, "RECREATE");
   TTree t("Events", "all leaf types");
   Bool_t b; Char_t c; UChar_t uc; Short_t s; UShort_t us; Int_t i; UInt_t ui; Long64_t l; ULong64_t ul;
   Float_t fl; Double_t d; Float16_t f16; Double32_t d32; Float_t arr[3]; Int_t nv; Float_t var[10];
   std::vector<float> vf; std::vector<int> vi; std::vector<bool> vb; std::vector<std::vector<float>> vvf;
   t.Branch("b", &b, "b/O"); t.Branch("c", &c, "c/B"); t.Branch("uc", &uc, "uc/b"); t.Branch("s", &s, "s/S");
   t.Branch("us", &us, "us/s"); t.Branch("i", &i, "i/I"); t.Branch("ui", &ui, "ui/i"); t.Branch("l", &l, "l/L");
   t.Branch("ul", &ul, "ul/l"); t.Branch("fl", &fl, "fl/F"); t.Branch("d", &d, "d/D");
   t.Branch("f16", &f16, "f16/f"); t.Branch("d32", &d32, "d32/d[0,100,16]"); t.Branch("arr", arr, "arr[3]/F");
   t.Branch("nv", &nv, "nv/I"); t.Branch("var", var, "var[nv]/F");
   t.Branch("vf", &vf); t.Branch("vi", &vi); t.Branch("vb", &vb); t.Branch("vvf", &vvf);
   for (int k = 0; k < n; ++k) {
      b = k % 2; c = k % 100 - 50; uc = k % 200; s = -k; us = k * 3; i = -7 * k; ui = 4000000000u - k;
      l = -(1LL << 40) + k; ul = (1ULL << 63) + k; fl = 0.1f * k; d = 0.01 * k; f16 = 0.5f * k; d32 = (k % 100) * 0.73;
      for (int j = 0; j < 3; ++j) arr[j] = k + 0.25f * j;
      nv = k % 4; for (int j = 0; j < nv; ++j) var[j] = k * 1.5f - j;
      vf.clear(); vi.clear(); vb.clear(); vvf.clear();
      for (int j = 0; j < k % 3; ++j) {
         vf.push_back(k + j * 0.5f); vi.push_back(k * j); vb.push_back((k + j) % 2); vvf.push_back(std::vector<float>(j, 1.f * k));
      }
      t.Fill();
   }
   t.Write();
}
"""

SCALARS = ["b", "c", "uc", "s", "us", "i", "ui", "l", "ul", "fl", "d", "f16", "d32", "nv"]
RVECS = ["arr", "var", "vf", "vi", "vb"]


@pytest.fixture(scope="module")
def leaf_file(tmp_path_factory, ROOT) -> str:  # noqa: N803
    path = str(tmp_path_factory.mktemp("root") / "leaf_types.root")
    ROOT.gInterpreter.Declare(WRITER)
    ROOT.hepframe_write_leaf_types(path, 3000)
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_every_leaf_type_reads_as_root_and_uproot_do(engine: str, leaf_file: str, ROOT) -> None:  # noqa: N803
    df = hepframe.RDataFrame("Events", leaf_file, engine=engine, step_size=700)
    ours = df.AsNumpy([*SCALARS, *RVECS, "vvf"])
    # ROOT 6.40's AsNumpy cannot convert Char_t, Float16_t or Double32_t columns: read them through Defines.
    rdf = ROOT.RDataFrame("Events", leaf_file).Define("f16_", "(float)f16").Define("d32_", "(double)d32")
    rdf = rdf.Define("c_", "(int)c")
    plain = [n for n in SCALARS if n not in ("f16", "d32", "c")]
    theirs = rdf.AsNumpy([*plain, "f16_", "d32_", "c_", "arr", "var", "vf", "vi"])
    theirs["f16"], theirs["d32"], theirs["c"] = theirs["f16_"], theirs["d32_"], theirs["c_"]
    expected = uproot.open(leaf_file)["Events"].arrays()
    for name in SCALARS:
        assert_same_values(ours[name], ak.to_numpy(expected[name]), name)
        np.testing.assert_array_equal(ours[name], np.asarray(theirs[name]), err_msg=name)
    for name in RVECS:
        assert [list(v) for v in ours[name]] == ak.to_list(expected[name]), name
    for name in ("arr", "var", "vf", "vi"):
        assert [list(v) for v in ours[name]] == [list(v) for v in theirs[name]], name
    assert [[list(x) for x in v] for v in ours["vvf"]] == ak.to_list(expected["vvf"])
    # Types as ROOT names them: leaf typedefs (Float16_t, RVec<Float_t> for leaf arrays), C++ names in std::vector
    assert {c: df.GetColumnType(c) for c in df.GetColumnNames()} == {
        str(c): str(rdf.GetColumnType(c)) for c in ROOT.RDataFrame("Events", leaf_file).GetColumnNames()}
    assert df.GetColumnType("vvf") == "ROOT::VecOps::RVec<vector<float>>"


@pytest.mark.parametrize("engine", ENGINES)
def test_leaf_type_expressions_match_root(engine: str, leaf_file: str, ROOT) -> None:  # noqa: N803
    expressions = ["Sum(arr) + f16", "vf.size() > 1 ? vf[1] * d32 : -1.0", "Sum(vi) - ui", "Any(vb) && b",
                   "arr[2] - var.size()", "ul - 5", "c * uc + s * us", "l / 1000 + i"]  # fmt: skip
    ours = hepframe.RDataFrame("Events", leaf_file, engine=engine)
    theirs = ROOT.RDataFrame("Events", leaf_file)
    names = [f"e{k}" for k in range(len(expressions))]
    for name, e in zip(names, expressions, strict=True):
        ours, theirs = ours.Define(name, e), theirs.Define(name, e)
    got, want = ours.AsNumpy(names), theirs.AsNumpy(names)
    for name, e in zip(names, expressions, strict=True):
        assert_same_values(got[name], np.asarray(want[name]), e)


TUTORIALS = Path(os.path.dirname(__import__("ROOT").__file__)) / "tutorials"


@pytest.mark.parametrize("engine", ENGINES)
def test_root_tutorial_files(engine: str, ROOT) -> None:  # noqa: N803
    cases = [
        ("hsimple.root", "ntuple", "px * px + py * py", ("h", "", 50, 0, 20)),  # a TNtuple
        ("analysis/dataframe/df017_vecOpsHEP.root", "myDataset", "sqrt(px * px + py * py)", ("h", "", 20, 0, 50)),
        ("machine_learning/data/Higgs_data.root", "sig_tree", "lepton_pT * cosh(lepton_eta)", ("h", "", 40, 0, 400)),
        ("machine_learning/ml_dataloader_filters_vectors_hvector.root", "test_tree", "f4[f6] * f2",
         ("h", "", 20, -50, 50)),
    ]  # fmt: skip
    for name, tree, expression, model in cases:
        path = str(TUTORIALS / name)
        ours = hepframe.RDataFrame(tree, path, engine=engine).Define("x", expression).Histo1D(model, "x")
        theirs = ROOT.RDataFrame(tree, path).Define("x", expression).Histo1D(model, "x")
        contents, _ = root_hist_arrays(theirs.GetValue())
        assert contents.sum() > 0, name
        np.testing.assert_array_equal(ours.GetValue().view(flow=True)["value"], contents, err_msg=name)


def test_unreadable_compression_names_file_and_tree() -> None:
    path = str(TUTORIALS / "math/quadp/stock.root")  # ROOT's pre-2000 'CS' compression
    with pytest.raises(DataSourceError, match=r"stock\.root"):
        df = hepframe.RDataFrame("stocks", path)
        df.Count().GetValue()


@pytest.mark.parametrize("engine", ENGINES)
def test_rntuple_written_by_root(engine: str, small_nanoaod_file: str, tmp_path, ROOT) -> None:  # noqa: N803
    path = str(tmp_path / "rntuple.root")
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
    ROOT.RDataFrame("Events", small_nanoaod_file).Snapshot("Events", path, ["MET_pt", "Jet_pt", "nJet", "Muon_charge"],
                                                            opts)  # fmt: skip
    ours = hepframe.RDataFrame("Events", path, engine=engine, step_size=700)
    theirs = ROOT.RDataFrame("Events", path)
    h_ours, h_root = (f.Define("ht", "Sum(Jet_pt[Jet_pt > 30])").Histo1D(("ht", "", 40, 0, 400), "ht")
                      for f in (ours, theirs))  # fmt: skip
    assert ours.GetColumnType("Jet_pt") == "ROOT::VecOps::RVec<float>"
    assert {c: ours.GetColumnType(c) for c in ours.GetColumnNames()} == {
        str(c): str(theirs.GetColumnType(c)) for c in theirs.GetColumnNames()}
    contents, _ = root_hist_arrays(h_root.GetValue())
    assert contents.sum() > 0
    np.testing.assert_array_equal(h_ours.GetValue().view(flow=True)["value"], contents)
