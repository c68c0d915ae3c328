"""Deterministic AGC-like samples: the CMS ttbar analysis of the IRIS-HEP Analysis Grand Challenge.

``hepframe generate --schema agc --events N OUTDIR`` writes one NanoAOD-like file per sample and
``OUTDIR/spec.json`` (an RDatasetSpec: files, tree and metadata per sample). The samples are the
AGC's: ttbar (nominal and its modelling variations ``scaledown``, ``scaleup``, ``ME_var``,
``PS_var``), single top (s- and t-channel, tW), W+jets, and pseudo-data in which the ttbar yield
is scaled by an injected signal strength.

Events are built from parton-level decays, not drawn branch by branch: top quarks decay to
``b W``, each W to a lepton and a neutrino (MET) or to two quarks, with relativistic boosts, so
that the mass of the three jets of a hadronic top peaks at the top mass and a fit of the AGC's
regions finds the injected ttbar normalisation. Jets are the partons (``GenJet``) smeared by a
resolution, plus initial-state radiation and pile-up jets without a ``GenJet`` match; b jets are
tagged by ``btagCSVV2``. Leptons carry the AGC's identification branches (``Electron_cutBased``,
``*_sip3d``, ``Muon_tightId``, ``Muon_pfRelIso04_all``), and each event can also hold softer,
non-isolated fake leptons. Branch types follow CMS NanoAOD (``UInt_t`` counters, float32
kinematics, int32 indices and ids, bool flags). The same seed gives the same files.

Cross-sections are those of the generated (already filtered) processes, in pb; the pseudo-data's
luminosity is chosen so that it holds about ``N`` events, and the MC weight of a sample is
``xsec * lumi / nevents``, as in the AGC.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

from hepframe.datasets import atomic_path, write_tree_chunks
from hepframe.errors import AnalysisError

TOP_MASS, TOP_WIDTH = 172.5, 1.4
W_MASS, W_WIDTH = 80.4, 2.1
B_MASS = 4.8
ELECTRON_MASS, MUON_MASS = 0.00051099895, 0.1056583745
CHUNK = 200_000


@dataclass(frozen=True)
class Process:
    """How one sample's events are made (the knobs that the modelling variations turn)."""

    xsec: float  # pb, after the generator-level filter
    tops: str  # "" (W+jets), "l" (one leptonic top), "lh" (ttbar semileptonic), "h+W" (tW)
    extra_jets: float = 1.2  # mean number of radiation jets
    radiation_pt: float = 30.0  # their exponential pt slope (GeV)
    top_pt: float = 95.0  # mean top pt (GeV)
    resolution: float = 0.10  # relative jet pt resolution
    light_jets: int = 0  # hard light-flavour jets besides the decays (t-channel: the forward jet)
    b_jets: int = 0  # hard b jets besides the decays (s-channel)
    b_fraction: float = 0.02  # of radiation jets


PROCESSES = {
    "ttbar": Process(320.0, "lh", extra_jets=1.2),
    "ttbar_scaledown": Process(320.0, "lh", extra_jets=0.95, radiation_pt=27.0),
    "ttbar_scaleup": Process(320.0, "lh", extra_jets=1.5, radiation_pt=33.0),
    "ttbar_ME_var": Process(320.0, "lh", extra_jets=1.2, top_pt=102.0),
    "ttbar_PS_var": Process(320.0, "lh", extra_jets=1.3, resolution=0.12),
    "single_top_s_chan": Process(3.3, "l", extra_jets=1.4, b_jets=1),
    "single_top_t_chan": Process(60.0, "l", extra_jets=1.6, light_jets=1),
    "single_top_tW": Process(38.0, "h+W", extra_jets=1.2),
    "wjets": Process(2000.0, "", extra_jets=3.0, radiation_pt=35.0, b_fraction=0.04),
}
#: AGC's names: (process, variation) of each sample; the pseudo-data is ("data", "nominal").
SAMPLES = {
    "ttbar": ("ttbar", "nominal"), "ttbar_scaledown": ("ttbar", "scaledown"), "ttbar_scaleup": ("ttbar", "scaleup"),
    "ttbar_ME_var": ("ttbar", "ME_var"), "ttbar_PS_var": ("ttbar", "PS_var"),
    "single_top_s_chan": ("single_top_s_chan", "nominal"), "single_top_t_chan": ("single_top_t_chan", "nominal"),
    "single_top_tW": ("single_top_tW", "nominal"), "wjets": ("wjets", "nominal"),
}  # fmt: skip
NOMINAL = [name for name, (_, variation) in SAMPLES.items() if variation == "nominal"]


