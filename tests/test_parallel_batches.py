"""Batches computed on several threads give bit-identical results to one thread, errors included."""

from __future__ import annotations

import numpy as np
import pytest

import hepframe
from hepframe.errors import EventError
from hepframe.execution import Executor


def _record_calls(monkeypatch, owner: type, method: str, note) -> list:
    """Wrap ``owner.method`` so that each call appends ``note(self, arg)`` to the returned list."""
    calls: list = []
    original = getattr(owner, method)

    def spy(self, arg):
        calls.append(note(self, arg))
        return original(self, arg)

    monkeypatch.setattr(owner, method, spy)
    return calls


@pytest.fixture
def deferred_calls(monkeypatch) -> list[int]:
    """How many batches went through a worker thread (``process_deferred``)."""
    return _record_calls(monkeypatch, Executor, "process_deferred", lambda _, batch: batch.entry_start)


def _book(df):
    d = (df.Define("w", "0.37 * MET_pt + 1e-3 * rdfentry_")
           .Define("lead", "nJet > 0 ? log(Jet_pt[0] - 30.f) : 0.f")  # NaN below 30 GeV: Max/Min fold order
           .Filter("nJet >= 1", "one jet"))  # fmt: skip
    d2 = d.Filter("Sum(Jet_pt > 40) >= 1", "hard jet")
    return {
        "hist_w": d2.Histo1D(("h", "", 50, 0.0, 200.0), "MET_pt", "w"),
        "hist_jets": d.Histo1D(("j", "", 40, 0.0, 200.0), "Jet_pt", "w"),
        "hist_unweighted": d.Histo1D(("u", "", 40, 0.0, 200.0), "Jet_pt"),  # filled on the workers
        "hist_2d": d2.Histo2D(("uv", "", 10, 0.0, 200.0, 8, -3.0, 3.0), "MET_pt", "lead"),
        "sum": d.Sum("w"),
        "mean": d2.Mean("MET_pt"),
        "max": d.Max("lead"),
        "min": d.Min("lead"),
        "take": d2.Take("rdfentry_"),
        "stats": d.Stats("MET_pt", "w"),
        "report": df.Report("w"),
        "count": d2.Count(),
    }


def _values(results: dict) -> dict:
    out = {}
    for key, r in results.items():
        v = r.GetValue()
        if key.startswith("hist"):
            out[key] = (v.values(flow=True), v.variances(flow=True))
        elif key == "report":
            out[key] = [(e.name, e.passed, e.all, e.weighted_passed, e.weighted_all) for e in v]
        elif key == "stats":
            out[key] = (v.GetMean(), v.GetRMS(), v.GetN(), v.GetW())
        elif key == "take":
            out[key] = np.asarray(v)
        else:
            out[key] = v
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float):
        return (np.isnan(a) and np.isnan(b)) or (a == b and np.signbit(a) == np.signbit(b))
    return a == b


def test_threads_give_bit_identical_results(nanoaod_file, deferred_calls):
    serial = _values(_book(hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=1, cache=False)))
    assert not deferred_calls
    parallel = _values(_book(hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=4, cache=False)))
    assert len(deferred_calls) == 20  # every batch of the 20k events was computed on a worker thread
    assert np.isnan(serial["max"]) or serial["max"] > 0  # the fold saw NaN values (entries below 30 GeV)
    for key in serial:
        assert _same(parallel[key], serial[key]), key


def test_snapshot_from_threads_is_in_entry_order(nanoaod_file, tmp_path, deferred_calls):
    out = {}
    for threads in (1, 3):
        df = hepframe.RDataFrame("Events", nanoaod_file, step_size=700, threads=threads, cache=False)
        path = tmp_path / f"skim{threads}.root"
        df.Filter("nMuon >= 1").Define("entry", "rdfentry_").Snapshot("Events", str(path), ["entry", "Muon_pt"])
        out[threads] = hepframe.RDataFrame("Events", str(path), threads=1, cache=False).AsNumpy(["entry"])["entry"]
    assert deferred_calls
    assert np.all(np.diff(out[3].astype(np.int64)) > 0)
    assert np.array_equal(out[1], out[3])


def test_the_first_bad_entry_is_reported_as_with_one_thread(nanoaod_file):
    messages = []
    for threads in (1, 4):
        df = hepframe.RDataFrame("Events", nanoaod_file, step_size=500, threads=threads, cache=False)
        with pytest.raises(EventError) as info:
            df.Define("third", "Jet_pt[2]").Histo1D(("t", "", 10, 0.0, 100.0), "third").GetValue()
        messages.append(str(info.value))
    assert "entry" in messages[0]
    assert messages[0] == messages[1]


def test_range_keeps_one_thread(nanoaod_file, deferred_calls):
    df = hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=4, cache=False)
    taken = df.Range(5, 12000, 3).Take("rdfentry_").GetValue()
    assert not deferred_calls
    assert list(np.asarray(taken)) == list(range(5, 12000, 3))


