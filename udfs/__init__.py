"""Vectorized kernels over Arrow-style jagged buffers (offsets + flat values).

Every engine wraps the same kernels in its own batch mechanism (Polars ``map_batches``,
Spark ``mapInArrow``, CuPy on a GPU). The kernels are compiled with numba and reproduce
ROOT's VecOps arithmetic exactly: element types are kept (float32 stays float32) and the
<cmath> calls are the C library's, as in ROOT.
"""

from hepframe.udfs import _numba_cache  # noqa: F401 - first: a writable numba cache before any @njit(cache=True)
from hepframe.udfs.jagged import reduce_max, reduce_mean, reduce_min, reduce_sum
from hepframe.udfs.kinematics import delta_phi, delta_r, invariant_mass

__all__ = ["delta_phi", "delta_r", "invariant_mass", "reduce_max", "reduce_mean", "reduce_min", "reduce_sum"]
