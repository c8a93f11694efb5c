"""A scenario: the points, the algorithm with its settings, and the initial parameters.

It is what the command line, the window and a saved session all describe, and
``Scenario.start()`` turns it into a ``Run``.
"""

from dataclasses import dataclass, field

import numpy as np

from .gmm import GaussianMixtureEM
from .initialisation import initial_centres
from .kmeans import KMeans
from .run import Run
from .soft_kmeans import SoftKMeans
from .validation import check_choice

ALGORITHM_NAMES = ("kmeans", "soft-kmeans", "em")


def make_algorithm(name, beta=1.0, covariance_type="full", reg_covar=1e-6, learn_weights=True,
                   max_iter=300, tol=1e-6):
    """The algorithm object for ``name`` with the settings that apply to it."""
    check_choice(name, ALGORITHM_NAMES, "algorithm")
    if name == "kmeans":
        return KMeans(max_iter=max_iter, tol=tol)
    if name == "soft-kmeans":
        return SoftKMeans(beta=beta, max_iter=max_iter, tol=tol)
    return GaussianMixtureEM(covariance_type=covariance_type, reg_covar=reg_covar,
                             learn_weights=learn_weights, max_iter=max_iter, tol=tol)


@dataclass
class Scenario:
    """Everything needed to reproduce a run.

    points : (N, D), or a Dataset (reused as it is: its checks and k-means' point
    blocks are not redone for every run); centres : (K, D) initial m_k / mu_k, or None to draw them with
    ``init`` and ``seed``; weights (K,) and covariances (K, D, D) optional, EM only.
    """

    points: np.ndarray
    algorithm: str = "kmeans"
    settings: dict = field(default_factory=dict)
    centres: np.ndarray = None
    weights: np.ndarray = None
    covariances: np.ndarray = None
    n_clusters: int = 3
    init: str = "kmeans++"
    seed: int = 0

    def make_algorithm(self):
        return make_algorithm(self.algorithm, **self.settings)

    def initial_centres(self):
        if self.centres is not None:
            return np.asarray(self.centres, dtype=np.float64)
        return initial_centres(self.init, self.points, self.n_clusters, self.seed)

    def start(self):
        """A fresh ``Run`` at its initialisation."""
        return Run(self.make_algorithm(), self.points, self.initial_centres(),
                   weights=self.weights if self.algorithm == "em" else None,
                   covariances=self.covariances if self.algorithm == "em" else None)