@dataclass
class _Objects:
    """Lab-frame objects of a chunk: flat arrays plus the event index of each object."""

    jets: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in ("event", "px", "py", "pz", "b")})
    leptons: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in ("event", "px", "py", "pz", "q",
                                                                                           "flavour")})  # fmt: skip
    met: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def jet(self, event, p4, b: bool) -> None:
        for key, value in zip(("event", "px", "py", "pz"), (event, *p4[:3]), strict=True):
            self.jets[key].append(value)
        self.jets["b"].append(np.full(len(event), b))


def _breit_wigner(rng: np.random.Generator, mass: float, width: float, n: int) -> np.ndarray:
    return np.clip(mass + 0.5 * width * rng.standard_cauchy(n), mass - 10 * width, mass + 10 * width)


def _p4(pt, eta, phi, m) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + m**2)


def _decay(rng: np.random.Generator, parent, m1, m2):
    """Isotropic two-body decay of ``parent`` (px, py, pz, E) into masses m1, m2, boosted to the lab."""
    px, py, pz, e = parent
    m = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))
    m1, m2 = np.broadcast_to(m1, m.shape), np.broadcast_to(m2, m.shape)
    p = np.sqrt(np.maximum((m**2 - (m1 + m2) ** 2) * (m**2 - (m1 - m2) ** 2), 0.0)) / (2 * m)
    cos_t = rng.uniform(-1, 1, len(m))
    sin_t = np.sqrt(1 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi, len(m))
    k = np.stack([p * sin_t * np.cos(phi), p * sin_t * np.sin(phi), p * cos_t])
    beta = np.stack([px, py, pz]) / e
    b2 = (beta**2).sum(axis=0)
    gamma = 1 / np.sqrt(1 - b2)
    out = []
    for sign, md in ((1, m1), (-1, m2)):
        q = sign * k
        eq = np.sqrt(p**2 + md**2)
        bq = (beta * q).sum(axis=0)
        coef = np.where(b2 > 0, (gamma - 1) * bq / np.where(b2 > 0, b2, 1), 0.0) + gamma * eq
        lab = q + coef * beta
        out.append((lab[0], lab[1], lab[2], gamma * (eq + bq)))
    return out


def _top(rng: np.random.Generator, process: Process, n: int, eta_width: float = 1.3):
    pt = rng.gamma(2.0, process.top_pt / 2.0, n)
    return _p4(pt, rng.normal(0, eta_width, n), rng.uniform(-np.pi, np.pi, n), _breit_wigner(rng, TOP_MASS, TOP_WIDTH, n))


def _leptonic_w(rng: np.random.Generator, objects: _Objects, event: np.ndarray, w) -> None:
    electron = rng.uniform(0, 1, len(event)) < 0.5
    m_lep = np.where(electron, ELECTRON_MASS, MUON_MASS)
    lepton, neutrino = _decay(rng, w, m_lep, 0.0)
    for key, value in zip(("event", "px", "py", "pz"), (event, *lepton[:3]), strict=True):
        objects.leptons[key].append(value)
    objects.leptons["q"].append(rng.choice(np.array([-1, 1]), len(event)))
    objects.leptons["flavour"].append(np.where(electron, 11, 13))
    objects.met.append((event, np.stack(neutrino[:2])))


def _hadronic_w(rng: np.random.Generator, objects: _Objects, event: np.ndarray, w) -> None:
    for quark in _decay(rng, w, 0.3, 0.3):
        objects.jet(event, quark, False)


def _top_decay(rng: np.random.Generator, objects: _Objects, event: np.ndarray, top, leptonic: bool) -> None:
    n = len(event)
    b, w = _decay(rng, top, np.full(n, B_MASS), _breit_wigner(rng, W_MASS, W_WIDTH, n))
    objects.jet(event, b, True)
    (_leptonic_w if leptonic else _hadronic_w)(rng, objects, event, w)


