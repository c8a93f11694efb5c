"""A run: one algorithm on one dataset from given initial parameters, half-step by half-step.

The history is a list of ``Snapshot`` (parameters and objectives only); the
run's working memory is O(N) (the labels k-means compares, the E-step
statistics waiting for the M-step), its history O(K D^2) per half-step.
"""

import numpy as np

from .data import Dataset


class Run:
    """Step an algorithm and keep every half-step.

    Parameters
    ----------
    algorithm : KMeans, SoftKMeans or GaussianMixtureEM
    data : Dataset or array-like of shape (n_samples, n_features)
    centres : array-like of shape (n_clusters, n_features)
        Initial m_k / mu_k.
    weights : array-like of shape (n_clusters,), optional (EM)
    covariances : array-like of shape (n_clusters, n_features, n_features), optional (EM)
    """

    def __init__(self, algorithm, data, centres, weights=None, covariances=None):
        from .validation import check_n_clusters
        self.algorithm = algorithm
        self.data = data if isinstance(data, Dataset) else Dataset(data)
        snapshot = algorithm.initial_snapshot(self.data, centres, weights, covariances)
        check_n_clusters(snapshot.n_clusters, self.data.n_samples)
        self._workspace = algorithm.new_workspace(self.data)
        self._stats = None
        if algorithm.refit_needs_pass:
            self._stats = algorithm.responsibility_pass(self.data, snapshot, self._workspace)
            snapshot = snapshot.replace(log_likelihood=self._stats.log_likelihood)
        self.history = [snapshot]
        self._finished = False

    # -- state -------------------------------------------------------------
    @property
    def current(self):
        return self.history[-1]

    @property
    def finished(self):
        """True once converged or max_iter iterations are done."""
        return self._finished

    @property
    def converged(self):
        return self.current.converged

    @property
    def n_iter(self):
        """Completed iterations (refit / M-steps done)."""
        return sum(1 for s in self.history if s.phase == self.algorithm.refit_phase)

    def __len__(self):
        return len(self.history)

    # -- stepping ----------------------------------------------------------
    def step(self):
        """Do one half-step; return its snapshot, or None if the run is finished."""
        if self._finished:
            return None
        alg = self.algorithm
        last = self.current
        if last.phase in ("init", alg.refit_phase):
            iteration = last.iteration + 1
            stats = self._stats or alg.responsibility_pass(self.data, last, self._workspace)
            snapshot = alg.responsibility_step(stats, last, iteration)
            self._stats = stats
            if alg.converged_after_responsibility(stats, iteration):
                snapshot = snapshot.replace(converged=True)
                self._finished = True
        else:
            snapshot = alg.refit_step(self._stats, last)
            self._stats = None
            if alg.refit_needs_pass:
                self._stats = alg.responsibility_pass(self.data, snapshot, self._workspace)
                snapshot = snapshot.replace(log_likelihood=self._stats.log_likelihood)
            if alg.converged_after_refit(self._previous_objective(), snapshot.objective):
                snapshot = snapshot.replace(converged=True)
                self._finished = True
            elif snapshot.iteration >= alg.max_iter:
                self._finished = True
        self.history.append(snapshot)
        return snapshot

    def _previous_objective(self):
        """Objective after the previous refit, or after the first responsibility step."""
        for snap in reversed(self.history):
            if snap.phase == self.algorithm.refit_phase:
                return snap.objective
        return self.history[1].objective if len(self.history) > 1 else None

    def run(self, max_half_steps=None):
        """Step until finished (or ``max_half_steps`` more); return self."""
        done = 0
        while not self._finished and (max_half_steps is None or done < max_half_steps):
            self.step()
            done += 1
        return self

    # -- per-point views, recomputed on demand ------------------------------
    def responsibility_source(self, index):
        """Index of the snapshot whose parameters gave the responsibilities at ``index``.

        None at the initialisation (no responsibilities yet); the refit / M-step
        keeps the responsibilities of the step before it.
        """
        snap = self.history[index]
        if snap.phase == "init":
            return None
        return index if snap.phase == self.algorithm.responsibility_phase else index - 1

    def responsibilities(self, index=-1, dtype=np.float64):
        """r_k^(n) at half-step ``index``: ndarray of shape (n_samples, n_clusters), or None at init."""
        index = index % len(self.history)
        source = self.responsibility_source(index)
        if source is None:
            return None
        return self.algorithm.responsibilities(self.data, self.history[source], dtype=dtype)

    def labels(self, index=-1):
        """Most responsible cluster per point at half-step ``index`` (int32), or None at init."""
        index = index % len(self.history)
        source = self.responsibility_source(index)
        if source is None:
            return None
        return self.algorithm.labels(self.data, self.history[source])
