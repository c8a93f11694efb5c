"""The algorithms ClusterLab knows, by name: adding one is one module and one line here."""

from .gmm import GaussianMixtureEM
from .kmeans import KMeans
from .settings import AlgorithmSettings
from .soft_kmeans import SoftKMeans
from .validation import check_choice

ALGORITHMS = {cls.description.name: cls for cls in (KMeans, SoftKMeans, GaussianMixtureEM)}
ALGORITHM_NAMES = tuple(ALGORITHMS)
DEFAULT_ALGORITHM = ALGORITHM_NAMES[0]


def check_algorithm(name):
    return check_choice(name, ALGORITHM_NAMES, "algorithm")


def describe(name):
    """The ``AlgorithmDescription`` of the algorithm called ``name``."""
    return ALGORITHMS[check_algorithm(name)].description


def make_algorithm(name, settings=None):
    """The algorithm ``name`` built from the ``AlgorithmSettings`` that apply to it."""
    cls = ALGORITHMS[check_algorithm(name)]
    return cls(**(settings or AlgorithmSettings()).for_algorithm(cls))
