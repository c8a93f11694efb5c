"""Initial centres: Forgy, random in the bounding box, k-means++ (manual centres need none).

All take a seed and give the same centres for the same seed and data.
"""

import numpy as np

from .data import Dataset
from .validation import check_choice, check_n_clusters

INIT_METHODS = ("forgy", "random", "kmeans++")


def _data(data):
    return data if isinstance(data, Dataset) else Dataset(data)


def forgy(data, n_clusters, seed=None):
    """K distinct data points chosen at random: ndarray of shape (n_clusters, n_features)."""
    data = _data(data)
    k = check_n_clusters(n_clusters, data.n_samples)
    rng = np.random.default_rng(seed)
    return data.X[rng.choice(data.n_samples, size=k, replace=False)].copy()


def random_uniform(data, n_clusters, seed=None):
    """K points uniform in the data's bounding box."""
    data = _data(data)
    k = check_n_clusters(n_clusters, data.n_samples)
    rng = np.random.default_rng(seed)
    low, high = data.X.min(axis=0), data.X.max(axis=0)
    return low + rng.random((k, data.n_features)) * (high - low)


def kmeans_plus_plus(data, n_clusters, seed=None):
    """k-means++ (Arthur & Vassilvitskii): each next centre drawn with probability ~ D(x)^2."""
    data = _data(data)
    k = check_n_clusters(n_clusters, data.n_samples)
    rng = np.random.default_rng(seed)
    N = data.n_samples
    centres = np.empty((k, data.n_features))
    centres[0] = data.X[rng.integers(N)]
    # plain numpy, no parallel kernel: the window calls this from its UI thread
    # while the engine worker may be running parallel kernels
    min_sq = ((data.X - centres[0]) ** 2).sum(axis=1)
    for i in range(1, k):
        total = min_sq.sum()
        if total > 0:
            idx = int(np.searchsorted(np.cumsum(min_sq), rng.random() * total, side="right"))
            idx = min(idx, N - 1)
        else:  # every point already sits on a centre (duplicates)
            idx = int(rng.integers(N))
        centres[i] = data.X[idx]
        new_sq = ((data.X - centres[i]) ** 2).sum(axis=1)
        np.minimum(min_sq, new_sq, out=min_sq)
    return centres


def initial_centres(method, data, n_clusters, seed=None):
    """Dispatch on ``method`` in INIT_METHODS."""
    check_choice(method, INIT_METHODS, "init")
    return {"forgy": forgy, "random": random_uniform, "kmeans++": kmeans_plus_plus}[method](
        data, n_clusters, seed)