def test_unweighted_histograms_fill_on_the_workers(nanoaod_file, monkeypatch):
    """Their per-batch counts are whole numbers, so adding them later is exact; weighted ones update in order."""
    from hepframe.actions import HistoAcc

    merged = _record_calls(monkeypatch, HistoAcc, "merge", lambda acc, _: acc.name)
    df = hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=2, cache=False)
    d = df.Define("w", "0.37 * MET_pt")
    u, w = d.Histo1D(("u", "", 40, 0.0, 200.0), "Jet_pt"), d.Histo1D(("wt", "", 40, 0.0, 200.0), "Jet_pt", "w")
    u.GetValue()  # one loop fills both
    assert w.GetValue().values().sum() > 0
    assert merged.count("u") == 20 and "wt" not in merged
    one = hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=1, cache=False)
    ref = one.Histo1D(("u", "", 40, 0.0, 200.0), "Jet_pt").GetValue()
    assert np.array_equal(u.GetValue().values(flow=True), ref.values(flow=True))
    assert np.array_equal(u.GetValue().variances(flow=True), ref.variances(flow=True))
    assert u.GetValue().metadata["entries"] == ref.metadata["entries"]


def test_an_event_loop_started_inside_a_batch_does_not_wait_for_its_own_thread(small_nanoaod_file):
    """The compute threads are shared by the process; a loop started on one of them runs serially."""
    import threading

    inner_counts: list[int] = []

    @hepframe.udf(returns="double")
    def with_inner_loop(met):
        inner = hepframe.RDataFrame("Events", small_nanoaod_file, step_size=1000, threads=2, cache=False)
        inner_counts.append(int(inner.Count().GetValue()))
        return np.asarray(met, dtype=np.float64)

    outcome: dict = {}

    def outer() -> None:
        df = hepframe.RDataFrame("Events", small_nanoaod_file, step_size=1000, threads=2, cache=False)
        outcome["sum"] = df.Define("m", with_inner_loop, ["MET_pt"]).Sum("m").GetValue()

    thread = threading.Thread(target=outer, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the outer event loop deadlocked"
    assert outcome["sum"] > 0 and inner_counts == [3000] * 3  # 3 batches, each ran a full inner loop


@pytest.mark.parametrize("threads", [1, 2])
def test_fill_errors_name_the_entry_read_on_demand(small_nanoaod_file, threads):
    """Entry numbers reach the accumulators lazily; an error still names the right one."""
    df = hepframe.RDataFrame("Events", small_nanoaod_file, step_size=500, threads=threads, cache=False)
    sizes = df.AsNumpy(["nJet", "nMuon"])
    first = 700 + int(np.flatnonzero(sizes["nJet"][700:] != sizes["nMuon"][700:])[0])  # in the second batch
    df = hepframe.RDataFrame("Events", small_nanoaod_file, step_size=500, threads=threads, cache=False)
    with pytest.raises(EventError, match=rf"different sizes in entry {first}\b"):
        df.Filter("rdfentry_ >= 700").Histo1D(("h", "", 10, 0.0, 100.0), "Jet_pt", "Muon_pt").GetValue()


def test_rungraphs_computes_on_the_workers_bit_identically(nanoaod_file, deferred_calls):
    """Graphs sharing a read (RunGraphs) are computed on the compute threads too, in entry order."""

    def book(threads: int) -> list:
        dfs = [hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=threads, cache=False)
               for _ in range(2)]  # fmt: skip
        return [_book(dfs[0]), {"hist_met": dfs[1].Filter("MET_pt > 20").Histo1D(("m", "", 30, 0.0, 150.0), "MET_pt"),
                                "sum": dfs[1].Define("x", "Sum(Jet_pt) * 1.1").Sum("x")}]  # fmt: skip

    serial = book(1)
    assert hepframe.RunGraphs([r for booked in serial for r in booked.values()]) == 1
    assert not deferred_calls
    parallel = book(2)
    assert hepframe.RunGraphs([r for booked in parallel for r in booked.values()]) == 1
    assert len(deferred_calls) == 2 * 20  # each of the 20 batches, once per graph, on a worker thread
    for s, p in zip(serial, parallel, strict=True):
        sv, pv = _values(s), _values(p)
        for key in sv:
            assert _same(pv[key], sv[key]), key


def test_rungraphs_takes_each_graphs_threads(nanoaod_file, deferred_calls):
    """A graph asking for one thread (e.g. a UDF that is not thread-safe) keeps the shared loop on one."""
    for order in (1, -1):
        dfs = [hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=t, cache=False) for t in (4, 1)]
        hepframe.RunGraphs([dfs[0].Count(), dfs[1].Sum("MET_pt")][::order])
    assert not deferred_calls


def test_rungraphs_reports_the_error_one_thread_reports(nanoaod_file):
    """Graph A fails when its batch results are applied (weighted fill), graph B while walking (a UDF)."""

    @hepframe.udf(returns="double")
    def explode(met):
        raise ValueError("explode: broken on purpose")

    errors = []
    for threads in (1, 2):
        dfs = [hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=threads, cache=False)
               for _ in range(2)]  # fmt: skip
        a = dfs[0].Histo1D(("a", "", 10, 0.0, 100.0), "Jet_pt", "Muon_pt")  # RVecs of different sizes
        b = dfs[1].Define("x", explode, ["MET_pt"]).Sum("x")
        with pytest.raises(Exception) as info:
            hepframe.RunGraphs([a, b])
        errors.append((type(info.value), str(info.value)))
    assert errors[0][0] is EventError and "different sizes" in errors[0][1]
    assert errors[1] == errors[0]