def _hard_process(rng: np.random.Generator, process: Process, n: int) -> _Objects:
    objects = _Objects()
    event = np.arange(n)
    if process.tops == "lh":
        for leptonic in (True, False):
            _top_decay(rng, objects, event, _top(rng, process, n), leptonic)
    elif process.tops == "l":
        _top_decay(rng, objects, event, _top(rng, process, n), True)
    elif process.tops == "h+W":
        _top_decay(rng, objects, event, _top(rng, process, n), False)
        _leptonic_w(rng, objects, event, _p4(rng.gamma(2.0, 40.0, n), rng.normal(0, 1.5, n), rng.uniform(-np.pi, np.pi, n),
                                             _breit_wigner(rng, W_MASS, W_WIDTH, n)))  # fmt: skip
    else:  # W+jets: a W recoiling against the radiation
        _leptonic_w(rng, objects, event, _p4(rng.exponential(35.0, n), rng.normal(0, 1.8, n), rng.uniform(-np.pi, np.pi, n),
                                             _breit_wigner(rng, W_MASS, W_WIDTH, n)))  # fmt: skip
    for count, b, eta_width in ((process.light_jets, False, 2.8), (process.b_jets, True, 1.5)):
        for _ in range(count):
            objects.jet(event, _p4(30.0 + rng.exponential(40.0, n), rng.normal(0, eta_width, n),
                                   rng.uniform(-np.pi, np.pi, n), 0.0), b)  # fmt: skip
    radiated = np.repeat(event, rng.poisson(process.extra_jets, n))
    k = len(radiated)
    objects.jet(radiated, _p4(15.0 + rng.exponential(process.radiation_pt, k), rng.normal(0, 2.0, k),
                              rng.uniform(-np.pi, np.pi, k), 0.0), False)  # fmt: skip
    objects.jets["b"][-1] = rng.uniform(0, 1, k) < process.b_fraction
    return objects


def _grouped(n: int, event: np.ndarray, pt: np.ndarray, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, dict]:
    """Sort objects by event, then by decreasing pt (NanoAOD's order); per-event counts and columns."""
    order = np.lexsort((-pt, event))
    return np.bincount(event, minlength=n), {k: v[order] for k, v in columns.items()}


def _jets(rng: np.random.Generator, process: Process, n: int, objects: _Objects) -> dict[str, ak.Array]:
    event = np.concatenate(objects.jets["event"])
    px, py, pz = (np.concatenate(objects.jets[k]) for k in ("px", "py", "pz"))
    is_b = np.concatenate(objects.jets["b"])
    gen_pt = np.hypot(px, py)
    gen_eta = np.arcsinh(pz / np.maximum(gen_pt, 1e-9))
    gen_phi = np.arctan2(py, px)
    gen_mass = np.where(is_b, B_MASS, 0.0) + np.abs(rng.normal(0.07, 0.03, len(event))) * gen_pt
    keep = (gen_pt > 10.0) & (np.abs(gen_eta) < 4.7)
    event, gen_pt, gen_eta, gen_phi, gen_mass, is_b = (a[keep] for a in (event, gen_pt, gen_eta, gen_phi, gen_mass, is_b))
    counts, gen = _grouped(n, event, gen_pt, {"pt": gen_pt, "eta": gen_eta, "phi": gen_phi, "mass": gen_mass,
                                              "b": is_b})  # fmt: skip
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    gen_index = np.arange(len(gen["pt"])) - np.repeat(starts, counts)  # index within the event's GenJets
    m = len(gen["pt"])
    reco = {
        "pt": gen["pt"] * np.maximum(rng.normal(1.0, process.resolution, m), 0.3),
        "eta": gen["eta"] + rng.normal(0, 0.01, m),
        "phi": gen["phi"] + rng.normal(0, 0.01, m),
        "mass": gen["mass"] * np.maximum(rng.normal(1.0, 0.1, m), 0.1),
        "btagCSVV2": np.where(gen["b"], rng.beta(4.0, 1.2, m), rng.beta(0.7, 7.0, m)),
        "jetId": rng.choice(np.array([6, 2, 0]), m, p=[0.95, 0.03, 0.02]),
        "genJetIdx": gen_index,
        "event": np.repeat(np.arange(n), counts),
    }
    pileup = np.repeat(np.arange(n), rng.poisson(0.6, n))  # jets from other collisions: no GenJet
    k = len(pileup)
    pu = {"pt": 15.0 + rng.exponential(8.0, k), "eta": rng.uniform(-4.7, 4.7, k), "phi": rng.uniform(-np.pi, np.pi, k),
          "mass": rng.uniform(2.0, 6.0, k), "btagCSVV2": rng.beta(0.7, 7.0, k), "jetId": rng.choice(np.array([6, 2, 0]), k),
          "genJetIdx": np.full(k, -1), "event": pileup}  # fmt: skip
    merged = {key: np.concatenate([reco[key], pu[key]]) for key in reco}
    jet_counts, jets = _grouped(n, merged.pop("event"), merged["pt"], merged)
    types = {"pt": np.float32, "eta": np.float32, "phi": np.float32, "mass": np.float32, "btagCSVV2": np.float32,
             "jetId": np.int32, "genJetIdx": np.int32}  # fmt: skip
    out = {f"Jet_{key}": ak.unflatten(jets[key].astype(t), jet_counts) for key, t in types.items()}
    for key in ("pt", "eta", "phi", "mass"):
        out[f"GenJet_{key}"] = ak.unflatten(gen[key].astype(np.float32), counts)
    return out


