"""ClusterLab's engine: k-means, soft k-means and EM as half-steps (numpy + numba, no Qt)."""

from .algorithm import Algorithm, PassStatistics
from .data import Dataset
from .description import AlgorithmDescription, Objective
from .gmm import GaussianMixtureEM
from .kmeans import KMeans
from .registry import ALGORITHM_NAMES, ALGORITHMS, describe, make_algorithm
from .run import Run
from .scenario import Scenario
from .settings import COVARIANCE_TYPES, AlgorithmSettings, DisplayOptions
from .snapshot import Snapshot
from .soft_kmeans import SoftKMeans

__all__ = ["ALGORITHMS", "ALGORITHM_NAMES", "Algorithm", "AlgorithmDescription", "AlgorithmSettings",
           "COVARIANCE_TYPES", "Dataset", "DisplayOptions", "GaussianMixtureEM", "KMeans", "Objective",
           "PassStatistics", "Run", "Scenario", "Snapshot", "SoftKMeans", "describe", "make_algorithm"]
