"""What the three algorithms share: parameters, the pass statistics, convergence.

Each algorithm is two half-steps.  The first (assignment / E-step) is one pass
over the data that yields ``PassStatistics``; the second (refit / M-step) works
on those statistics alone: O(K D^2) per chunk of the data, not per point.  Only
where that would cancel (a k-means centre that jumped far past its cluster's
width, an EM covariance too ill-conditioned for tr(Sigma^-1 S)) does it look
at the data again: k-means at its blocks and boundary points, EM with a pass.
"""

import abc
from dataclasses import dataclass

import numpy as np

from . import _kernels
from .description import INIT_PHASE
from .settings import check_setting
from .snapshot import Snapshot
from .validation import check_centres


# Where sq - 2 d . sums + n ||d||^2 is a sum of terms at most this many times its
# result, the rounding it costs stays far below 1e-10 of it; beyond, k-means asks
# the labels for the exact figure.
_WELL_CONDITIONED = 16.0


@dataclass
class ChunkMoments:
    """A pass's moments per piece of the data (chunk), each about its own anchor.

    counts : (P, K) sum r per piece; anchors : (P, K, D) a point by the piece's
    weighted points; res : (P, K, D) sum r (x - a); sq : (P, K) sum r ||x - a||^2;
    outer : (P, K, D, D) or None, sum r (x - a)(x - a)^T.  Moving every piece
    to a point c separately (Chan et al.'s pairwise combination) gives the
    moments about c exactly, however far c is from where the pass started.
    """

    counts: np.ndarray
    anchors: np.ndarray
    res: np.ndarray
    sq: np.ndarray
    outer: np.ndarray = None

    def sq_about(self, centres):
        return _kernels.moments_about(self.counts, self.anchors, self.res, self.sq,
                                      np.ascontiguousarray(centres, dtype=np.float64))

    def scatter_about(self, centres):
        return _kernels.scatter_about(self.counts, self.anchors, self.res, self.outer,
                                      np.ascontiguousarray(centres, dtype=np.float64))


@dataclass
class PassStatistics:
    """Sufficient statistics of one responsibility half-step.

    Sums are taken relative to the centres/means the pass was given (``ref``),
    which keeps them exact to rounding wherever the data sit.  The moments
    about other centres (the refit's) are exact too: from ``pieces`` (soft
    k-means, EM), or from the parallel-axis theorem where that is well
    conditioned and else from ``exact_sq_about`` (k-means' labels).

    counts : (K,) N_k = sum_n r_k^(n)
    sums : (K, D) sum_n r_k^(n) (x^(n) - ref_k)
    sq : (K,) sum_n r_k^(n) ||x^(n) - ref_k||^2
    outer : (K, D, D) or None, sum_n r_k^(n) (x - ref_k)(x - ref_k)^T
    log_likelihood : float or None, sum_n log sum_k exp(log joint)
    neg_entropy : float, sum_n sum_k r log r (0 for hard assignments)
    changed : int or None, labels changed (k-means)
    ref : (K, D) the centres the pass used
    pieces : ChunkMoments or None, the same moments per piece of the data
    exact_sq_about : callable or None, (centres, which) -> (K,) sum_n r_k ||x - c_k||^2
        measured from the data for the k with ``which[k]`` (k-means' workspace)
    quad : (K,) or None, sum_n r_k^(n) ||A_k (x^(n) - ref_k)||^2 under the pass's precisions
    exact_quad : callable or None, (means, chol_prec) -> (K,) the same under other parameters,
        measured by another pass over the data (EM, where the scatter is too ill-conditioned)
    """

    counts: np.ndarray
    sums: np.ndarray
    sq: np.ndarray
    ref: np.ndarray
    outer: np.ndarray = None
    log_likelihood: float = None
    neg_entropy: float = 0.0
    changed: int = None
    pieces: ChunkMoments = None
    exact_sq_about: object = None
    quad: np.ndarray = None
    exact_quad: object = None

    def shifts(self):
        """delta_k = mean of cluster k minus ref_k; zero for an empty cluster."""
        counts = self.counts[:, None]
        return np.divide(self.sums, counts, out=np.zeros_like(self.sums), where=counts > 0)

    def sq_about(self, centres):
        """sum_n r_k^(n) ||x^(n) - c_k||^2 for each k, exact to rounding for any c_k."""
        if self.pieces is not None:
            return self.pieces.sq_about(centres)
        d = centres - self.ref
        cross = 2.0 * np.einsum("kd,kd->k", d, self.sums)
        move = self.counts * np.einsum("kd,kd->k", d, d)
        sq = self.sq - cross + move
        if self.exact_sq_about is not None:
            # the parallel-axis theorem cancels when c_k moved far compared with the cluster's width
            cancels = ~(self.sq + np.abs(cross) + move <= _WELL_CONDITIONED * sq)
            if cancels.any():
                sq = np.where(cancels, self.exact_sq_about(centres, cancels), sq)
        return sq

    def scatter_about(self, centres):
        """sum_n r_k^(n) (x^(n) - c_k)(x^(n) - c_k)^T for each k: ndarray of shape (K, D, D)."""
        if self.pieces is not None:
            return self.pieces.scatter_about(centres)
        d = centres - self.ref
        return (self.outer - np.einsum("ki,kj->kij", self.sums, d) - np.einsum("ki,kj->kij", d, self.sums)
                + self.counts[:, None, None] * np.einsum("ki,kj->kij", d, d))


