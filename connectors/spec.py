"""Multi-sample datasets from ROOT's RDatasetSpec JSON (``FromSpec``), with per-sample metadata.

Each sample has trees, files and a metadata dictionary. Numeric metadata values become
columns ``sample_<key>`` (constant within a sample), usable in any expression, e.g.
``"sample_xsec * sample_lumi / sample_sumw"``. ``DefinePerSample`` computes a column from the
sample's :class:`SampleInfo` once per sample.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from hepframe.connectors.base import DataSource
from hepframe.connectors.root import DEFAULT_STEP_SIZE, Batch, RootSource

from hepframe.errors import AnalysisError, DataSourceError
from hepframe.expr.types import BOOL, DOUBLE, LONG, CType


@dataclass(frozen=True)
class SampleInfo:
    """What DefinePerSample callables receive (ROOT's RSampleInfo spelling also works)."""

    name: str
    metadata: dict[str, Any]

    def GetSampleName(self) -> str:  # noqa: N802
        return self.name

    def GetD(self, key: str) -> float:  # noqa: N802
        return float(self._get(key))

    def GetI(self, key: str) -> int:  # noqa: N802
        return int(self._get(key))

    def GetS(self, key: str) -> str:  # noqa: N802
        return str(self._get(key))

    def _get(self, key: str) -> Any:
        try:
            return self.metadata[key]
        except KeyError:
            raise AnalysisError(f"sample {self.name!r} has no metadata {key!r}; it has {sorted(self.metadata)}") from None


@dataclass
class Sample:
    name: str
    tree: str
    files: list[str]
    metadata: dict[str, Any]


def _metadata_type(values: list[Any]) -> CType | None:
    if all(isinstance(v, bool) for v in values):
        return BOOL
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return LONG
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return DOUBLE
    return None  # strings and mixed types stay metadata only


@dataclass
class DatasetSource(DataSource):
    samples: list[Sample]
    step_size: int = DEFAULT_STEP_SIZE
    sample_columns: dict[str, tuple[CType, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.samples:
            raise DataSourceError("the dataset spec has no samples")
        self.sources = [RootSource.open(s.tree, s.files, self.step_size) for s in self.samples]
        keys = sorted({k for s in self.samples for k in s.metadata})
        for key in keys:
            values = [s.metadata.get(key) for s in self.samples]
            t = _metadata_type([v for v in values if v is not None])
            if t is not None and all(v is not None for v in values):
                self.sample_columns[f"sample_{key}"] = (t, {s.name: s.metadata[key] for s in self.samples})

    @property
    def tree(self) -> str:
        return self.samples[0].tree

    @property
    def files(self) -> list[str]:
        return [f for s in self.sources for f in s.files]

    @property
    def schema(self) -> dict[str, CType]:
        schema = dict(self.sources[0].schema)
        for other, sample in zip(self.sources[1:], self.samples[1:], strict=True):
            for name, t in other.schema.items():
                if name in schema and schema[name] != t:
                    raise DataSourceError(
                        f"branch {name!r} is {schema[name].short} in sample {self.samples[0].name!r} but {t.short} "
                        f"in sample {sample.name!r}"
                    )
        schema.update({name: t for name, (t, _) in self.sample_columns.items()})
        return schema

    @property
    def num_entries(self) -> int:
        return sum(s.num_entries for s in self.sources)

    def infos(self) -> list[SampleInfo]:
        return [SampleInfo(s.name, dict(s.metadata)) for s in self.samples]

    def allow_missing(self, name: str) -> None:
        self.optional.add(name)

    def optional_columns(self) -> set[str]:
        return self.optional

    @property
    def optional(self) -> set[str]:
        """Branches that may be missing in some samples' files (shared with every sample's reader)."""
        shared = self.sources[0].optional
        for source in self.sources[1:]:
            source.optional = shared
        return shared

    def find_column(self, name: str) -> CType | None:
        for source in self.sources:
            found = source.find_column(name)
            if found is not None:
                for other in self.sources:
                    other.schema.setdefault(name, found)
                return found
        return None

    def add_sample_column(self, name: str, ctype: CType, values: dict[str, Any]) -> None:
        self.sample_columns[name] = (ctype, values)

    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        constant = [c for c in columns if c in self.sample_columns]
        branches = [c for c in columns if c not in self.sample_columns]
        offset = 0
        schema = self.schema
        for sample, source in zip(self.samples, self.sources, strict=True):
            n = source.num_entries
            local = None
            if entry_range is not None:  # global entries across the samples, in spec order
                local = (min(max(entry_range[0] - offset, 0), n), min(max(entry_range[1] - offset, 0), n))
                if local[1] <= local[0]:
                    offset += n
                    continue
            for name in branches:  # an optional branch this sample lacks entirely: nulls, typed as elsewhere
                if name in self.optional and name not in source.schema:
                    source.schema[name] = schema[name]
            for batch in source.iter_batches(branches, entry_range=local):
                table = batch.table
                for name in constant:
                    t, values = self.sample_columns[name]
                    array = np.full(table.num_rows, values[sample.name], dtype=t.scalar.dtype)
                    table = table.append_column(name, pa.array(array))
                yield Batch(offset + batch.entry_start, table, batch.file)
            offset += n


def load_spec(spec: dict | str | os.PathLike) -> list[Sample]:
    """Samples from an RDatasetSpec dict, JSON text or JSON file."""
    if not isinstance(spec, dict):
        text = str(spec)
        if os.path.exists(text):
            with open(text) as f:
                text = f.read()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnalysisError(f"the dataset spec is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise AnalysisError(f"the dataset spec must be a JSON object with 'samples', got {type(spec).__name__}")
    samples_spec = spec.get("samples")
    if not isinstance(samples_spec, dict) or not samples_spec:
        raise AnalysisError("the dataset spec needs a 'samples' object: {\"samples\": {\"name\": {\"trees\": [...], \"files\": [...]}}}")
    samples = []
    for name, body in samples_spec.items():
        if not isinstance(body, dict):
            raise AnalysisError(f"sample {name!r} must be an object with 'trees', 'files' and optional 'metadata'")
        trees = body.get("trees") or []
        files = body.get("files") or []
        metadata = body.get("metadata") or {}
        if isinstance(trees, str) or isinstance(files, str):
            raise AnalysisError(f"sample {name!r}: 'trees' and 'files' must be lists of strings")
        if not isinstance(metadata, dict):
            raise AnalysisError(f"sample {name!r}: 'metadata' must be an object")
        if not trees or not files:
            raise AnalysisError(f"sample {name!r} needs 'trees' and 'files'")
        if len(set(trees)) != 1:
            raise AnalysisError(f"sample {name!r}: different tree names per file are not supported yet")
        samples.append(Sample(name, trees[0], list(files), dict(metadata)))
    return samples
