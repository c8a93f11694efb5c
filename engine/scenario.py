"""A scenario: the points, the algorithm with its settings, and the initial parameters.

It is what the command line, the window and a saved session all describe, and
``Scenario.start()`` turns it into a ``Run``.
"""

from dataclasses import dataclass, field

import numpy as np

from .initialisation import initial_centres
from .registry import DEFAULT_ALGORITHM, make_algorithm
from .run import Run
from .settings import DEFAULT_INIT, DEFAULT_N_CLUSTERS, DEFAULT_SEED, AlgorithmSettings


@dataclass
class Scenario:
    """Everything needed to reproduce a run.

    points : (N, D), or a Dataset (reused as it is: its checks and k-means' point
    blocks are not redone for every run); centres : (K, D) initial m_k / mu_k, or None to draw them with
    ``init`` and ``seed``; weights (K,) and covariances (K, D, D) optional, EM only.
    """

    points: np.ndarray
    algorithm: str = DEFAULT_ALGORITHM
    settings: AlgorithmSettings = field(default_factory=AlgorithmSettings)
    centres: np.ndarray = None
    weights: np.ndarray = None
    covariances: np.ndarray = None
    n_clusters: int = DEFAULT_N_CLUSTERS
    init: str = DEFAULT_INIT
    seed: int = DEFAULT_SEED

    @classmethod
    def of_session(cls, points, centres, algorithm, settings, init, seed):
        """What a session describes: its placed centres, or none (drawn with ``init`` then).

        The points are passed through uncopied, so the engine worker can tell
        that they did not change and keep their Dataset.
        """
        placed = len(centres) > 0
        return cls(points=points, algorithm=algorithm, settings=settings,
                   centres=np.array(centres, dtype=np.float64) if placed else None,
                   n_clusters=max(len(centres), 1), init=init, seed=seed)

    def make_algorithm(self):
        return make_algorithm(self.algorithm, self.settings)

    def initial_centres(self):
        if self.centres is not None:
            return np.asarray(self.centres, dtype=np.float64)
        return initial_centres(self.init, self.points, self.n_clusters, self.seed)

    def start(self):
        """A fresh ``Run`` at its initialisation."""
        return Run(self.make_algorithm(), self.points, self.initial_centres(),
                   weights=self.weights, covariances=self.covariances)
