"""ClusterLab's window: views over one session model; no maths here."""

import os

# numba's OpenMP threads spin for a while after every parallel kernel (libgomp's default);
# on a two-core laptop that spinning took the core the UI thread paints on (playing 1e5
# points: 36 -> 47 frames/s without it). Read once, when the first parallel kernel loads
# OpenMP: here, before any of the window's kernels runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
