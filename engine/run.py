"""A run: one algorithm on one dataset from given initial parameters, half-step by half-step.

The history is a list of ``Snapshot`` (parameters and objectives only); the
run's working memory is O(N) (the labels k-means compares, the E-step
statistics waiting for the M-step), its history O(K D^2) per half-step.
"""

import dataclasses
import math

import numpy as np

from .data import Dataset
from .description import INIT_PHASE
from .validation import check_n_clusters

# Why a run stopped (``Run.stop_reason``); None while it can still step.  FAILED: a step raised
# (numbers the engine refuses); whoever ran it sets it and says why.
CONVERGED, MAX_ITER, NON_FINITE, FAILED = "converged", "max_iter", "non_finite", "failed"


class Run:
    """Step an algorithm and keep every half-step.

    Parameters
    ----------
    algorithm : an ``Algorithm``
    data : Dataset or array-like of shape (n_samples, n_features)
    centres : array-like of shape (n_clusters, n_features)
        Initial m_k / mu_k.
    weights : array-like of shape (n_clusters,), optional (EM)
    covariances : array-like of shape (n_clusters, n_features, n_features), optional (EM)
    """

    def __init__(self, algorithm, data, centres, weights=None, covariances=None):
        self.algorithm = algorithm
        self.description = algorithm.description
        self.data = data if isinstance(data, Dataset) else Dataset(data)
        snapshot = algorithm.initial_snapshot(self.data, centres, weights=weights, covariances=covariances)
        check_n_clusters(snapshot.n_clusters, self.data.n_samples)
        self._workspace = algorithm.new_workspace(self.data)
        self._stats = None
        self._readout_colours = None
        self._readouts = {}  # responsibility half-step -> its readout (the last two)
        self._readout_spares = []  # at most three buffers, reused
        self._pending_readout = None  # written by the pass kept in _stats, for the next one
        if algorithm.refit_needs_pass:
            self._stats = self._pass(snapshot)
            snapshot = dataclasses.replace(snapshot, log_likelihood=self._stats.log_likelihood)
        self.history = [snapshot]
        self.stop_reason = None

    # -- state -------------------------------------------------------------
    @property
    def current(self):
        return self.history[-1]

    @property
    def finished(self):
        """True once converged, max_iter iterations are done, or the objective left the numbers."""
        return self.stop_reason is not None

    @property
    def converged(self):
        return self.current.converged

    @property
    def n_iter(self):
        """Completed iterations (refit / M-steps done)."""
        return sum(1 for s in self.history if s.phase == self.description.refit_phase)

    def __len__(self):
        return len(self.history)

    # -- stepping ----------------------------------------------------------
    def step(self):
        """Do one half-step; return its snapshot, or None if the run is finished."""
        if self.finished:
            return None
        alg = self.algorithm
        last = self.current
        if last.phase != self.description.responsibility_phase:
            iteration = last.iteration + 1
            stats = self._stats or self._pass(last)
            snapshot = alg.responsibility_step(stats, last, iteration)
            self._stats = stats
            self._file_readout(snapshot.index)
            if alg.converged_after_responsibility(stats, iteration):
                snapshot = dataclasses.replace(snapshot, converged=True)
                self.stop_reason = CONVERGED
        else:
            snapshot = alg.refit_step(self._stats, last)
            self._stats = None
            if alg.refit_needs_pass:
                self._stats = self._pass(snapshot)
                snapshot = dataclasses.replace(snapshot, log_likelihood=self._stats.log_likelihood)
            if alg.converged_after_refit(self._previous_objective(), alg.objective(snapshot)):
                snapshot = dataclasses.replace(snapshot, converged=True)
                self.stop_reason = CONVERGED
            elif snapshot.iteration >= alg.max_iter:
                self.stop_reason = MAX_ITER
        objective = alg.objective(snapshot)
        if objective is not None and not math.isfinite(objective):
            # nothing sensible follows an infinite or NaN objective: stop, and say so
            self.stop_reason = NON_FINITE
        self.history.append(snapshot)
        return snapshot

    # -- readout: what the pass computes anyway, kept for the window --------
    def keep_readout(self, colours):
        """From now on, keep per point the colour sum_k r_k^(n) colours[k] (``colours``: (K, 3),
        the clusters' RGB, 0..255) for the last two responsibility half-steps, written by the
        pass that computes r anyway: the window colours a played step without recomputing r.

        Only algorithms with soft responsibilities keep one (``readout`` is None for k-means).
        """
        colours = np.ascontiguousarray(colours, dtype=np.float64)
        if colours.shape != (self.current.n_clusters, 3):
            raise ValueError(f"readout colours must have shape (K, 3) with K = {self.current.n_clusters}")
        self._readout_colours = None if self.algorithm.hard else colours

    def readout(self, index):
        """The kept readout of the responsibilities shown at ``index``, or None: (n_samples,) uint32,
        each point's colour rounded to 8 bits a channel and packed 0xFFRRGGBB (opaque ARGB)."""
        source = self.responsibility_source(index % len(self.history))
        return self._readouts.get(source)

    def _pass(self, snapshot):
        readout = None
        if self._readout_colours is not None:
            in_use = [id(a) for a in self._readouts.values()]
            spare = [a for a in self._readout_spares if id(a) not in in_use]
            out = spare[0] if spare else np.empty(self.data.n_samples, dtype=np.uint32)
            if not spare:
                self._readout_spares.append(out)
            readout = (self._readout_colours, out)
        self._pending_readout = readout[1] if readout else None
        return self.algorithm.responsibility_pass(self.data, snapshot, self._workspace, readout=readout)

    def _file_readout(self, index):
        """The pass behind responsibility half-step ``index`` wrote ``_pending_readout``."""
        if self._pending_readout is not None:
            self._readouts[index] = self._pending_readout
            self._pending_readout = None
            while len(self._readouts) > 2:
                del self._readouts[next(iter(self._readouts))]

    def _previous_objective(self):
        """Objective after the previous refit, or after the first responsibility step."""
        for snap in reversed(self.history):
            if snap.phase == self.description.refit_phase:
                return self.algorithm.objective(snap)
        return self.algorithm.objective(self.history[1]) if len(self.history) > 1 else None

    def run(self, max_half_steps=None):
        """Step until finished (or ``max_half_steps`` more); return self."""
        done = 0
        while not self.finished and (max_half_steps is None or done < max_half_steps):
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
        if snap.phase == INIT_PHASE:
            return None
        return index if snap.phase == self.description.responsibility_phase else index - 1

    def responsibilities(self, index=-1, dtype=np.float64):
        """r_k^(n) shown at half-step ``index``: ndarray of shape (n_samples, n_clusters), or None at init."""
        index = index % len(self.history)
        source = self.responsibility_source(index)
        if source is None:
            return None
        return self.algorithm.responsibilities(self.data, self.history[source], dtype=dtype)

    def labels(self, index=-1):
        """Most responsible cluster per point shown at half-step ``index`` (int32), or None at init."""
        index = index % len(self.history)
        source = self.responsibility_source(index)
        if source is None:
            return None
        return self.algorithm.labels(self.data, self.history[source])

    # -- the result ----------------------------------------------------------
    # As scikit-learn's final E-step: the result is the last parameters, and the
    # labels are the responsibilities under them, whichever half-step came last.
    def final_responsibilities(self, dtype=np.float64):
        """r_k^(n) under the final parameters: ndarray of shape (n_samples, n_clusters)."""
        return self.algorithm.responsibilities(self.data, self.current, dtype=dtype)

    def final_labels(self):
        """Most responsible cluster per point under the final parameters (int32)."""
        return self.algorithm.labels(self.data, self.current)
