"""Input checks: every bad input becomes one ValueError that names the problem.

The kernels assume finite, contiguous float64 arrays of consistent shapes; these
functions are the only door into them.
"""

import numbers

import numpy as np


def _as_float_array(value, what):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numeric") from None
    return arr


def _first_non_finite(arr):
    bad = np.argwhere(~np.isfinite(arr))
    return tuple(int(i) for i in bad[0])


def check_finite(arr, what):
    if not np.all(np.isfinite(arr)):
        where = _first_non_finite(arr)
        raise ValueError(f"{what} contain NaN or infinite values (first at index {where})")


def check_data(X):
    """Validated copy-free view of data: ndarray of shape (n_samples, n_features), float64."""
    X = _as_float_array(X, "data")
    if X.ndim != 2:
        raise ValueError(f"data must be a 2-D array (n_samples, n_features), got {X.ndim} dimension(s)")
    if X.shape[0] == 0:
        raise ValueError("data are empty: no points")
    if X.shape[1] == 0:
        raise ValueError("data have no features (0 columns)")
    check_finite(X, "data")
    return np.ascontiguousarray(X)


def check_n_clusters(k, n_samples):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"K must be an integer, got {k!r}")
    if k < 1:
        raise ValueError(f"K must be at least 1, got {k}")
    if k > n_samples:
        raise ValueError(f"K={k} is larger than the number of points N={n_samples}")
    return int(k)


def check_centres(centres, n_features, what="centres"):
    """ndarray of shape (n_clusters, n_features)."""
    C = _as_float_array(centres, what)
    if C.ndim == 1 and n_features == 1:
        C = C[:, None]
    if C.ndim != 2 or C.shape[1] != n_features:
        raise ValueError(f"{what} must have shape (K, {n_features}), got {C.shape}")
    if C.shape[0] == 0:
        raise ValueError(f"{what}: need at least one centre")
    check_finite(C, what)
    return np.array(C, dtype=np.float64, order="C")


def check_positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_choice(value, options, what):
    if value not in options:
        raise ValueError(f"{what} must be one of {', '.join(options)}; got {value!r}")
    return value


def check_weights(weights, n_components):
    """Mixing weights pi_k: shape (K,), positive, summing to 1."""
    w = _as_float_array(weights, "weights")
    if w.shape != (n_components,):
        raise ValueError(f"weights must have shape ({n_components},), got {w.shape}")
    check_finite(w, "weights")
    if np.any(w <= 0):
        raise ValueError("weights must all be positive")
    if abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(f"weights must sum to 1, they sum to {w.sum():.6g}")
    return w / w.sum()


def check_covariances(covariances, n_components, n_features):
    """Covariances Sigma_k: shape (K, D, D), symmetric positive definite."""
    S = _as_float_array(covariances, "covariances")
    if S.ndim == 2 and S.shape == (n_features, n_features):
        S = np.broadcast_to(S, (n_components, n_features, n_features))
    if S.shape != (n_components, n_features, n_features):
        raise ValueError(
            f"covariances must have shape ({n_components}, {n_features}, {n_features}), got {S.shape}")
    check_finite(S, "covariances")
    S = np.array(S, dtype=np.float64, order="C")
    for k in range(n_components):
        if not np.allclose(S[k], S[k].T, rtol=1e-8, atol=1e-12):
            raise ValueError(f"covariance {k} is not symmetric")
        try:
            np.linalg.cholesky(S[k])
        except np.linalg.LinAlgError:
            raise ValueError(f"covariance {k} is not positive definite") from None
    return S


# Room under the largest double for J's formulas (the parallel-axis shift adds
# a few sums of N squared distances) and for sums of N coordinates.
_MAX_SUM = float(np.finfo(np.float64).max) / 16.0


def check_magnitude(low, high, n_points, what="data"):
    """Refuse points whose squared distances cannot be represented in float64.

    low, high : (D,), the bounding box of everything distances are taken
    between (the data, or the data and the centres together); n_points : N,
    how many squared distances a sum such as J adds up.  Any squared distance
    is at most sum_j (high_j - low_j)^2; N times that, and N times the largest
    |coordinate|, must stay well below the largest double.
    """
    low = [float(v) for v in np.ravel(low)]
    high = [float(v) for v in np.ravel(high)]
    biggest = max(max(abs(v) for v in low), max(abs(v) for v in high))
    span_sq = 0.0
    for lo, hi in zip(low, high):
        width = hi - lo  # Python floats: overflow gives inf, no warning
        span_sq += width * width
    if not n_points * span_sq <= _MAX_SUM:
        raise ValueError(f"{what}: coordinates up to {biggest:.3g}: squared distances would overflow "
                         "float64; rescale the data")
    if not n_points * biggest <= _MAX_SUM:
        raise ValueError(f"{what}: coordinates up to {biggest:.3g}: sums over {n_points} points would "
                         "overflow float64; rescale the data")


def check_pass_finite(statistics, message):
    """Refuse a pass over the data whose statistics left float64.

    ``statistics``: the pass's sums and log-likelihood.  A point too far from
    every centre (beta * ||x - m||^2 or a Mahalanobis distance overflowing) has
    a log density of -inf; ``message`` says what to change.
    """
    for value in statistics:
        if not np.all(np.isfinite(value)):
            raise ValueError(message)
