"""The observed points x^(n), validated once and kept in the layout the kernels want."""

from functools import cached_property

import numpy as np

from .validation import check_data, check_magnitude


class Dataset:
    """Points x^(1..N) in R^D.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), read-only
    XT : ndarray of shape (n_features, n_samples), C-contiguous, read-only
        Transposed copy so kernels stream along samples.
    """

    def __init__(self, X):
        X = check_data(X)
        self.X = X.copy()
        self.X.setflags(write=False)
        self.XT = np.ascontiguousarray(self.X.T)
        self.XT.setflags(write=False)
        check_magnitude(self.XT.min(axis=1), self.XT.max(axis=1), self.n_samples)

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    def __len__(self):
        return self.n_samples

    @cached_property
    def blocks(self):
        """The points in k-means' block order (``_blocks.PointBlocks``), built on first use.

        Kept here, not per run: every k-means run on these points shares them,
        so a restart (a centre dragged in the window) does not sort again.
        """
        import numba

        from ._blocks import PointBlocks
        return PointBlocks(self.XT, numba.get_num_threads())

    def mean_variance(self):
        """Average per-feature variance (EM's default initial spread)."""
        return float(self.X.var(axis=0).mean())
