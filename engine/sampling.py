"""A 2-D (or D-dimensional) Gaussian mixture to draw points from, and presets for teaching."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validation import check_centres, check_covariances, check_positive_int, check_weights


@dataclass(frozen=True)
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

    @property
    def n_components(self):
        return self.means.shape[0]

    def to_dict(self):
        return {"weights": self.weights.tolist(), "means": self.means.tolist(),
                "covariances": self.covariances.tolist()}

    @classmethod
    def from_dict(cls, spec):
        try:
            return cls(spec["weights"], spec["means"], spec["covariances"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"mixture spec needs weights, means and covariances ({exc})") from None

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


def _rot(deg, sx, sy):
    t = np.deg2rad(deg)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return R @ np.diag([sx * sx, sy * sy]) @ R.T


# name -> (description, mixture, suggested K, suggested initial centres or None)
PRESETS = {
    "blobs": ("Three well-separated round blobs",
              Mixture([1 / 3, 1 / 3, 1 / 3], [[-4.0, -2.0], [4.0, -2.0], [0.0, 4.0]],
                      [np.eye(2) * 0.8] * 3), 3, None),
    "unequal": ("Unequal sizes and widths: one wide heavy cluster, two small tight ones",
                Mixture([0.7, 0.15, 0.15], [[-1.5, 0.0], [3.5, 2.5], [3.5, -2.5]],
                        [np.eye(2) * 3.0, np.eye(2) * 0.15, np.eye(2) * 0.15]), 3, None),
    "anisotropic": ("Stretched, tilted clusters: k-means cuts across them, full-covariance EM does not",
                    Mixture([0.5, 0.5], [[0.0, 1.2], [0.0, -1.2]],
                            [_rot(15, 3.0, 0.35), _rot(15, 3.0, 0.35)]), 2, None),
    "local-optimum": ("Four blobs in a row; two starting centres in the left blob and one between "
                      "the middle pair leave k-means stuck with one centre for two blobs",
                      Mixture([0.25] * 4, [[-9.0, 0.0], [-2.0, 0.0], [2.0, 0.0], [9.0, 0.0]],
                              [np.eye(2) * 0.3] * 4), 4,
                      np.array([[-9.5, 0.5], [-8.5, -0.5], [0.0, 0.8], [9.0, 0.0]])),
}

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
OLD_FAITHFUL = RESOURCES / "old_faithful.csv"


def old_faithful():
    """Old Faithful eruptions (duration, waiting), standardised per column: (272, 2)."""
    from .formats import load_points
    X = load_points(OLD_FAITHFUL)
    return (X - X.mean(axis=0)) / X.std(axis=0)


PRESET_NAMES = tuple(PRESETS) + ("old-faithful",)