def _leptons(rng: np.random.Generator, n: int, objects: _Objects) -> dict[str, ak.Array]:
    event = np.concatenate(objects.leptons["event"])
    px, py, pz = (np.concatenate(objects.leptons[k]) for k in ("px", "py", "pz"))
    charge, flavour = np.concatenate(objects.leptons["q"]), np.concatenate(objects.leptons["flavour"])
    pt = np.hypot(px, py) * rng.normal(1.0, 0.01, len(event))
    eta, phi = np.arcsinh(pz / np.maximum(np.hypot(px, py), 1e-9)), np.arctan2(py, px)
    prompt = np.ones(len(event), bool)
    fakes = np.repeat(np.arange(n), rng.poisson(0.25, n))  # non-prompt leptons in jets
    k = len(fakes)
    event, pt, eta, phi, charge, prompt = (
        np.concatenate(pair) for pair in ((event, fakes), (pt, 10.0 + rng.exponential(10.0, k)),
                                          (eta, rng.normal(0, 1.4, k)), (phi, rng.uniform(-np.pi, np.pi, k)),
                                          (charge, rng.choice(np.array([-1, 1]), k)), (prompt, np.zeros(k, bool))))  # fmt: skip
    flavour = np.concatenate([flavour, rng.choice(np.array([11, 13]), k)])
    keep = np.abs(eta) < 2.5
    m = int(keep.sum())
    common = {"pt": pt[keep], "eta": eta[keep], "phi": phi[keep], "charge": charge[keep],
              "sip3d": np.where(prompt[keep], rng.exponential(1.3, m), rng.exponential(6.0, m))}  # fmt: skip
    event, prompt, flavour = event[keep], prompt[keep], flavour[keep]
    out: dict[str, ak.Array] = {}
    for name, code, mass in (("Electron", 11, ELECTRON_MASS), ("Muon", 13, MUON_MASS)):
        sel = flavour == code
        cols = {k: v[sel] for k, v in common.items()}
        good = prompt[sel]
        j = int(sel.sum())
        cols["mass"] = np.full(j, mass)
        if name == "Electron":
            cols["cutBased"] = np.where(good, rng.choice(np.array([4, 3, 2]), j, p=[0.8, 0.12, 0.08]),
                                        rng.choice(np.array([0, 1, 2, 3, 4]), j, p=[0.4, 0.3, 0.15, 0.1, 0.05]))  # fmt: skip
        else:
            cols["tightId"] = np.where(good, rng.uniform(0, 1, j) < 0.92, rng.uniform(0, 1, j) < 0.4)
            cols["pfRelIso04_all"] = np.where(good, rng.exponential(0.04, j), rng.exponential(0.4, j))
        counts, cols = _grouped(n, event[sel], cols["pt"], cols)
        types = {"pt": np.float32, "eta": np.float32, "phi": np.float32, "mass": np.float32, "charge": np.int32,
                 "sip3d": np.float32, "cutBased": np.int32, "tightId": np.bool_, "pfRelIso04_all": np.float32}  # fmt: skip
        for key, v in cols.items():
            out[f"{name}_{key}"] = ak.unflatten(v.astype(types[key]), counts)
    return out


