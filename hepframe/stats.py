"""Statistical models from booked results: pyhf workspaces, fits, tests and limits.

A :class:`Model` is built from hepframe's histograms (a ``ResultPtr``, a ``hist.Hist``, or a
``VariationsFor`` map for systematic variations), region by region (pyhf's *channels*) and
sample by sample, with HistFactory's modifiers: ``normfactor`` (the parameter of interest),
``lumi``, ``normsys``, ``histosys``, ``staterror`` and ``shapesys``. ``Model.workspace()`` gives
a ``pyhf.Workspace``, validated by pyhf's schema; :func:`fit`, :func:`hypotest` and
:func:`upper_limit` run pyhf's inference with Minuit (uncertainties and correlations from HESSE).

Example:
-------
>>> import numpy as np, hist
>>> from hepframe import stats
>>> def h(values):
...     out = hist.Hist(hist.axis.Regular(3, 0, 3), storage=hist.storage.Weight())
...     out[...] = np.stack([values, values], axis=-1)  # values and variances
...     return out
>>> model = stats.Model(poi="mu")
>>> signal_region = model.channel("SR")
>>> _ = signal_region.sample("signal", h([5.0, 10.0, 5.0])).normfactor("mu")
>>> _ = signal_region.sample("background", h([50.0, 50.0, 50.0])).normsys("bkg_norm", 0.9, 1.1)
>>> signal_region.data(h([55.0, 60.0, 55.0]))
>>> result = stats.fit(model.workspace())
>>> round(result.value("mu"), 3)
1.0

Histograms contribute their in-range bins (flow bins are left out, as HistFactory does); every
sample and the data of a channel must have the same bin edges. See docs/statistics.md.

"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepframe.errors import HepframeError


class StatsError(HepframeError):
    """An inconsistent statistical model: what is wrong and where (channel, sample, modifier)."""


def _bins(histogram: Any, what: str) -> tuple[np.ndarray, np.ndarray | None, tuple | None]:
    """(contents, variances or None where unknown, the axes' binning or None for an array) of the in-range bins."""
    value = histogram.GetValue() if hasattr(histogram, "GetValue") and not hasattr(histogram, "axes") else histogram
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.asarray(value, dtype=np.float64).reshape(-1), None, None
    try:
        contents = np.asarray(value.values(), dtype=np.float64)
        variances = value.variances()
        # type, edges and labels of each axis: category axes are compared by their labels
        binning = tuple((type(axis).__name__, tuple(np.asarray(axis.edges, dtype=np.float64).tolist()),
                         tuple(axis) if "Category" in type(axis).__name__ else ()) for axis in value.axes)  # fmt: skip
    except (AttributeError, TypeError):
        raise StatsError(f"{what}: expected a histogram (a booked Histo1D, a hist.Hist) or an array of bin "
                         f"contents, got {type(value).__name__}") from None  # fmt: skip
    if variances is not None:
        variances = np.asarray(variances, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(variances)) or (variances < 0).any():
            raise StatsError(f"{what} has variances that are negative or not finite")
    return contents.reshape(-1), variances, binning


def _check_rates(values: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(values)):
        raise StatsError(f"{what} has bins that are not finite: {values.tolist()}")
    negative = np.flatnonzero(values < 0)
    if len(negative):
        raise StatsError(f"{what} has negative bins {negative.tolist()} ({values[negative].tolist()}): HistFactory "
                         "expects non-negative rates; fix the weights or set those bins to zero before the fit")  # fmt: skip


@dataclass
class Sample:
    """One process in one channel, with its modifiers (methods return the sample, to chain them)."""

    channel: Channel
    name: str
    nominal: np.ndarray
    variances: np.ndarray | None  # None: not known (an array, or a histogram without weight storage)
    modifiers: list[dict] = field(default_factory=list)

    @property
    def _where(self) -> str:
        return f"sample {self.name!r} of channel {self.channel.name!r}"

    def _add(self, name: str, kind: str, data: Any) -> Sample:
        if any(m["name"] == name and m["type"] == kind for m in self.modifiers):
            raise StatsError(f"{self._where} already has the {kind} modifier {name!r}")
        # One parameter, one kind (HistFactory lets a normsys and a histosys share a name: one nuisance parameter)
        for channel in self.channel.model.channels.values():
            for sample in channel.samples.values():
                for m in sample.modifiers:
                    if m["name"] == name and m["type"] != kind and {m["type"], kind} != {"normsys", "histosys"}:
                        raise StatsError(f"{kind} {name!r} of {self._where}: {name!r} is already a {m['type']} of "
                                         f"sample {sample.name!r} of channel {channel.name!r}")  # fmt: skip
        self.modifiers.append({"name": name, "type": kind, "data": data})
        return self

    def _sigma(self, what: str) -> np.ndarray:
        if self.variances is None:
            raise StatsError(f"{what} of {self._where} needs the histogram's variances (sum of w^2), which it does not "
                             "have: book it with hepframe (Weight storage), use hist's storage=Weight(), or give the "
                             "uncertainties")  # fmt: skip
        return np.sqrt(self.variances)

    def normfactor(self, name: str, bounds: tuple[float, float] | None = None, init: float = 1.0) -> Sample:
        """A free normalisation (the parameter of interest when it is the model's ``poi``).

        ``bounds`` (default pyhf's (0, 10)) limit the fit, the hypothesis tests and the limit scans.
        """
        if bounds is not None:
            low, high = float(bounds[0]), float(bounds[1])
            if not low <= init <= high:
                raise StatsError(f"normfactor {name!r}: init {init} is outside the bounds ({low}, {high})")
            self.channel.model._set_parameter({"name": name, "bounds": [[low, high]], "inits": [float(init)]})
        return self._add(name, "normfactor", None)

    def lumi(self, name: str = "lumi") -> Sample:
        """Scale with the luminosity parameter (its value and uncertainty: :meth:`Model.luminosity`)."""
        return self._add(name, "lumi", None)

    def normsys(self, name: str, down: float, up: float) -> Sample:
        """A normalisation uncertainty: the yield times ``down`` at -1 sigma and ``up`` at +1 sigma."""
        if not (down > 0 and up > 0):
            raise StatsError(f"normsys {name!r} of {self._where}: the factors must be positive, got {down}, {up}")
        return self._add(name, "normsys", {"hi": float(up), "lo": float(down)})

    def histosys(self, name: str, up: Any, down: Any = None, symmetrize: bool = False) -> Sample:
        """A shape uncertainty from the +1 and -1 sigma histograms.

        With only ``up`` (a one-sided variation) and ``symmetrize=True``, the down template is the
        mirror image ``2 * nominal - up``, as cabinetry's ``symmetrize`` does.
        """
        hi = self._template(up, f"histosys {name!r} (up)")
        if down is None:
            if not symmetrize:
                raise StatsError(f"histosys {name!r} of {self._where}: give down=, or symmetrize=True for a one-sided "
                                 "variation")  # fmt: skip
            lo = 2 * self.nominal - hi
        else:
            lo = self._template(down, f"histosys {name!r} (down)")
        _check_rates(lo, f"histosys {name!r} (down) of {self._where}")
        return self._add(name, "histosys", {"hi_data": hi.tolist(), "lo_data": lo.tolist()})

    def normplusshape(self, name: str, up: Any, down: Any = None, symmetrize: bool = False,
                      negative: str = "error") -> Sample:  # fmt: skip
        """A variation split into its normalisation (a ``normsys``) and its shape (a ``histosys`` of the same name).

        The shape templates are the variations scaled to the nominal yield; with ``symmetrize=True``
        (only ``up`` given) the normalisation is mirrored (``lo = 2 - hi``) and so is the shape
        (``2 * nominal - up``). This is cabinetry's ``NormPlusShape`` (and TRExFitter's default), to
        the order of its floating-point operations; a one-bin channel gets only the ``normsys``.
        A mirrored template can have negative bins where the Monte Carlo is sparse. ``negative``
        says what to do with them: ``"error"`` (the default), ``"zero"`` (set them to zero) or
        ``"keep"`` (as cabinetry does: only the total expected rate of a bin must stay positive,
        which the fit checks). Either way they are listed in :attr:`Model.negative_bins`.
        """
        if negative not in ("error", "zero", "keep"):
            raise StatsError(f"normplusshape {name!r}: negative= must be 'error', 'zero' or 'keep', got {negative!r}")
        hi_data = self._template(up, f"normplusshape {name!r} (up)")
        total = sum(self.nominal.tolist())  # summed in order, as cabinetry sums
        hi = sum(hi_data.tolist()) / total
        if down is None:
            if not symmetrize:
                raise StatsError(f"normplusshape {name!r} of {self._where}: give down=, or symmetrize=True for a "
                                 "one-sided variation")  # fmt: skip
            hi_data = hi_data / hi
            lo, lo_data = 2 - hi, 2 * self.nominal - hi_data
        else:
            lo_data = self._template(down, f"normplusshape {name!r} (down)")
            lo = sum(lo_data.tolist()) / total
            hi_data, lo_data = hi_data / hi, lo_data / lo
        if not (hi > 0 and lo > 0):
            raise StatsError(f"normplusshape {name!r} of {self._where}: the variation changes the yield by factors "
                             f"{lo:.4g} (down) and {hi:.4g} (up); HistFactory needs positive ones")  # fmt: skip
        self._add(name, "normsys", {"hi": hi, "lo": lo})
        if len(self.nominal) > 1:
            below = np.flatnonzero(lo_data < 0)
            if len(below) and negative != "error":
                self.channel.model.negative_bins.append((self.channel.name, self.name, name, below.tolist()))
                lo_data = np.where(lo_data < 0, 0.0, lo_data) if negative == "zero" else lo_data
            else:
                _check_rates(lo_data, f"normplusshape {name!r} (down) of {self._where}")
            self._add(name, "histosys", {"hi_data": hi_data.tolist(), "lo_data": lo_data.tolist()})
        return self

    def variations(self, variations: Mapping[str, Any], name: str, up: str = "up", down: str = "down",
                   symmetrize: bool = False) -> Sample:  # fmt: skip
        """A histosys from a ``VariationsFor`` map: its ``"name:up"`` and ``"name:down"`` results."""
        keys = list(variations.keys())
        up_key, down_key = f"{name}:{up}", f"{name}:{down}"
        if up_key not in keys:
            raise StatsError(f"{self._where}: the variations have no {up_key!r} (available: {', '.join(keys)})")
        if down_key not in keys and not symmetrize:
            raise StatsError(f"{self._where}: the variations have no {down_key!r} (available: {', '.join(keys)}); "
                             "symmetrize=True mirrors the up variation")  # fmt: skip
        low = variations[down_key] if down_key in keys else None
        return self.histosys(name, variations[up_key], low, symmetrize=symmetrize)

    def staterror(self, name: str | None = None) -> Sample:
        """The Monte-Carlo statistical uncertainty per bin, from the histogram's variances.

        Samples of the channel with the same staterror name share one parameter per bin
        (Barlow-Beeston lite).
        """
        return self._add(name or f"staterror_{self.channel.name}", "staterror", self._sigma("staterror").tolist())

    def shapesys(self, name: str, uncertainties: Sequence[float] | None = None) -> Sample:
        """An uncorrelated per-bin uncertainty (absolute; default: the histogram's sqrt(variances))."""
        sigma = self._sigma(f"shapesys {name!r}") if uncertainties is None else np.asarray(uncertainties, dtype=np.float64)
        if sigma.shape != self.nominal.shape:
            raise StatsError(f"shapesys {name!r} of {self._where}: {sigma.size} uncertainties for {self.nominal.size} bins")
        if not np.all(np.isfinite(sigma)) or (sigma < 0).any():
            raise StatsError(f"shapesys {name!r} of {self._where}: the uncertainties must be finite and non-negative")
        return self._add(name, "shapesys", sigma.tolist())

    def _template(self, histogram: Any, what: str) -> np.ndarray:
        values, _, binning = _bins(histogram, f"{what} of {self._where}")
        self.channel._check_bins(values, binning, f"{what} of {self._where}")
        _check_rates(values, f"{what} of {self._where}")
        return values


@dataclass
class Channel:
    """A region of the fit: samples and the observed data, all with the same bins."""

    model: Model
    name: str
    samples: dict[str, Sample] = field(default_factory=dict)
    observed: np.ndarray | None = None
    binning: tuple | None = None
    nbins: int | None = None

    def _check_bins(self, values: np.ndarray, binning: tuple | None, what: str) -> None:
        """Every histogram of the channel has the same bins (an array: the same number of bins)."""
        if self.nbins is not None and len(values) != self.nbins:
            raise StatsError(f"{what}: {len(values)} bins, but the channel {self.name!r} has {self.nbins}")
        if binning is not None and self.binning is not None and binning != self.binning:
            raise StatsError(f"{what}: its bin edges (or category labels) differ from the other histograms of channel "
                             f"{self.name!r}")  # fmt: skip

    def _accept_bins(self, values: np.ndarray, binning: tuple | None) -> None:
        """Record the channel's binning from its first accepted histogram."""
        self.nbins = len(values)
        if binning is not None and self.binning is None:
            self.binning = binning

    @property
    def edges(self) -> np.ndarray | None:
        """The bin edges of the first axis (for plots), if a histogram gave them."""
        return None if self.binning is None else np.asarray(self.binning[0][1])

    def sample(self, name: str, histogram: Any) -> Sample:
        """Add the process ``name`` with its nominal histogram (contents and variances of the in-range bins)."""
        if name in self.samples:
            raise StatsError(f"channel {self.name!r} already has a sample {name!r}")
        what = f"sample {name!r} of channel {self.name!r}"
        values, variances, binning = _bins(histogram, what)
        self._check_bins(values, binning, what)
        _check_rates(values, what)
        if not values.any():
            raise StatsError(f"{what} is empty (every bin is zero): drop it, or check the selection")
        self._accept_bins(values, binning)
        self.samples[name] = Sample(self, name, values, variances)
        return self.samples[name]

    def nominal_sum(self) -> np.ndarray:
        return np.sum([s.nominal for s in self.samples.values()], axis=0)

    def data(self, histogram: Any) -> None:
        """The observed counts of the channel."""
        values, _, binning = _bins(histogram, f"data of channel {self.name!r}")
        self._check_bins(values, binning, f"data of channel {self.name!r}")
        _check_rates(values, f"data of channel {self.name!r}")
        self._accept_bins(values, binning)
        self.observed = values


def _build(workspace: Any) -> Any:
    """``workspace.model()``, with pyhf's model errors as StatsError."""
    import pyhf

    try:
        return workspace.model()
    except (pyhf.exceptions.InvalidModel, pyhf.exceptions.InvalidNameReuse, pyhf.exceptions.InvalidModifier) as exc:
        raise StatsError(f"pyhf cannot build the model: {exc}") from None


class Model:
    """A HistFactory model assembled from hepframe results (see the module doc)."""

    def __init__(self, poi: str = "mu", measurement: str = "measurement") -> None:
        self.poi, self.measurement = poi, measurement
        self.channels: dict[str, Channel] = {}
        #: (channel, sample, modifier, bins) of normplusshape templates with negative bins (kept or set to zero)
        self.negative_bins: list[tuple[str, str, str, list[int]]] = []
        self.parameters: list[dict] = []

    def channel(self, name: str) -> Channel:
        """The channel (region) ``name``, created on first use."""
        if name not in self.channels:
            self.channels[name] = Channel(self, name)
        return self.channels[name]

    def luminosity(self, value: float = 1.0, uncertainty: float = 0.0, name: str = "lumi") -> None:
        """The luminosity parameter of the samples that have a ``lumi`` modifier (relative uncertainty).

        As in HistFactory, ``value`` multiplies those samples: 1.0 for histograms already normalised to
        the data's luminosity, the luminosity itself for histograms normalised to a unit luminosity.
        """
        value, uncertainty = float(value), float(uncertainty)
        if not value > 0:
            raise StatsError(f"luminosity {name!r}: the value must be positive, got {value}")
        if not uncertainty > 0:
            raise StatsError(f"luminosity {name!r}: give its relative uncertainty (> 0), e.g. 0.017; for an exact "
                             "luminosity, scale the histograms and leave out the lumi modifiers")  # fmt: skip
        sigma = value * uncertainty
        self._set_parameter({"name": name, "auxdata": [value], "sigmas": [sigma],
                             "bounds": [[max(0.0, value - 5 * sigma), value + 5 * sigma]], "inits": [value]})  # fmt: skip

    def _set_parameter(self, config: dict) -> None:
        self.parameters = [p for p in self.parameters if p["name"] != config["name"]] + [config]

    def spec(self, asimov: bool = False) -> dict:
        """The pyhf JSON specification; ``asimov=True`` uses the expected yields where a channel has no data."""
        if not self.channels:
            raise StatsError("the model has no channel: add one with model.channel(name).sample(...)")
        channels: list[dict[str, Any]] = []
        observations: list[dict[str, Any]] = []
        for channel in self.channels.values():
            if not channel.samples:
                raise StatsError(f"channel {channel.name!r} has no sample")
            channels.append({"name": channel.name, "samples": [
                {"name": s.name, "data": s.nominal.tolist(), "modifiers": list(s.modifiers)}
                for s in channel.samples.values()]})  # fmt: skip
            observed = channel.observed
            if observed is None and not asimov:
                raise StatsError(f"channel {channel.name!r} has no data: give channel.data(...), or "
                                 "workspace(asimov=True) for the expected yields")  # fmt: skip
            # without data: placeholders, replaced below by the expected yields at the nominal parameters
            observations.append({"name": channel.name, "data": (channel.nominal_sum() if observed is None
                                                                else observed).tolist()})  # fmt: skip
        names = {m["name"] for c in channels for s in c["samples"] for m in s["modifiers"]}
        if self.poi not in names:
            raise StatsError(f"no sample has the parameter of interest {self.poi!r}: add .normfactor({self.poi!r}) "
                             "to the signal sample")  # fmt: skip
        used_lumi = {m["name"] for c in channels for s in c["samples"] for m in s["modifiers"] if m["type"] == "lumi"}
        missing = used_lumi - {p["name"] for p in self.parameters}
        if missing:
            raise StatsError(f"lumi modifier {sorted(missing)[0]!r} needs its value: model.luminosity(1.0, 0.017)")
        config = {"poi": self.poi, "parameters": [p for p in self.parameters if p["name"] in names]}
        spec = {"channels": channels, "observations": observations,
                "measurements": [{"name": self.measurement, "config": config}], "version": "1.0.0"}  # fmt: skip
        if asimov and any(c.observed is None for c in self.channels.values()):
            spec["observations"] = self._asimov(spec)
        return spec

    def _asimov(self, spec: dict) -> list[dict]:
        """Observations with the expected yields (all modifiers at their nominal values) where data is missing."""
        import pyhf

        model = _build(pyhf.Workspace(spec))
        expected = np.asarray(model.expected_actualdata(model.config.suggested_init()))
        out = []
        for obs in spec["observations"]:
            channel = self.channels[obs["name"]]
            data = obs["data"] if channel.observed is not None else expected[model.config.channel_slices[obs["name"]]].tolist()
            out.append({"name": obs["name"], "data": data})
        return out

    def workspace(self, asimov: bool = False) -> Any:
        """A ``pyhf.Workspace`` (validated against pyhf's schema)."""
        import pyhf

        try:
            workspace = pyhf.Workspace(self.spec(asimov))
        except pyhf.exceptions.InvalidSpecification as exc:
            raise StatsError(f"pyhf rejects the model: {exc}") from None
        _build(workspace)  # the model too: name clashes and inconsistent modifiers fail here, not in the fit
        return workspace

    def to_json(self, path: str | os.PathLike, asimov: bool = False) -> None:
        """Write the workspace JSON to ``path`` atomically."""
        from hepframe.datasets import atomic_path

        spec = dict(self.workspace(asimov))
        with atomic_path(path) as tmp, open(tmp, "w") as out:
            json.dump(spec, out, indent=1, sort_keys=True)


@dataclass(frozen=True)
class FitResult:
    """Best-fit values, HESSE uncertainties and correlations, by parameter name."""

    labels: tuple[str, ...]
    values: np.ndarray
    errors: np.ndarray
    correlations: np.ndarray
    twice_nll: float
    poi: str

    def value(self, name: str) -> float:
        return float(self.values[self._index(name)])

    def error(self, name: str) -> float:
        return float(self.errors[self._index(name)])

    def _index(self, name: str) -> int:
        if name not in self.labels:
            raise StatsError(f"no parameter {name!r}; the fit has {', '.join(self.labels)}")
        return self.labels.index(name)

    def to_dict(self) -> dict:
        return {"poi": self.poi, "twice_nll": self.twice_nll,
                "parameters": {n: {"value": float(v), "error": float(e)} for n, v, e in
                               zip(self.labels, self.values, self.errors, strict=True)},
                "correlations": self.correlations.tolist()}  # fmt: skip


def _model_and_data(workspace: Any) -> tuple[Any, Any]:
    model = workspace.model()
    return model, workspace.data(model)


def _backend(minuit: bool = True):
    """The numpy backend of pyhf with Minuit, or scipy's SLSQP (restored afterwards: the backend is global)."""
    import contextlib

    import pyhf

    @contextlib.contextmanager
    def using():
        backend, optimizer = pyhf.get_backend()
        chosen = pyhf.optimize.minuit_optimizer(verbose=0) if minuit else pyhf.optimize.scipy_optimizer()
        pyhf.set_backend("numpy", chosen)
        try:
            yield
        finally:
            pyhf.set_backend(backend, optimizer)

    return using()


def fit(workspace: Any) -> FitResult:
    """The maximum-likelihood fit of the workspace's model to its data."""
    import pyhf

    model, data = _model_and_data(workspace)
    with _backend():
        result, corr, twice_nll = pyhf.infer.mle.fit(data, model, return_uncertainties=True,
                                                     return_correlations=True, return_fitted_val=True)  # fmt: skip
    result = np.asarray(result)
    return FitResult(tuple(model.config.par_names), result[:, 0], result[:, 1], np.asarray(corr), float(twice_nll),
                     model.config.poi_name)  # fmt: skip


def hypotest(workspace: Any, mu: float = 1.0) -> tuple[float, list[float]]:
    """CLs of the signal strength ``mu`` (asymptotic, q~mu): (observed, expected band from -2 to +2 sigma)."""
    import pyhf

    model, data = _model_and_data(workspace)
    low, high = model.config.suggested_bounds()[model.config.poi_index]
    if not low <= mu <= high:
        raise StatsError(f"mu = {mu} is outside the bounds ({low}, {high}) of the parameter of interest "
                         f"{model.config.poi_name!r}: widen them with .normfactor({model.config.poi_name!r}, "
                         "bounds=(0, 100))")  # fmt: skip
    with _poi_bounds(model):
        observed, expected = _profiled(lambda: pyhf.infer.hypotest(mu, data, model, test_stat="qtilde",
                                                                   return_expected_set=True))  # fmt: skip
    return float(observed), [float(e) for e in expected]


def _profiled(run: Any) -> Any:
    """Run profile-likelihood fits with Minuit, or with scipy's SLSQP where Minuit fails.

    Neither converges everywhere: Minuit's HESSE fails on a parameter at its boundary (pyhf then
    stops on a missing covariance), SLSQP on some constrained models.
    """
    import pyhf

    try:
        with _backend():
            return run()
    except (pyhf.exceptions.FailedMinimization, AttributeError):
        try:
            with _backend(minuit=False):
                return run()
        except pyhf.exceptions.FailedMinimization as exc:
            raise StatsError(f"the profile-likelihood fit failed with Minuit and with SLSQP ({exc}); a model whose "
                             "expected yield vanishes in a bin with data (e.g. signal only, tested at mu = 0) "
                             "has no finite likelihood there: add the background samples") from None  # fmt: skip


def _poi_bounds(model: Any):
    """A test or scan outside the POI's bounds is a StatsError that says how to widen them."""
    import contextlib

    @contextlib.contextmanager
    def check():
        try:
            yield
        except ValueError as exc:
            if "outside of its bounds" not in str(exc):
                raise
            low, high = model.config.suggested_bounds()[model.config.poi_index]
            raise StatsError(f"the parameter of interest {model.config.poi_name!r} is bounded to ({low}, {high}): "
                             f"widen it with .normfactor({model.config.poi_name!r}, bounds=(0, 100))") from None  # fmt: skip

    return check()


def upper_limit(workspace: Any, level: float = 0.05, scan: Sequence[float] | None = None) -> tuple[float, list[float]]:
    """The CLs upper limit on the parameter of interest at ``1 - level`` (default 95%): observed, expected band."""
    import pyhf

    model, data = _model_and_data(workspace)
    with _poi_bounds(model):
        observed, expected = _profiled(lambda: pyhf.infer.intervals.upper_limits.upper_limit(
            data, model, scan=None if scan is None else np.asarray(scan), level=level))
    return float(observed), [float(e) for e in expected]


# -- after the fit: ranking and plots ------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """How much the POI moves when one parameter is fixed at its post-fit value +- its uncertainty."""

    parameter: str
    pull: float  # (post-fit - nominal) / pre-fit width; nan for unconstrained parameters
    up: float  # POI shift with the parameter fixed at value + error
    down: float  # ... at value - error


def _constraints(model: Any) -> dict[str, tuple[float, float]]:
    """Nominal value and pre-fit width of every constrained parameter, by label (``name[i]`` per bin)."""
    out: dict[str, tuple[float, float]] = {}
    for name in model.config.parameters:
        pset = model.config.param_set(name)
        if not getattr(pset, "constrained", False):
            continue
        widths = pset.width()
        labels = [name] if pset.n_parameters == 1 else [f"{name}[{i}]" for i in range(pset.n_parameters)]
        for label, nominal, width in zip(labels, pset.suggested_init, widths, strict=True):
            out[label] = (float(nominal), float(width))
    return out


def ranking(workspace: Any, result: FitResult | None = None) -> list[Impact]:
    """The post-fit impact of each nuisance parameter on the POI, largest first (two refits each)."""
    import pyhf

    model, data = _model_and_data(workspace)
    result = result if result is not None else fit(workspace)
    poi = model.config.poi_index
    bounds = model.config.suggested_bounds()
    fixed = list(model.config.suggested_fixed())
    constraints = _constraints(model)
    impacts = []
    for i, label in enumerate(result.labels):
        if i == poi or fixed[i]:
            continue
        shifts = []
        for sign in (1.0, -1.0):
            init = result.values.copy()
            init[i] = min(max(init[i] + sign * result.errors[i], bounds[i][0]), bounds[i][1])
            fix = list(fixed)
            fix[i] = True
            with _backend(minuit=False):  # values only: scipy's SLSQP (Minuit's HESSE can fail at a fixed boundary)
                pars = pyhf.infer.mle.fit(data, model, init_pars=init.tolist(), fixed_params=fix)
            shifts.append(float(np.asarray(pars)[poi]) - float(result.values[poi]))
        nominal, width = constraints.get(label, (float("nan"), float("nan")))
        impacts.append(Impact(label, (float(result.values[i]) - nominal) / width, shifts[0], shifts[1]))
    return sorted(impacts, key=lambda x: -max(abs(x.up), abs(x.down)))


def _pyplot() -> Any:
    """matplotlib.pyplot (matplotlib picks Agg itself where there is no display: batch jobs, CI)."""
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: str | os.PathLike) -> None:
    """Write a matplotlib figure atomically, in the format of ``path``'s extension."""
    import matplotlib.pyplot as plt

    from hepframe.datasets import atomic_path

    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=suffix)
    plt.close(figure)


