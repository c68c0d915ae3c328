"""IRIS-HEP ADL benchmark queries on hepframe, ROOT's RDataFrame and plain awkward (see run.py)."""
