"""spark-submit job: the dimuon analysis of the demo (opposite-charge pairs, Z region) on Spark.

    spark-submit --master local[2] jobs/dimuon.py --input 'data/*.root' --output out/dimuon

Writes histograms.{pkl,json,root}, cutflow.{json,txt} under --output (see hepframe.outputs).
"""

from __future__ import annotations

import sys

from common import parse_args, run


def book(df) -> dict:
    two = df.Filter("nMuon == 2", "Two muons")
    pairs = two.Define("Dimuon_mass", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    os_pairs = pairs.Filter("Muon_charge[0] != Muon_charge[1]", "Opposite charge")
    ss_pairs = pairs.Filter("Muon_charge[0] == Muon_charge[1]", "Same charge")
    return {
        "Dimuon_mass": os_pairs.Histo1D(("Dimuon_mass", "Dimuon mass", 30000, 0.25, 300), "Dimuon_mass"),
        "os_z": os_pairs.Histo1D(("os_z", "opposite-charge pairs", 10, 70, 110), "Dimuon_mass"),
        "ss_z": ss_pairs.Histo1D(("ss_z", "same-charge pairs", 10, 70, 110), "Dimuon_mass"),
        "cutflow": df.Report(),
        "n_events": df.Count(),
    }


if __name__ == "__main__":
    sys.exit(run("dimuon", parse_args(__doc__.splitlines()[0]), book))
