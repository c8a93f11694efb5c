"""Soft k-means with stiffness beta: responsibility step and refitting step.

r_k^(n) = softmax_k(-beta ||m_k - x^(n)||^2).  Alternating minimisation of the
free energy F = sum r ||x - m||^2 + (1/beta) sum r log r: the responsibility
step minimises F over r (the softmax is its exact minimiser), the refit over m,
so F never increases.  The lecture's weighted J is reported too.

It is the E/M pair of a Gaussian mixture with fixed covariance I/(2 beta) and
equal weights, so it shares EM's kernel.
"""

import numpy as np

from . import _kernels
from .algorithm import ChunkMoments, GaussianKernelAlgorithm, PassStatistics
from .description import AlgorithmDescription, Objective
from .settings import check_setting
from .snapshot import Snapshot


class SoftKMeans(GaussianKernelAlgorithm):
    """Soft k-means.

    Parameters
    ----------
    beta : float > 0, default 1.0
        Stiffness; huge beta behaves like k-means, tiny beta like one blob.
    max_iter : int, default 300
    tol : float, default 1e-6
        Converged when the relative change of F over an iteration is below tol (0: never).
    """

    description = AlgorithmDescription(
        name="soft-kmeans", display_name="soft k-means",
        responsibility_phase="assign", responsibility_title="Assignment step",
        refit_phase="refit", refit_title="Refitting step",
        objectives=(Objective("free_energy", "F", "free energy F", "F = J + (1/β) Σ r log r",
                              direction=-1),
                    Objective("cost", "J", "weighted J", "J = Σ r ‖x − m‖²")))
    setting_names = ("beta", "max_iter", "tol")

    def __init__(self, beta=1.0, max_iter=300, tol=1e-6):
        super().__init__(max_iter=max_iter, tol=tol)
        self.beta = check_setting("beta", beta)

    def kernel_parameters(self, snapshot):
        K, D = snapshot.centres.shape
        chol_prec = np.broadcast_to(np.sqrt(2.0 * self.beta) * np.eye(D), (K, D, D)).copy()
        return np.ascontiguousarray(snapshot.centres), chol_prec, np.zeros(K)

    def responsibility_pass(self, data, snapshot, workspace, readout=None):
        from .validation import check_pass_finite
        ref, chol_prec, log_coef = self.kernel_parameters(snapshot)
        counts, sums, anchors, res, piece_sq, _, quad, log_likelihood, neg_entropy = (
            _kernels.gaussian_chunk_pass(data.XT, ref, chol_prec, log_coef, False, 1.0 / (2.0 * self.beta),
                                         *(readout or _kernels.NO_READOUT)))
        sq = quad / (2.0 * self.beta)  # quad = sum r * 2 beta ||x - m||^2
        check_pass_finite(
            (log_likelihood, sums, sq, neg_entropy),
            f"beta * ||x - m||^2 overflows float64 for points far from every centre (beta = {self.beta:g}); "
            "lower beta or rescale the data")
        return PassStatistics(counts=counts.sum(axis=0), sums=sums, sq=sq, ref=ref, neg_entropy=neg_entropy,
                              pieces=ChunkMoments(counts, anchors, res, piece_sq))

    def _objectives(self, stats, centres):
        cost = stats.sq_about(centres).sum()
        return cost, cost + stats.neg_entropy / self.beta

    def responsibility_step(self, stats, previous, iteration):
        cost, free_energy = self._objectives(stats, previous.centres)
        return Snapshot(
            index=previous.index + 1, phase="assign", iteration=iteration,
            centres=previous.centres, counts=stats.counts, cost=cost, free_energy=free_energy,
            empty=np.flatnonzero(stats.counts == 0))

    def refit_step(self, stats, previous):
        """m_k = sum_n r_k^(n) x^(n) / sum_n r_k^(n); a cluster with no mass keeps m_k."""
        centres = stats.ref + stats.shifts()
        cost, free_energy = self._objectives(stats, centres)
        return Snapshot(
            index=previous.index + 1, phase="refit", iteration=previous.iteration,
            centres=centres, counts=stats.counts, cost=cost, free_energy=free_energy,
            empty=np.flatnonzero(stats.counts == 0))