def plot_pulls(result: FitResult, workspace: Any, path: str | os.PathLike) -> None:
    """The pull plot: each constrained parameter's (post-fit - nominal) / pre-fit width, with its post-fit error."""
    plt = _pyplot()
    constraints = _constraints(workspace.model())
    labels = [label for label in result.labels if label in constraints]
    if not labels:
        raise StatsError("the model has no constrained parameter to show in a pull plot")
    pulls = [(result.value(n) - constraints[n][0]) / constraints[n][1] for n in labels]
    errors = [result.error(n) / constraints[n][1] for n in labels]
    figure, axes = plt.subplots(figsize=(6, 1 + 0.35 * len(labels)))
    y = np.arange(len(labels))
    axes.axvspan(-2, 2, color="yellow", alpha=0.4)
    axes.axvspan(-1, 1, color="limegreen", alpha=0.4)
    axes.errorbar(pulls, y, xerr=errors, fmt="o", color="black")
    axes.set_yticks(y, labels)
    axes.set_xlabel(r"$(\hat{\theta} - \theta_0) / \Delta\theta$")
    axes.set_xlim(-3, 3)
    figure.tight_layout()
    _save(figure, path)


def plot_yields(model: Model, channel: str, path: str | os.PathLike, result: FitResult | None = None) -> None:
    """The stacked samples of ``channel`` with the data and a data/model ratio, before the fit or after ``result``."""
    import hist

    from hepframe.plotting import plot

    if channel not in model.channels:
        raise StatsError(f"no channel {channel!r}; the model has {', '.join(model.channels)}")
    region = model.channels[channel]
    workspace = model.workspace(asimov=region.observed is None)
    pdf = workspace.model()
    pars = pdf.config.suggested_init() if result is None else result.values
    # expected yields per sample and bin, at the parameters (pyhf: main model, sample by sample)
    expected = np.asarray(pdf.main_model.expected_data(np.asarray(pars), return_by_sample=True))
    names = pdf.config.samples
    bins = pdf.config.channel_slices[channel]
    nbins = region.nbins or 0
    edges = region.edges
    numbered = edges is None or len(edges) != nbins + 1  # an array, or a flattened 2D histogram: bin numbers
    edges = np.arange(nbins + 1) if numbered or edges is None else edges

    def histogram(values: np.ndarray, variances: np.ndarray) -> hist.Hist:
        h = hist.Hist(hist.axis.Variable(edges), storage=hist.storage.Weight())
        h[...] = np.stack([values, variances], axis=-1)
        return h

    # the model's yields carry no statistical uncertainty here (zero variance: no band); data: sqrt(N)
    samples = {s: histogram(expected[names.index(s)][bins], np.zeros(nbins)) for s in region.samples}
    observed = None if region.observed is None else histogram(region.observed, region.observed)
    figure = plot(samples, stack=True, data=observed, title=";;events")
    figure.axes[0].set_title(f"{channel}: {'post-fit' if result is not None else 'pre-fit'}")  # as text, not TLatex
    figure.axes[-1].set_xlabel("bin" if numbered else "")  # the model keeps no axis title
    _save(figure, path)
