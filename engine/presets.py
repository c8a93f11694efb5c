"""Teaching scenarios: mixtures to sample, with a suggested K and starting centres, and Old Faithful."""

from pathlib import Path

import numpy as np

from .formats import load_points
from .sampling import Mixture


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
    X = load_points(OLD_FAITHFUL)
    return (X - X.mean(axis=0)) / X.std(axis=0)


PRESET_NAMES = tuple(PRESETS) + ("old-faithful",)
