"""Data sources: ROOT files read with uproot and streamed as Arrow record batches."""

from hepframe.connectors.memory import TableSource
from hepframe.connectors.root import Batch, Partition, RootSource, resolve_files

__all__ = ["Batch", "Partition", "RootSource", "TableSource", "resolve_files"]
