"""ROOT 6.40's own Python dataframe tutorials, run with only the import changed (issue #15).

Each tutorial in WORKING runs twice in a fresh process through tests/scripts/tutorial_harness.py,
with ``import ROOT`` and with ``from hepframe import ROOT``, each in its own scratch directory with
the tutorials' data files. Drawing lines are replaced by ``pass`` in both runs. Everything the
script prints, and every number it leaves in its variables (histogram contents and errors with
flow bins, entries, means, statistics, arrays and their dtypes) and in the files it writes
(Snapshot), must be identical. docs/migrating-from-root.md lists every tutorial with its status.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]

HARNESS = Path(__file__).parent / "scripts" / "tutorial_harness.py"
WORKING = [
    "df000_simple", "df001_introduction", "df004_cutFlowReport", "df006_ranges", "df008_createDataSetFromScratch",
    "df003_profiles", "df007_snapshot", "df010_trivialDataSource", "df012_DefinesAndFiltersAsStrings", "df014_CSVDataSource", "df017_vecOpsHEP", "df019_Cache", "df021_createTGraph",
    "df031_Stats", "df032_RDFFromNumpy", "df033_Describe", "df034_SaveGraph", "df035_RDFFromPandas",
    "df036_missingBranches", "df037_TTreeEventMatching", "df102_NanoAODDimuonAnalysis",
]  # fmt: skip
#: Run again with every RDataFrame on Spark (one local[2] Spark per script): each tutorial that ROOT's distributed
#: RDataFrame can run too (not Range or Display: df006, df036, df037 use them; df033 prints the slot count).
#: (df003's profiles sum w*y per bin: partitions add their partial sums, as ROOT's distributed merge does, so the
#: last bits depend on the partitioning; counts, TStatistic and the rest are exact.)
SPARK = ["df000_simple", "df001_introduction", "df004_cutFlowReport", "df008_createDataSetFromScratch",
         "df010_trivialDataSource", "df012_DefinesAndFiltersAsStrings", "df014_CSVDataSource", "df017_vecOpsHEP",
         "df019_Cache", "df021_createTGraph", "df031_Stats", "df032_RDFFromNumpy", "df034_SaveGraph",
         "df035_RDFFromPandas", "df102_NanoAODDimuonAnalysis"]  # fmt: skip
#: Remote inputs, replaced in both runs by files written by hepframe's generator.
REMOTE_CSV = "http://root.cern/files/tutorials/df014_CsvDataSource_MuRun2010B.csv"
REMOTE_NANOAOD = "root://eospublic.cern.ch//eos/opendata/cms/derived-data/AOD2NanoAODOutreachTool/Run2012BC_DoubleMuParked_Muons.root"


@pytest.fixture(scope="module")
def dimuon_csv(tmp_path_factory) -> str:
    from hepframe.datasets import generate_dimuon_csv

    return generate_dimuon_csv(tmp_path_factory.mktemp("csv") / "dimuons.csv", n_events=20_000, seed=14)


def _tutorials() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("ROOT")  # the wheel's tutorials, found without importing ROOT here
    assert spec is not None and spec.origin
    return Path(spec.origin).parent / "tutorials" / "analysis" / "dataframe"


def _run(mode: str, name: str, workdir: Path, extra_env: dict[str, str] | None = None) -> tuple[str, dict]:
    workdir.mkdir()
    for data in [*_tutorials().glob("*.root"), *_tutorials().glob("*.csv")]:
        shutil.copy(data, workdir)
    env = {**os.environ, "HEPFRAME_PROGRESS": "0", **(extra_env or {})}
    done = subprocess.run([sys.executable, str(HARNESS), mode, str(_tutorials() / f"{name}.py")], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, f"{mode}: {done.stderr[-3000:]}"
    printed, _, numbers = done.stdout.rpartition("\n@@NUMBERS@@")
    return "\n".join(line for line in printed.splitlines() if line.strip()), json.loads(numbers)


@pytest.fixture(scope="module")
def inputs(nanoaod_file: str, dimuon_csv: str) -> dict[str, str]:
    """The environment that replaces the tutorials' remote inputs by generated local files."""
    return {"HEPFRAME_TUTORIAL_REPLACE": json.dumps({REMOTE_NANOAOD: nanoaod_file, REMOTE_CSV: dimuon_csv})}


@pytest.fixture(scope="module")
def root_output(inputs: dict[str, str], tmp_path_factory):
    """What real ROOT prints and leaves for a tutorial, run once per tutorial and shared by the tests."""
    cache: dict[str, tuple[str, dict]] = {}

    def get(name: str) -> tuple[str, dict]:
        if name not in cache:
            cache[name] = _run("root", name, tmp_path_factory.mktemp(f"root-{name}") / "run", inputs)
        return cache[name]

    return get


@pytest.mark.parametrize("name", WORKING)
def test_tutorial_gives_roots_numbers(name: str, tmp_path: Path, inputs, root_output) -> None:
    root_printed, root_numbers = root_output(name)
    printed, numbers = _run("hepframe", name, tmp_path / "hepframe", inputs)
    assert printed == root_printed
    assert numbers == root_numbers
    assert root_printed or root_numbers  # the tutorial produced something to compare


@pytest.mark.parametrize("name", [n for n in WORKING if n != "df033_Describe"])  # Describe prints the slot count
def test_tutorial_under_implicit_mt_gives_the_same_numbers(name: str, tmp_path: Path, inputs, root_output) -> None:
    """hepframe with EnableImplicitMT(2) set before the script runs: the single-threaded numbers."""
    printed, numbers = _run("hepframe", name, tmp_path / "mt", {**inputs, "HEPFRAME_TUTORIAL_IMT": "2"})
    assert (printed, numbers) == root_output(name)


@pytest.mark.parametrize("name", SPARK)
def test_tutorial_on_distributed_spark_gives_the_same_numbers(name: str, tmp_path: Path, inputs, root_output) -> None:
    """Every RDataFrame of the script made by RDF.Experimental.Distributed.Spark.RDataFrame (local[2] Spark)."""
    spark = {**inputs, "HEPFRAME_TUTORIAL_SPARK": "1", "PYSPARK_PYTHON": sys.executable}
    printed, numbers = _run("hepframe", name, tmp_path / "spark", spark)
    assert (printed, numbers) == root_output(name)
