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

    def responsibility_pass(self, data, snapshot, workspace, readout=None):
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
    """A k-means run's working memory: labels over the data's blocks.

    The assignment step is exact Lloyd; the blocks (``Dataset.blocks``, shared
    by every run on the same points) only let it skip distance computations
    that cannot change a label.  Each pass recombines the cluster statistics
    about the centres it was given from the blocks' own (no running sums that
    could drift), so J and the refit are exact wherever the clusters sit.
    O(N) memory, outside the history.
    """

    def __init__(self, data):
        self.blocks = data.blocks
        self.labels = np.full(data.n_samples, -1, dtype=np.int32)  # in block order
        self.block_label = np.full(self.blocks.n_blocks, _blocks.NOT_ASSIGNED, dtype=np.int32)
        self.generation = 0  # passes so far: a pass's statistics may ask the labels of that pass only
        # the data's bounding box, from the blocks' boxes (O(n_blocks D); transposed: numpy
        # reduces a C-ordered (n, 2) array along axis 0 some 20 times slower)
        self.low = np.ascontiguousarray(self.blocks.box_min.T).min(axis=1)
        self.high = np.ascontiguousarray(self.blocks.box_max.T).max(axis=1)

    def assign(self, centres):
        K, D = centres.shape
        b = self.blocks
        if not (np.all(centres >= self.low) and np.all(centres <= self.high)):
            # outside the data's box (which the Dataset checked): squared distances may overflow
            from .validation import check_magnitude
            check_magnitude(np.minimum(self.low, centres.min(axis=0)),
                            np.maximum(self.high, centres.max(axis=0)), len(self.labels),
                            what="the data and centres")
        stats = np.empty((K, D + 2))
        changed = _blocks.block_assignment_pass(b.XS, b.box_min, b.box_max, b.block_sums, centres,
                                                centres, self.block_label, self.labels, stats)
        self.generation += 1
        generation = self.generation

        def exact_sq_about(at, which):
            if generation != self.generation:
                raise RuntimeError("the labels have moved on since this pass")
            return self.sq_about(at, which)

        return PassStatistics(counts=stats[:, 0].copy(), sums=stats[:, 1:D + 1].copy(),
                              sq=np.maximum(stats[:, D + 1], 0.0), ref=centres, changed=changed,
                              exact_sq_about=exact_sq_about)

    def sq_about(self, centres, which=None):
        """sum of ||x - c_k||^2 over the points labelled k by the last pass, for each k (0 where
        ``which[k]`` is False), measured from the blocks and the boundary points: exact to
        rounding however far c_k is from the centres of that pass."""
        centres = np.ascontiguousarray(centres, dtype=np.float64)
        K = centres.shape[0]
        which = np.ones(K, dtype=np.bool_) if which is None else np.ascontiguousarray(which, dtype=np.bool_)
        sq = np.empty(K)
        b = self.blocks
        _blocks._cost_about(b.XS, b.block_sums, self.block_label, self.labels, centres, which, sq)
        return sq
