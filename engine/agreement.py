"""How well a clustering finds the true components z of sampled points.

The lecture's generative model draws each point's component z^(n) first, then
x^(n) from it.  When the points were sampled, z is known, and a fit can be
scored against it: the adjusted Rand index (1 for the same partition up to a
renaming of the clusters, about 0 for a random one) and the confusion table of
true components against the most responsible cluster.  ``true_responsibilities``
gives p(z | x) under the true mixture, the lecture's third panel.
"""

from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .description import INIT_PHASE
from .gmm import GaussianMixtureEM
from .snapshot import Snapshot

# A true component index is below this: the confusion table stays small whatever a file says
# (the window's mixtures have a handful of components).
MAX_TRUE_COMPONENTS = 1000


def check_truth(truth, n_points, what="truth"):
    """z^(n) for ``n_points`` points as a read-only int32 array, or ValueError naming ``what``.

    Takes an integer ndarray or a list of Python ints (a JSON file's): floats (even 1.0),
    booleans, strings, nested lists, negative values and values from
    ``MAX_TRUE_COMPONENTS`` up are refused.
    """
    if isinstance(truth, np.ndarray):
        if truth.dtype.kind not in "iu":
            raise ValueError(f"{what} must hold integers, got {truth.dtype} values")
        values = truth
    elif isinstance(truth, (list, tuple)):
        bad = next((v for v in truth if type(v) is not int), None)  # a bool is an int: refused too
        if bad is not None:
            raise ValueError(f"{what} must hold integers (component numbers), got {bad!r}")
        try:
            values = np.array(truth, dtype=np.int64)
        except OverflowError:
            raise ValueError(f"{what} holds a number too large for a component") from None
    else:
        # every bad input is one ValueError (engine.validation), a wrong type too
        raise ValueError(f"{what} must be a list of component numbers, got {type(truth).__name__}")  # noqa: TRY004
    if values.ndim != 1 or len(values) != n_points:
        raise ValueError(f"{what} must hold one component number per point ({n_points}), "
                         f"got {values.shape[0] if values.ndim else 0}")
    if len(values) and (values.min() < 0 or values.max() >= MAX_TRUE_COMPONENTS):
        raise ValueError(f"{what} must hold component numbers from 0 to {MAX_TRUE_COMPONENTS - 1}, "
                         f"got {int(values.min()) if values.min() < 0 else int(values.max())}")
    out = values.astype(np.int32)
    out.setflags(write=False)
    return out


def _labels(labels, what):
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"{what} must be a 1-D array of integers")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{what} must be non-negative")
    return labels.astype(np.int64, copy=False)


def confusion_matrix(truth, labels, n_true, n_clusters):
    """Counts C[i, k] of points with true component i and label k: ndarray (n_true, n_clusters), int64.

    Every point is counted once, so C.sum() == N.  ValueError when a value is out of range.
    """
    truth, labels = _labels(truth, "truth"), _labels(labels, "labels")
    if truth.shape != labels.shape:
        raise ValueError(f"truth and labels must have the same length, got {len(truth)} and {len(labels)}")
    if len(truth) and (truth.max() >= n_true or labels.max() >= n_clusters):
        raise ValueError(f"truth must be below {n_true} and labels below {n_clusters}")
    cells = np.bincount(truth * n_clusters + labels, minlength=n_true * n_clusters)
    return cells.reshape(n_true, n_clusters)


def _compact(labels):
    """Labels renumbered 0..L-1 (cheap when they already are small numbers)."""
    if not len(labels) or labels.max() < 4 * len(labels) + 64:
        return labels, int(labels.max()) + 1 if len(labels) else 0
    values, inverse = np.unique(labels, return_inverse=True)
    return inverse, len(values)


def adjusted_rand_index(truth, labels):
    """Adjusted Rand index of two partitions of the same N points (Hubert & Arabie, 1985).

    Counts pairs of points: tp together in both, fn together in the truth only,
    fp together in the labels only, tn apart in both; then
    ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)),
    1.0 when the partitions agree pair for pair (scikit-learn's definition).  Exact:
    the pair counts are integers, combined in Python's unbounded ints.
    """
    truth, labels = _labels(truth, "truth"), _labels(labels, "labels")
    if truth.shape != labels.shape:
        raise ValueError(f"truth and labels must have the same length, got {len(truth)} and {len(labels)}")
    truth, n_true = _compact(truth)
    labels, n_labels = _compact(labels)
    table = confusion_matrix(truth, labels, n_true, n_labels)
    return _ari_from_table(table)


def _pairs(counts):
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _ari_from_table(table):
    n = int(table.sum())
    tp = _pairs(table)
    same_truth, same_labels = _pairs(table.sum(axis=1)), _pairs(table.sum(axis=0))
    fn, fp = same_truth - tp, same_labels - tp
    tn = n * (n - 1) // 2 - tp - fn - fp
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


@dataclass(frozen=True)
class Agreement:
    """The truth against a clustering at one half-step.

    adjusted_rand_index : float
    confusion : ndarray of shape (n_true, n_clusters), int64: points of true component i
        whose most responsible cluster is k
    """

    adjusted_rand_index: float
    confusion: np.ndarray

    @property
    def n_points(self):
        return int(self.confusion.sum())


def agreement(truth, labels, n_true, n_clusters):
    """``Agreement`` of z (values below ``n_true``) with labels (below ``n_clusters``)."""
    table = confusion_matrix(truth, labels, n_true, n_clusters)
    table.setflags(write=False)
    return Agreement(_ari_from_table(table), table)


def n_true_components(truth, mixture=None):
    """Rows of the confusion table: the mixture's components, more if z names more (a component
    removed from the mixture after sampling); 0 when z is unknown."""
    if truth is None:
        return 0
    most = int(np.max(truth)) + 1 if len(truth) else 0
    return max(most, mixture.n_components if mixture is not None else 0)


def agreement_at(algorithm, data, snapshot, truth, n_true):
    """``Agreement`` of z with the most responsible cluster under ``snapshot``'s parameters,
    or None for an initialisation (no responsibilities yet).  ``data``: a Dataset."""
    if snapshot.phase == INIT_PHASE:
        return None
    labels = algorithm.labels(data, snapshot)
    return agreement(truth, labels, n_true, snapshot.n_clusters)


def true_responsibilities(mixture, points, dtype=np.float32):
    """p(z = k | x^(n)) under ``mixture`` (the E-step's formula with the true parameters):
    ndarray of shape (N, K).  ``points``: a Dataset, or an array (N, D) checked here."""
    data = points if isinstance(points, Dataset) else Dataset(points)
    D = data.n_features
    if mixture.means.shape[1] != D:
        raise ValueError(f"the mixture is {mixture.means.shape[1]}-D, the points {D}-D")
    snapshot = Snapshot(index=0, phase=INIT_PHASE, iteration=0, centres=mixture.means,
                        weights=mixture.weights, covariances=mixture.covariances)
    # reg_covar 0: the true covariances as they are (they are positive definite)
    return GaussianMixtureEM(covariance_type="full", reg_covar=0.0).responsibilities(data, snapshot, dtype)
