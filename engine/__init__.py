"""ClusterLab's engine: k-means, soft k-means and EM as half-steps (numpy + numba, no Qt)."""

from .algorithm import Algorithm, PassStatistics
from .data import Dataset
from .gmm import COVARIANCE_TYPES, GaussianMixtureEM
from .kmeans import KMeans
from .run import Run
from .snapshot import PHASES, Snapshot
from .soft_kmeans import SoftKMeans

ALGORITHMS = {"kmeans": KMeans, "soft-kmeans": SoftKMeans, "em": GaussianMixtureEM}

__all__ = ["ALGORITHMS", "Algorithm", "COVARIANCE_TYPES", "Dataset", "GaussianMixtureEM",
           "KMeans", "PHASES", "PassStatistics", "Run", "Snapshot", "SoftKMeans"]