def generate_events(process: Process, n: int, seed: int, first_event: int = 0) -> dict[str, np.ndarray | ak.Array]:
    """``n`` events of ``process`` as NanoAOD branches (deterministic in seed and first_event)."""
    rng = np.random.default_rng([seed, first_event])
    objects = _hard_process(rng, process, n)
    out: dict[str, np.ndarray | ak.Array] = {
        "run": np.full(n, 1, np.uint32),
        "luminosityBlock": (1 + (first_event + np.arange(n)) // 1000).astype(np.uint32),
        "event": (first_event + np.arange(n) + 1).astype(np.uint64),
    }
    out.update(_jets(rng, process, n, objects))
    out.update(_leptons(rng, n, objects))
    met_x, met_y = rng.normal(0, 12.0, n), rng.normal(0, 12.0, n)  # resolution of the unclustered energy
    for event, (nx, ny) in objects.met:
        np.add.at(met_x, event, nx)
        np.add.at(met_y, event, ny)
    out["MET_pt"] = np.hypot(met_x, met_y).astype(np.float32)
    out["MET_phi"] = np.arctan2(met_y, met_x).astype(np.float32)
    out["genWeight"] = np.ones(n, np.float32)
    return out


def _chunks(parts: list[tuple[Process, int, int]]) -> Iterator[dict[str, np.ndarray | ak.Array]]:
    """Chunks of events from consecutive (process, events, seed) parts, with running event numbers."""
    first = 0
    for process, n, seed in parts:
        for start in range(0, n, CHUNK):
            chunk = generate_events(process, min(CHUNK, n - start), seed, start)
            chunk["event"] = (first + start + np.arange(min(CHUNK, n - start)) + 1).astype(np.uint64)
            yield chunk
        first += n


def generate_agc(outdir: str | os.PathLike, n_events: int = 100_000, seed: int = 42, signal_strength: float = 1.0,
                 progress: bool = False) -> str:  # fmt: skip
    """Write the AGC-like samples (``n_events`` per MC sample) and ``spec.json`` to ``outdir``; returns the spec's path.

    Each file appears only when complete, and the spec last. The pseudo-data holds the nominal
    processes with the ttbar yield scaled by ``signal_strength``, Poisson-fluctuated.
    """
    if n_events < 1:
        raise AnalysisError(f"the AGC samples need at least 1 event each, got {n_events}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    lumi = n_events / sum(PROCESSES[name].xsec for name in NOMINAL)  # pseudo-data of about n_events events (pb^-1)
    samples: dict[str, dict] = {}
    for k, (name, process) in enumerate(PROCESSES.items()):
        path = out / f"{name}.root"
        _write(path, [(process, n_events, seed * 1000 + k)], progress)
        group, variation = SAMPLES[name]
        samples[name] = {"trees": ["Events"], "files": [os.fspath(path.resolve())], "metadata": {
            "process": group, "variation": variation, "xsec": process.xsec, "nevents": n_events, "lumi": lumi}}  # fmt: skip
    rng = np.random.default_rng([seed, 999])
    parts = []
    for k, name in enumerate(NOMINAL):
        expected = PROCESSES[name].xsec * lumi * (signal_strength if SAMPLES[name][0] == "ttbar" else 1.0)
        parts.append((PROCESSES[name], int(rng.poisson(expected)), seed * 1000 + 500 + k))
    _write(out / "data.root", parts, progress)
    samples["data"] = {"trees": ["Events"], "files": [os.fspath((out / "data.root").resolve())], "metadata": {
        "process": "data", "variation": "nominal", "lumi": lumi, "signal_strength": signal_strength,
        "nevents": sum(n for _, n, _ in parts)}}  # fmt: skip
    spec = out / "spec.json"
    with atomic_path(spec) as tmp, open(tmp, "w") as f:
        json.dump({"samples": samples}, f, indent=1)
    return os.fspath(spec)


def _write(path: Path, parts: list[tuple[Process, int, int]], progress: bool) -> None:
    n_chunks = sum(max(1, -(-n // CHUNK)) for _, n, _ in parts)
    total = sum(n for _, n, _ in parts)
    write_tree_chunks(path, _chunks(parts), n_chunks, total=total if progress else None)
