"""A 2-D (or D-dimensional) Gaussian mixture to draw points from."""

from dataclasses import dataclass

import numpy as np

from .validation import check_centres, check_covariances, check_positive_int, check_weights


@dataclass(frozen=True, eq=False)
class Mixture:
    """True components pi_k, mu_k, Sigma_k of a mixture to sample.

    weights : (K,), means : (K, D), covariances : (K, D, D)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        means = check_centres(self.means, np.asarray(self.means).shape[-1], "means")
        K, D = means.shape
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "weights", check_weights(self.weights, K))
        object.__setattr__(self, "covariances", check_covariances(self.covariances, K, D))

    def __eq__(self, other):
        """Same components, number for number (a preset reloaded from a session equals the preset)."""
        if not isinstance(other, Mixture):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f))
                   for f in ("weights", "means", "covariances"))

    __hash__ = None

    @property
    def n_components(self):
        return self.means.shape[0]

    def to_dict(self):
        return {"weights": self.weights.tolist(), "means": self.means.tolist(),
                "covariances": self.covariances.tolist()}

    @classmethod
    def from_dict(cls, spec):
        """A Mixture from ``{"weights": (K,), "means": (K, D), "covariances": (K, D, D)}``.

        Any malformed spec (not an object, keys missing, ragged or deeply nested lists,
        strings, numbers too large for a float, wrong shapes) raises one ValueError.
        """
        if not isinstance(spec, dict):
            raise ValueError("mixture spec needs weights, means and covariances (an object, got "
                             f"{type(spec).__name__})")
        missing = [key for key in ("weights", "means", "covariances") if key not in spec]
        if missing:
            raise ValueError(f"mixture spec needs weights, means and covariances (missing "
                             f"{', '.join(missing)})")
        arrays = {}
        for key, ndims, shape in (("weights", (1,), "(K,)"), ("means", (2,), "(K, D)"),
                                  ("covariances", (2, 3), "(K, D, D)")):
            value = spec[key]
            if not isinstance(value, (list, tuple, np.ndarray)):
                raise ValueError(f"{key} must be a list of numbers of shape {shape}, got "
                                 f"{type(value).__name__}")
            try:
                arr = np.asarray(value, dtype=np.float64)
            except OverflowError:
                raise ValueError(f"{key} hold a number too large for a float") from None
            except (TypeError, ValueError, RecursionError):
                raise ValueError(f"{key} must be numbers in nested lists of equal lengths, shape "
                                 f"{shape}") from None
            if arr.ndim not in ndims:
                raise ValueError(f"{key} must have shape {shape}, got {arr.shape}")
            arrays[key] = arr
        K, D = arrays["means"].shape
        if K == 0 or D == 0:
            raise ValueError(f"means must have shape (K, D) with K, D >= 1, got {(K, D)}")
        return cls(arrays["weights"], arrays["means"], arrays["covariances"])

    def sample(self, n_samples, seed=None):
        """Draw N points: (X of shape (n_samples, D), z of shape (n_samples,) component of each)."""
        n = check_positive_int(n_samples, "n")
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n, self.weights)
        z = np.repeat(np.arange(self.n_components), counts)
        X = np.empty((n, self.means.shape[1]))
        start = 0
        for k, c in enumerate(counts):
            L = np.linalg.cholesky(self.covariances[k])
            X[start:start + c] = self.means[k] + rng.standard_normal((c, L.shape[0])) @ L.T
            start += c
        order = rng.permutation(n)
        return X[order], z[order]
