"""Deterministic NanoAOD-like sample generator (the data behind the demo, tests and benchmarks).

The files follow the schema of the CMS open-data NanoAOD benchmark file: C-style jagged arrays
with ``UInt_t`` counters (``nMuon``, ``nElectron``, ``nTau``, ``nPhoton``, ``nJet``),
float32 kinematics, int32 indices and bool flags. Events mix Z, J/psi, psi(2S) and Upsilon
decays to muon and electron pairs with a falling continuum, so that a dimuon spectrum shows
the familiar resonances. Generation is vectorized; the same seed gives the same file.

Examples
--------
>>> from hepframe.datasets import generate_nanoaod
>>> path = generate_nanoaod("/tmp/hepframe-doctest.root", n_events=1000, seed=1)

"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

MUON_MASS = 0.1056583745
ELECTRON_MASS = 0.00051099895
# (mass, width, fraction of events) of dilepton resonances, plus a continuum.
RESONANCES = [(3.0969, 0.02, 0.010), (3.6861, 0.03, 0.002), (9.4603, 0.06, 0.004), (91.1876, 2.4952, 0.060)]

_F4, _I4, _B = np.float32, np.int32, np.bool_
MUON_FIELDS = {
    "pt": _F4, "eta": _F4, "phi": _F4, "mass": _F4, "pfRelIso03_all": _F4, "pfRelIso04_all": _F4, "dxy": _F4,
    "dxyErr": _F4, "dz": _F4, "dzErr": _F4, "charge": _I4, "jetIdx": _I4, "genPartIdx": _I4, "tightId": _B,
    "softId": _B,
}  # fmt: skip
ELECTRON_FIELDS = {
    "pt": _F4, "eta": _F4, "phi": _F4, "mass": _F4, "pfRelIso03_all": _F4, "dxy": _F4, "dxyErr": _F4,
    "dz": _F4, "dzErr": _F4, "charge": _I4, "jetIdx": _I4, "genPartIdx": _I4, "cutBasedId": _B, "pfId": _B,
}  # fmt: skip
TAU_FIELDS = {"pt": _F4, "eta": _F4, "phi": _F4, "mass": _F4, "charge": _I4, "relIso_all": _F4}
PHOTON_FIELDS = {"pt": _F4, "eta": _F4, "phi": _F4, "mass": _F4, "pfRelIso03_all": _F4}
JET_FIELDS = {"pt": _F4, "eta": _F4, "phi": _F4, "mass": _F4, "btag": _F4, "puId": _B}
COLLECTIONS = {"Muon": MUON_FIELDS, "Electron": ELECTRON_FIELDS, "Tau": TAU_FIELDS, "Photon": PHOTON_FIELDS,
               "Jet": JET_FIELDS}  # fmt: skip
MET_FIELDS = ["pt", "phi", "sumet", "significance", "CovXX", "CovXY", "CovYY"]


def _two_body(rng: np.random.Generator, mass: np.ndarray, m_daughter: float):
    """Decay parents of ``mass`` (with a boost) into two daughters; returns (pt, eta, phi) x 2."""
    n = len(mass)
    p_star = np.sqrt(np.maximum(mass**2 / 4 - m_daughter**2, 0.0))
    cos_t = rng.uniform(-1, 1, n)
    sin_t = np.sqrt(1 - cos_t**2)
    phi_s = rng.uniform(-np.pi, np.pi, n)
    px, py, pz = p_star * sin_t * np.cos(phi_s), p_star * sin_t * np.sin(phi_s), p_star * cos_t
    e = np.sqrt(p_star**2 + m_daughter**2)
    # Parent momentum: transverse boost from an exponential pt spectrum, longitudinal from rapidity.
    ppt = rng.exponential(0.3 * mass + 5.0)
    pphi = rng.uniform(-np.pi, np.pi, n)
    y = rng.normal(0, 1.2, n)
    mt = np.sqrt(mass**2 + ppt**2)
    P = np.stack([mt * np.cosh(y), ppt * np.cos(pphi), ppt * np.sin(pphi), mt * np.sinh(y)])
    beta = P[1:] / P[0]
    b2 = np.sum(beta**2, axis=0)
    gamma = 1 / np.sqrt(1 - b2)
    out = []
    for sign in (1, -1):
        p = np.stack([px, py, pz]) * sign
        bp = np.sum(beta * p, axis=0)
        coef = np.where(b2 > 0, (gamma - 1) * bp / np.where(b2 > 0, b2, 1), 0) + gamma * e
        lab = p + beta * coef
        pt = np.hypot(lab[0], lab[1])
        eta = np.arcsinh(lab[2] / np.maximum(pt, 1e-9))
        out.append((pt, eta, np.arctan2(lab[1], lab[0])))
    return out


def _breit_wigner(rng, mass, width, n):
    return np.abs(mass + 0.5 * width * rng.standard_cauchy(n))


def _leptons(rng: np.random.Generator, n: int, pair_fraction_scale: float, m_lepton: float):
    """Per-event lepton lists: resonance pairs in some events, continuum leptons in all."""
    pts, etas, phis, charges = [], [], [], []
    event_of = []
    u = rng.uniform(0, 1, n)
    lo = 0.0
    for mass, width, frac in RESONANCES:
        frac *= pair_fraction_scale
        chosen = np.nonzero((u >= lo) & (u < lo + frac))[0]
        lo += frac
        m = _breit_wigner(rng, mass, width, len(chosen))
        (pt1, eta1, phi1), (pt2, eta2, phi2) = _two_body(rng, m, m_lepton)
        q = rng.choice(np.array([-1, 1]), len(chosen))
        for pt, eta, phi, qq in ((pt1, eta1, phi1, q), (pt2, eta2, phi2, -q)):
            pts.append(pt)
            etas.append(eta)
            phis.append(phi)
            charges.append(qq)
            event_of.append(chosen)
    # Continuum: a falling spectrum of unpaired leptons (fakes, heavy flavour, Drell-Yan tail).
    n_extra = rng.poisson(0.45 * pair_fraction_scale, n)
    idx = np.repeat(np.arange(n), n_extra)
    pts.append(3.0 + rng.exponential(9.0, len(idx)))
    etas.append(rng.normal(0, 1.3, len(idx)))
    phis.append(rng.uniform(-np.pi, np.pi, len(idx)))
    charges.append(rng.choice(np.array([-1, 1]), len(idx)))
    event_of.append(idx)
    ev = np.concatenate(event_of)
    keep = np.abs(np.concatenate(etas)) < 2.4
    order = np.argsort(ev[keep], kind="stable")
    ev_sorted = ev[keep][order]
    cols = [np.concatenate(c)[keep][order] for c in (pts, etas, phis, charges)]
    counts = np.bincount(ev_sorted, minlength=n)
    return counts, cols


def _pt_ordered(counts: np.ndarray, fields: dict[str, np.ndarray]) -> dict[str, ak.Array]:
    jag = {k: ak.unflatten(v, counts) for k, v in fields.items()}
    order = ak.argsort(jag["pt"], axis=1, ascending=False, stable=True)
    return {k: v[order] for k, v in jag.items()}


def _collection(rng, counts, kin, spec, m_lepton=None) -> dict[str, ak.Array]:
    total = int(counts.sum())
    pt, eta, phi, charge = kin
    fields: dict[str, np.ndarray] = {"pt": pt, "eta": eta, "phi": phi}
    if m_lepton is not None:
        fields["mass"] = np.full(total, m_lepton)
        fields["charge"] = charge
    for name in spec:
        if name in fields:
            continue
        if name in ("pfRelIso03_all", "pfRelIso04_all", "relIso_all"):
            fields[name] = rng.exponential(0.08, total)
        elif name in ("dxy", "dz"):
            fields[name] = rng.normal(0, 0.01, total)
        elif name in ("dxyErr", "dzErr"):
            fields[name] = rng.exponential(0.004, total)
        elif name in ("jetIdx", "genPartIdx"):
            fields[name] = rng.integers(-1, 6, total)
        elif name in ("tightId", "softId", "cutBasedId", "pfId", "puId"):
            fields[name] = rng.uniform(0, 1, total) < 0.8
        elif name == "btag":
            fields[name] = rng.beta(0.4, 2.0, total)
        elif name == "mass":
            fields[name] = np.abs(rng.normal(0.08 * pt, 0.02 * pt + 0.1))
        elif name == "charge":
            fields[name] = rng.choice(np.array([-1, 1]), total)
    typed = {k: np.asarray(v).astype(spec[k]) for k, v in fields.items()}
    return _pt_ordered(counts, typed)


def generate_events(n_events: int, seed: int = 42, first_event: int = 0) -> dict[str, np.ndarray | ak.Array]:
    """Generate ``n_events`` events as a dict of branch name to array (NanoAOD names)."""
    rng = np.random.default_rng([seed, first_event])
    n = n_events
    out: dict[str, np.ndarray | ak.Array] = {
        "run": np.full(n, 1, np.int32),
        "luminosityBlock": (1 + (first_event + np.arange(n)) // 1000).astype(np.uint32),
        "event": (first_event + np.arange(n) + 1).astype(np.uint64),
        "HLT_IsoMu24": rng.uniform(0, 1, n) < 0.3,
        "PV_npvs": rng.poisson(30, n).astype(np.int32),
        "PV_x": rng.normal(0.01, 0.002, n).astype(np.float32),
        "PV_y": rng.normal(0.04, 0.002, n).astype(np.float32),
        "PV_z": rng.normal(0, 4, n).astype(np.float32),
    }
    mu_counts, mu_kin = _leptons(rng, n, 1.0, MUON_MASS)
    el_counts, el_kin = _leptons(rng, n, 0.6, ELECTRON_MASS)
    collections = {
        "Muon": (mu_counts, _collection(rng, mu_counts, mu_kin, MUON_FIELDS, MUON_MASS)),
        "Electron": (el_counts, _collection(rng, el_counts, el_kin, ELECTRON_FIELDS, ELECTRON_MASS)),
    }
    for name, mean, spec, pt_scale, pt_min in (
        ("Tau", 0.3, TAU_FIELDS, 15.0, 18.0),
        ("Photon", 0.5, PHOTON_FIELDS, 10.0, 5.0),
        ("Jet", 3.2, JET_FIELDS, 25.0, 15.0),
    ):
        counts = rng.poisson(mean, n)
        total = int(counts.sum())
        kin = (
            pt_min + rng.exponential(pt_scale, total),
            rng.normal(0, 2.0 if name == "Jet" else 1.4, total).clip(-4.7, 4.7),
            rng.uniform(-np.pi, np.pi, total),
            rng.choice(np.array([-1, 1]), total),
        )
        collections[name] = (counts, _collection(rng, counts, kin, spec, None))
    for name, (counts, fields) in collections.items():
        out[f"n{name}"] = counts.astype(np.uint32)
        for field, arr in fields.items():
            out[f"{name}_{field}"] = arr
    met_pt = rng.gamma(2.0, 12.0, n)
    out.update(
        MET_pt=met_pt.astype(np.float32),
        MET_phi=rng.uniform(-np.pi, np.pi, n).astype(np.float32),
        MET_sumet=(met_pt * 10 + rng.exponential(300, n)).astype(np.float32),
        MET_significance=rng.exponential(2.0, n).astype(np.float32),
        MET_CovXX=rng.exponential(100, n).astype(np.float32),
        MET_CovXY=rng.normal(0, 10, n).astype(np.float32),
        MET_CovYY=rng.exponential(100, n).astype(np.float32),
    )
    return out


def _branch_types(sample: dict) -> dict[str, object]:
    types: dict[str, object] = {}
    for name, arr in sample.items():
        if isinstance(arr, ak.Array):
            types[name] = f"var * {ak.type(arr).content.content}"
        else:
            types[name] = arr.dtype
    return types


def _make_counters_unsigned(tree, sink) -> None:
    """Uproot writes jagged-array counters as Int_t; NanoAOD uses UInt_t. Retype them in place.

    The counter leaves hold the same bytes either way (non-negative counts); only the leaf
    type code and title change, then the TTree metadata is rewritten. This relies on uproot's
    writer internals, checked by tests/test_datasets.py against uproot and ROOT readers.
    """
    cascading = tree._cascading
    for datum in cascading._branch_data:
        if datum.get("kind") == "counter":
            datum["dtype"] = np.dtype(">u4")
            datum["branch_type"] = np.dtype("uint32")
            datum["fTitle"] = datum["fTitle"][:-1] + "i"
    cascading.write_anew(sink)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it into place only on success."""
    from hepframe.snapshot import remove_temporaries, temporary_prefix  # named so killed writers' are found

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_temporaries(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target), suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def generate_nanoaod(
    path: str | os.PathLike,
    n_events: int = 100_000,
    seed: int = 42,
    chunk_size: int = 100_000,
    tree: str = "Events",
    progress: bool = False,
) -> str:
    """Write a NanoAOD-like ROOT file with ``n_events`` events, atomically; returns the path.

    Parameters
    ----------
    path
        Output ``.root`` file. It appears only when complete.
    n_events, seed
        Size and random seed; the same arguments give the same events.
    chunk_size
        Events generated and written per TTree cluster (bounds memory).

    """
    n_chunks = max(1, -(-n_events // chunk_size))  # an empty sample is one empty cluster
    chunks = (generate_events(min(chunk_size, n_events - k * chunk_size), seed, k * chunk_size) for k in range(n_chunks))
    return write_tree_chunks(path, chunks, n_chunks, tree, total=n_events if progress else None)


def write_tree_chunks(path: str | os.PathLike, chunks: Iterator[dict[str, np.ndarray | ak.Array]], n_chunks: int,
                      tree: str = "Events", total: int | None = None) -> str:
    """Write chunks of branches (one TTree cluster each) as one TTree, atomically; returns the path.

    Jagged branches ``Prefix_field`` get the NanoAOD counter ``nPrefix`` (``UInt_t``); counters in
    the chunks are left out (uproot writes them). ``total`` events draw a progress bar.
    """
    import uproot

    bar = _progress(total or 0, total is not None)
    with atomic_path(path) as tmp:
        with uproot.recreate(tmp, compression=uproot.ZLIB(1)) as f:
            t = None
            for chunk in chunks:
                jagged = {k.split("_")[0] for k, v in chunk.items() if isinstance(v, ak.Array)}
                branches = {k: v for k, v in chunk.items() if not (k.startswith("n") and k[1:] in jagged)}
                if t is None:
                    # Room for every chunk's basket up front: uproot relocates the TTree metadata when it
                    # outgrows the capacity, which would lose the retyped counters (see below).
                    t = f.mktree(tree, _branch_types(branches), counter_name=lambda counted: "n" + counted.split("_")[0],
                                 initial_basket_capacity=n_chunks + 2)  # fmt: skip
                    _make_counters_unsigned(t, f._file.sink)
                t.extend(branches)
                bar.update(len(next(iter(branches.values()))))
    bar.close()
    return os.fspath(path)


def write_tree(path: str | os.PathLike, branches: dict[str, np.ndarray | ak.Array], tree: str = "Events") -> str:
    """Write arrays as a TTree, atomically; jagged arrays get ``UInt_t`` counters ``n<Prefix>``.

    Jagged branches named ``Prefix_field`` share the counter ``nPrefix`` (NanoAOD convention);
    a jagged branch without ``_`` gets ``n<name>``.

    Examples
    --------
    >>> import awkward as ak, numpy as np
    >>> from hepframe.datasets import write_tree
    >>> _ = write_tree("/tmp/hepframe-tiny.root", {"x": np.arange(3.0), "Jet_pt": ak.Array([[1.0], [], [2.0, 3.0]])})

    """
    import uproot

    arrays = {k: (v if isinstance(v, ak.Array) else np.asarray(v)) for k, v in branches.items()}
    types = {k: (f"var * {ak.type(v).content.content}" if isinstance(v, ak.Array) else v.dtype) for k, v in arrays.items()}
    with atomic_path(path) as tmp:
        with uproot.recreate(tmp) as f:
            t = f.mktree(tree, types, counter_name=lambda counted: "n" + counted.split("_")[0])
            _make_counters_unsigned(t, f._file.sink)
            t.extend(arrays)
    return os.fspath(path)


#: The columns of ROOT's df014 tutorial CSV (CMS Run2010B dimuons): one line per event with two muons.
DIMUON_CSV_COLUMNS = ["Run", "Event", "Type1", "E1", "px1", "py1", "pz1", "pt1", "eta1", "phi1", "Q1",
                      "Type2", "E2", "px2", "py2", "pz2", "pt2", "eta2", "phi2", "Q2", "M"]  # fmt: skip


def generate_dimuon_csv(path: str | os.PathLike, n_events: int = 20_000, seed: int = 42) -> str:
    """Write the leading two muons of generated events with at least two, in ROOT's df014 CSV layout.

    A local stand-in for the tutorial's remote file: same column names and types (``Type1``/``Type2``
    are strings, "G" global or "T" tracker muons; ``Q1``/``Q2`` integers; the rest doubles).
    """
    sample = generate_events(n_events, seed)
    counts = np.asarray(sample["nMuon"])
    keep = counts >= 2
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {"Run": np.full(int(keep.sum()), 146511), "Event": np.asarray(sample["event"])[keep]}
    four = []
    for k in (0, 1):
        pt, eta, phi, mass, charge = (ak.to_numpy(sample[f"Muon_{f}"][keep][:, k]).astype(np.float64)
                                      for f in ("pt", "eta", "phi", "mass", "charge"))  # fmt: skip
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        energy = np.sqrt(px * px + py * py + pz * pz + mass * mass)
        four.append((energy, px, py, pz))
        cols |= {f"Type{k + 1}": rng.choice(np.array(["G", "T"]), len(pt)), f"E{k + 1}": energy, f"px{k + 1}": px,
                 f"py{k + 1}": py, f"pz{k + 1}": pz, f"pt{k + 1}": pt, f"eta{k + 1}": eta, f"phi{k + 1}": phi,
                 f"Q{k + 1}": charge.astype(np.int64)}  # fmt: skip
    e, x, y, z = (a + b for a, b in zip(*four, strict=True))
    cols["M"] = np.sqrt(np.maximum(e * e - x * x - y * y - z * z, 0.0))

    def text(value) -> str:
        return f"{value:.10g}" if isinstance(value, float | np.floating) else str(value)

    lines = [",".join(DIMUON_CSV_COLUMNS)]
    lines += [",".join(text(cols[c][i]) for c in DIMUON_CSV_COLUMNS) for i in range(len(cols["Run"]))]
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.fspath(path)


def _progress(total: int, enabled: bool):
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, unit="ev", desc="generating", disable=not (enabled and sys.stderr.isatty()))


def ensure_sample(path: str | os.PathLike, n_events: int, seed: int = 42, progress: bool = False) -> str:
    """Generate the sample unless a file with that many entries already exists at ``path``."""
    import uproot

    if os.path.exists(path):
        with contextlib.suppress(Exception), uproot.open(path) as f:
            if f["Events"].num_entries == n_events:
                return os.fspath(path)
    return generate_nanoaod(path, n_events=n_events, seed=seed, progress=progress)
