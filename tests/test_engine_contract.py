"""The engine and data-source contracts (issue #17, first part): what the core may rely on.

Engines are found by name without the core importing them, a new engine needs only the declared
base class, and the core distinguishes batch from distributed engines by class, not by attributes.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from hepframe.connectors.base import DataSource
from hepframe.connectors.memory import TableSource

import hepframe
from hepframe.engines.base import (
    BatchEngine,
    DistributedEngine,
    Engine,
    available_engines,
    engine_class,
    get_engine,
    register_engine,
)
from hepframe.engines.reference_engine import ReferenceEngine
from hepframe.errors import UnsupportedOperationError
from hepframe.expr.types import CType


def test_the_core_imports_no_engine_it_does_not_use() -> None:
    code = (
        "import sys, hepframe\n"
        "from hepframe.connectors.memory import TableSource\n"
        "import pyarrow as pa\n"
        "from hepframe.expr.types import CType\n"
        "s = TableSource('t', pa.table({'x': [1.0, 2.0]}), {'x': CType.from_dtype('float64')})\n"
        "assert hepframe.RDataFrame.from_source(s).Sum('x').GetValue() == 3.0\n"
        "print(sorted(m for m in sys.modules if m.startswith('hepframe.engines.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip()
    assert "polars_engine" in loaded and "spark_engine" not in loaded and "reference_engine" not in loaded


def test_engines_have_one_of_two_declared_kinds() -> None:
    assert {"gpu", "polars", "reference", "spark"} <= set(available_engines())
    assert issubclass(engine_class("gpu"), BatchEngine)  # its class, without a GPU
    assert isinstance(get_engine("polars"), BatchEngine) and isinstance(get_engine("reference"), BatchEngine)
    spark = get_engine("spark", npartitions=3)
    assert isinstance(spark, DistributedEngine) and not isinstance(spark, BatchEngine)
    assert isinstance(spark.batch_engine(), BatchEngine) and spark.npartitions == 3  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedOperationError, match=r"unknown engine 'gpux'; available: gpu, polars, reference, spark"):
        get_engine("gpux")
    with pytest.raises(UnsupportedOperationError, match="does not take the options"):
        get_engine("polars", npartitions=2)
    with pytest.raises(UnsupportedOperationError, match="Range is not supported on the spark engine"):
        spark.check_verb("Range")


def test_a_new_engine_plugs_in_by_subclassing_only() -> None:
    """An engine defined outside hepframe, registered by name: the core runs it unchanged."""

    @register_engine
    class CountingEngine(ReferenceEngine):
        name = "counting-test"
        frames = 0

        def make_frame(self, batch):  # type: ignore[no-untyped-def]
            type(self).frames += 1
            return super().make_frame(batch)

    source = TableSource("t", pa.table({"x": np.arange(10.0)}), {"x": CType.from_dtype("float64")}, step_size=4)
    df = hepframe.RDataFrame.from_source(source, engine="counting-test")
    assert df.Filter("x > 2").Define("y", "x * 2").Sum("y").GetValue() == 2 * sum(range(3, 10))
    assert CountingEngine.frames == 3
    assert "counting-test" in available_engines()
    assert df.explain().startswith("engine: counting-test")


def test_sources_share_one_declared_contract(tiny_file: str) -> None:
    root = hepframe.RDataFrame("Events", tiny_file)._analysis.root.source
    table = TableSource("t", pa.table({"x": [1, 2]}), {"x": CType.from_dtype("int64")})
    for source in (root, table):
        assert isinstance(source, DataSource)
        assert source.find_column(next(iter(source.schema))) is not None
    table.allow_missing("x")  # every entry has every column: nothing to do
    assert not table.optional_columns()
    root.allow_missing("MET_pt")
    assert "MET_pt" in root.optional_columns()
    assert issubclass(ReferenceEngine, Engine)
