"""k-means (Lloyd): assignment step and refitting step, as in the lecture.

J = sum_n sum_k r_k^(n) ||m_k - x^(n)||^2 with one-hot r^(n).
"""

import numpy as np

from . import _blocks, _kernels
from .algorithm import Algorithm, PassStatistics
from .description import AlgorithmDescription, Objective
from .snapshot import Snapshot


class KMeans(Algorithm):
    """Hard k-means.

    Converged when an assignment step changes no label.  An empty cluster
    keeps its previous centre and is listed in the snapshot's ``empty``.

    Parameters
    ----------
    max_iter : int, default 300
    tol : float, default 1e-6
        Unused by k-means' own test (labels unchanged); kept for a uniform surface.
    """

    description = AlgorithmDescription(
        name="kmeans", display_name="k-means",
        responsibility_phase="assign", responsibility_title="Assignment step",
        refit_phase="refit", refit_title="Refitting step",
        objectives=(Objective("cost", "J", "cost J", "J = Σ r ‖x − m‖²", direction=-1),))
    hard = True

    def new_workspace(self, data):
        return _Assignments(data)

    def responsibility_pass(self, data, snapshot, workspace):
        ref = np.ascontiguousarray(snapshot.centres)
        return workspace.assign(ref)

    def responsibility_step(self, stats, previous, iteration):
        """Assignment step: r^(n) one-hot at argmin_k ||m_k - x^(n)||^2; centres unchanged."""
        return Snapshot(
            index=previous.index + 1, phase="assign", iteration=iteration,
            centres=previous.centres, counts=stats.counts, cost=stats.sq.sum(),
            changed=stats.changed, empty=np.flatnonzero(stats.counts == 0))

    def refit_step(self, stats, previous):
        """Refitting step: m_k = sum_n r_k^(n) x^(n) / sum_n r_k^(n)."""
        centres = stats.ref + stats.shifts()
        return Snapshot(
            index=previous.index + 1, phase="refit", iteration=previous.iteration,
            centres=centres, counts=stats.counts, cost=stats.sq_about(centres).sum(),
            empty=np.flatnonzero(stats.counts == 0))

    def converged_after_responsibility(self, stats, iteration):
        return iteration > 1 and stats.changed == 0

    def converged_after_refit(self, previous_objective, objective):
        return False

    def responsibilities(self, data, snapshot, dtype=np.float64):
        labels = self.labels(data, snapshot)
        out = np.zeros((data.n_samples, snapshot.n_clusters), dtype=dtype)
        out[np.arange(data.n_samples), labels] = 1
        return out

    def labels(self, data, snapshot):
        labels = np.empty(data.n_samples, dtype=np.int32)
        min_sq = np.empty(data.n_samples)
        _kernels.nearest_centre(data.XT, np.ascontiguousarray(snapshot.centres), labels, min_sq)
        return labels


class _Assignments:
    """A k-means run's working memory: labels and running cluster sums over the data's blocks.

    The assignment step is exact Lloyd; the blocks (``Dataset.blocks``, shared
    by every run on the same points) only let it skip distance computations
    that cannot change a label.  O(N) memory, outside the history.
    """

    def __init__(self, data):
        self.blocks = data.blocks
        self.labels = np.full(data.n_samples, -1, dtype=np.int32)  # in block order
        self.block_label = np.full(self.blocks.n_blocks, _blocks.NOT_ASSIGNED, dtype=np.int32)
        self.stats = None  # (K, D + 2) once K is known

    def assign(self, centres):
        K, D = centres.shape
        b = self.blocks
        if self.stats is None:
            self.stats = np.zeros((K, D + 2))
        changed = _blocks.block_assignment_pass(b.XS, b.box_min, b.box_max, b.block_sums, b.offset,
                                                centres, self.block_label, self.labels, self.stats)
        counts = self.stats[:, 0].copy()
        s1 = self.stats[:, 1:D + 1]
        s2 = self.stats[:, D + 1]
        d = centres - b.offset
        sums = s1 - counts[:, None] * d
        sq = s2 - 2.0 * np.einsum("kd,kd->k", d, s1) + counts * np.einsum("kd,kd->k", d, d)
        # an empty cluster's sums are exactly zero, whatever rounding the updates left
        empty = counts == 0
        sums[empty] = 0.0
        sq[empty] = 0.0
        return PassStatistics(counts=counts, sums=sums, sq=np.maximum(sq, 0.0), ref=centres,
                              changed=int(changed))
