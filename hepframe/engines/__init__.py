"""Execution engines: each compiles the typed IR to its own computations (see base.py)."""

from hepframe.engines.base import BatchEngine, DistributedEngine, Engine, Support, available_engines, get_engine

__all__ = ["BatchEngine", "DistributedEngine", "Engine", "Support", "available_engines", "get_engine"]
