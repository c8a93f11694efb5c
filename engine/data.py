"""The observed points x^(n), validated once and kept in the layout the kernels want."""

import numpy as np

from .validation import check_data


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

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    def __len__(self):
        return self.n_samples

    def mean_variance(self):
        """Average per-feature variance (EM's default initial spread)."""
        return float(self.X.var(axis=0).mean())
