"""The state after one half-step: parameters and objectives, never per-point data.

A snapshot holds O(K D^2) numbers whatever N is, so a run's history costs the
same for 100 points as for a million.  Responsibilities for a snapshot are
recomputed on demand by the run (one pass over the data).
"""

from dataclasses import dataclass, field

import numpy as np

def _frozen(arr):
    if arr is None:
        return None
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Snapshot:
    """Parameters and objectives after one half-step.

    Attributes
    ----------
    index : int
        Position in the run's history; the half-step number.
    phase : str
        ``init``, or one of the algorithm's two phases (its ``description``):
        ``assign`` / ``refit`` (k-means, soft k-means), ``e`` / ``m`` (EM).
    iteration : int
        0 for the initialisation, t for both halves of iteration t.
    centres : ndarray of shape (K, D)
        m_k (k-means, soft k-means) or mu_k (EM).
    weights : ndarray of shape (K,) or None
        pi_k (EM only).
    covariances : ndarray of shape (K, D, D) or None
        Sigma_k (EM only), always stored as full matrices.
    counts : ndarray of shape (K,) or None
        N_k = sum_n r_k^(n) behind this state (None at initialisation).
    cost : float or None
        J = sum_n sum_k r_k^(n) ||x^(n) - m_k||^2 (k-means; soft k-means: weighted J).
    free_energy : float or None
        Soft k-means: J + (1/beta) sum r log r.
    log_likelihood : float or None
        EM: log p(D) under this snapshot's parameters.
    lower_bound : float or None
        EM: expected complete-data log-likelihood plus entropy of r.
    changed : int or None
        k-means assignment step: how many labels changed.
    empty : tuple of int
        Clusters with no points (k-means keeps their previous centre; EM keeps
        the previous parameters of a component with no responsibility).
    collapsed : tuple of int
        EM components whose covariance collapsed to (near) the reg_covar floor.
    converged : bool
    """

    index: int
    phase: str
    iteration: int
    centres: np.ndarray
    weights: np.ndarray = None
    covariances: np.ndarray = None
    counts: np.ndarray = None
    cost: float = None
    free_energy: float = None
    log_likelihood: float = None
    lower_bound: float = None
    changed: int = None
    empty: tuple = field(default_factory=tuple)
    collapsed: tuple = field(default_factory=tuple)
    converged: bool = False

    def __post_init__(self):
        if not isinstance(self.phase, str) or not self.phase:
            raise ValueError(f"a phase is a name, got {self.phase!r}")
        for name in ("centres", "weights", "covariances", "counts"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in ("cost", "free_energy", "log_likelihood", "lower_bound"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))
        object.__setattr__(self, "empty", tuple(int(k) for k in self.empty))
        object.__setattr__(self, "collapsed", tuple(int(k) for k in self.collapsed))

    @property
    def n_clusters(self):
        return self.centres.shape[0]

    def to_dict(self):
        """JSON-ready dict (the trace's per-step entry)."""
        def arr(a):
            return None if a is None else a.tolist()
        return {
            "index": self.index,
            "phase": self.phase,
            "iteration": self.iteration,
            "cost": self.cost,
            "free_energy": self.free_energy,
            "log_likelihood": self.log_likelihood,
            "lower_bound": self.lower_bound,
            "centres": arr(self.centres),
            "weights": arr(self.weights),
            "covariances": arr(self.covariances),
            "counts": arr(self.counts),
            "changed": self.changed,
            "empty": list(self.empty),
            "collapsed": list(self.collapsed),
            "converged": self.converged,
        }