class Algorithm(abc.ABC):
    """An algorithm as two half-steps; subclasses fill in the hooks and a ``description``.

    A run calls, per iteration: ``responsibility_pass`` (one pass over the
    data) then ``responsibility_step`` (its snapshot), and ``refit_step`` (the
    parameters from the pass statistics alone).  ``responsibilities`` and
    ``labels`` recompute the per-point view of any snapshot on demand.
    """

    description = None  # AlgorithmDescription
    setting_names = ("max_iter", "tol")  # the AlgorithmSettings fields the constructor takes
    # Whether the refit's own objective needs a pass over the data (EM's
    # log-likelihood of the new parameters); the run then keeps that pass for
    # the next E-step, so an iteration still reads the data once.
    refit_needs_pass = False
    hard = False  # one-hot responsibilities

    def __init__(self, max_iter=300, tol=1e-6):
        self.max_iter = check_setting("max_iter", max_iter)
        self.tol = check_setting("tol", tol)

    def settings(self):
        return {name: getattr(self, name) for name in self.setting_names}

    # -- hooks ---------------------------------------------------------------
    def new_workspace(self, data):
        """Per-run working memory kept between passes (k-means' labels); None if not needed."""
        return None

    def initial_snapshot(self, data, centres, weights=None, covariances=None):
        """Half-step 0: the initial centres m_k (only EM also takes weights and covariances)."""
        if weights is not None or covariances is not None:
            raise ValueError(f"{self.description.display_name} takes no initial weights or covariances")
        return Snapshot(index=0, phase=INIT_PHASE, iteration=0,
                        centres=check_centres(centres, data.n_features))

    @abc.abstractmethod
    def responsibility_pass(self, data, snapshot, workspace, readout=None):
        """One pass over the data under ``snapshot``'s parameters: ``PassStatistics``.

        ``readout``: an optional pair (colours (K, 3), out (n_samples,) uint32) that an
        algorithm with soft responsibilities fills with sum_k r_k^(n) colours[k], packed
        0xFFRRGGBB, on the way (``Run.keep_readout``); hard algorithms ignore it.
        """

    @abc.abstractmethod
    def responsibility_step(self, stats, previous, iteration):
        """The snapshot after the assignment / E-step of ``iteration``."""

    @abc.abstractmethod
    def refit_step(self, stats, previous):
        """The snapshot after the refit / M-step, from the pass statistics alone."""

    @abc.abstractmethod
    def responsibilities(self, data, snapshot, dtype=np.float64):
        """r_k^(n) under ``snapshot``'s parameters: ndarray of shape (n_samples, n_clusters)."""

    # -- shared ----------------------------------------------------------------
    def objective(self, snapshot):
        return self.description.objective(snapshot)

    def converged_after_responsibility(self, stats, iteration):
        return False

    def converged_after_refit(self, previous_objective, objective):
        """Relative change of the objective below ``tol``: strictly, so that tol = 0 never stops a
        run early (as scikit-learn's GaussianMixture), even where the objective repeats exactly."""
        if previous_objective is None or objective is None:
            return False
        scale = max(abs(previous_objective), np.finfo(float).tiny)
        return abs(objective - previous_objective) < self.tol * scale

    def labels(self, data, snapshot):
        """Most responsible cluster for each point: ndarray of shape (n_samples,), int32."""
        return np.argmax(self.responsibilities(data, snapshot, dtype=np.float32), axis=1).astype(np.int32)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


class GaussianKernelAlgorithm(Algorithm):
    """Soft k-means and EM: responsibilities are a softmax of Gaussian log joints, one kernel."""

    @abc.abstractmethod
    def kernel_parameters(self, snapshot):
        """(means (K, D), Cholesky factors of the precisions (K, D, D), log coefficients (K,))."""

    def responsibilities(self, data, snapshot, dtype=np.float64):
        out = np.empty((data.n_samples, snapshot.n_clusters), dtype=dtype)
        _kernels.gaussian_responsibilities(data.XT, *self.kernel_parameters(snapshot), out)
        return out

