"""What every data source gives the core: named, typed columns read in batches in entry order.

Sources: ROOT files (:class:`~hepframe.connectors.root.RootSource`), an in-memory Arrow table
(:class:`~hepframe.connectors.memory.TableSource`), Parquet files, dataset specs. The executor
and the engines use only what this class declares.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence, Set
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hepframe.connectors.root import Batch

    from hepframe.expr.types import CType


class DataSource(ABC):
    """A dataset of typed columns. Subclasses set ``tree``, ``files`` and ``schema`` (fields or properties)."""

    if TYPE_CHECKING:  # fields of some sources, properties of others

        @property
        def tree(self) -> str:
            """The dataset's name (a TTree's, or a label), for messages and Snapshot."""

        @property
        def files(self) -> list[str]: ...

        @property
        def schema(self) -> dict[str, CType]:
            """Column names and their C++ types."""
    #: Threads that read (decompress) in parallel; None: one per CPU.
    threads: int | None = None

    @property
    @abstractmethod
    def num_entries(self) -> int: ...

    @abstractmethod
    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        """Batches holding only ``columns``, in entry order (global entries ``entry_range`` only)."""

    def find_column(self, name: str) -> CType | None:
        """The type of ``name``, also where the first file lacks it (None: no such column anywhere)."""
        return self.schema.get(name)

    def allow_missing(self, name: str) -> None:  # noqa: B027 - a hook: most sources need nothing
        """Let ``name`` be missing in some entries (DefaultValueFor, FilterAvailable, FilterMissing).

        Sources whose every entry has every column need nothing.
        """

    def read_plan(self, columns: Iterable[str]) -> list[str]:
        """How ``columns`` are read, a line per reader, for ``explain()``; [] where there is one way."""
        return []

    def optional_columns(self) -> Set[str]:
        """The columns allowed to be missing (their values are nulls where they are)."""
        return frozenset()
