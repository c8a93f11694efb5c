"""Initial centres: Forgy, random in the bounding box, k-means++ (manual centres need none).

All take a seed and give the same centres for the same seed and data.
"""

import numpy as np
from numba import njit, prange

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
    first, u = kmeans_plus_plus_draws(data.n_samples, k, seed)
    centres = np.empty((k, data.n_features))
    d2_sampling(data.XT, first, u, centres, *d2_scratch(data.n_samples))
    return centres


def kmeans_plus_plus_draws(n_samples, n_clusters, seed):
    """The random numbers k-means++ takes from ``seed``: the first centre's index, then one
    uniform per further centre (the same draws, in the same order, as one rng.random() each)."""
    rng = np.random.default_rng(seed)
    return int(rng.integers(n_samples)), rng.random(n_clusters - 1)


_CHUNK = 1024  # points per partial sum of D(x)^2: a draw finds its chunk first, then its point


def d2_scratch(n_samples):
    """Working memory of ``d2_sampling`` for N points: (min_sq, chunk_sums, q)."""
    return np.empty(n_samples), np.empty(-(-n_samples // _CHUNK)), np.empty(n_samples)


@njit(cache=True, nogil=True)
def d2_sampling(XT, first, u, centres, min_sq, chunk_sums, q):
    """k-means++'s centres into ``centres`` (K, D): centre 0 is point ``first``; centre i the
    first point at which the running sum of D(x)^2 (squared distance to the nearest centre so
    far) exceeds u[i - 1] times its total; point u[i - 1] N when every D(x) is 0 (duplicates).

    Serial, no parallel kernel: the window calls it from its UI thread while the engine
    worker may be running parallel kernels.  Each chunk's sum is taken over four interleaved
    partial sums (fast, and the same on every machine).
    """
    D, N = XT.shape
    K = centres.shape[0]
    min_sq[:] = np.inf
    idx = first
    for i in range(K):
        for j in range(D):
            centres[i, j] = XT[j, idx]
        if i == K - 1:
            break
        # D(x)^2 with the new centre (feature by feature: the loops vectorise), chunk sums
        q[:] = 0.0
        for j in range(D):
            x = XT[j]
            cj = centres[i, j]
            for n in range(N):
                t = x[n] - cj
                q[n] += t * t
        for n in range(N):
            m = min_sq[n]
            min_sq[n] = min(m, q[n])
        total = 0.0
        for c in range(chunk_sums.shape[0]):
            start = c * _CHUNK
            stop = min(N, start + _CHUNK)
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            n = start
            while n + 4 <= stop:
                a0 += min_sq[n]
                a1 += min_sq[n + 1]
                a2 += min_sq[n + 2]
                a3 += min_sq[n + 3]
                n += 4
            while n < stop:
                a0 += min_sq[n]
                n += 1
            chunk_sums[c] = (a0 + a1) + (a2 + a3)
            total += chunk_sums[c]
        if not total > 0.0:  # every point already sits on a centre
            idx = min(int(u[i] * N), N - 1)
            continue
        threshold = u[i] * total
        # the chunk where the running sum passes the threshold (the last one with any weight
        # if rounding leaves the sum just short), then the point in it
        running = 0.0
        before = 0.0
        chosen = -1
        for c in range(chunk_sums.shape[0]):
            if chunk_sums[c] > 0.0:
                chosen = c
                before = running
                running += chunk_sums[c]
                if running > threshold:
                    break
        running = before
        start = chosen * _CHUNK
        stop = min(N, start + _CHUNK)
        idx = -1
        for n in range(start, stop):
            if min_sq[n] > 0.0:
                idx = n
                running += min_sq[n]
                if running > threshold:
                    break
    return centres


def initial_centres(method, data, n_clusters, seed=None):
    """Dispatch on ``method`` in INIT_METHODS."""
    check_choice(method, INIT_METHODS, "init")
    return {"forgy": forgy, "random": random_uniform, "kmeans++": kmeans_plus_plus}[method](
        data, n_clusters, seed)


@njit(parallel=True, cache=True, nogil=True)
def _d2_sampling_many(XT, firsts, us, centres):
    for r in prange(centres.shape[0]):
        N = XT.shape[1]
        d2_sampling(XT, firsts[r], us[r], centres[r], np.empty(N),
                    np.empty(-(-N // _CHUNK)), np.empty(N))


def kmeans_plus_plus_many(data, n_clusters, seeds):
    """``kmeans_plus_plus(data, n_clusters, s)`` for each s in ``seeds``, several at once
    (a parallel kernel: for the engine worker or the command line, not the UI thread).
    Returns ndarray of shape (len(seeds), n_clusters, n_features)."""
    data = _data(data)
    k = check_n_clusters(n_clusters, data.n_samples)
    draws = [kmeans_plus_plus_draws(data.n_samples, k, s) for s in seeds]
    centres = np.empty((len(seeds), k, data.n_features))
    _d2_sampling_many(data.XT, np.array([f for f, _ in draws], dtype=np.int64),
                      np.array([u for _, u in draws]).reshape(len(seeds), k - 1), centres)
    return centres
