"""What the three algorithms share: parameters, the pass statistics, convergence.

Each algorithm is two half-steps.  The first (assignment / E-step) is one pass
over the data that yields ``PassStatistics``; the second (refit / M-step) works
on those statistics alone, so it costs O(K D^2) whatever N is.
"""

from dataclasses import dataclass

import numpy as np

from .validation import check_non_negative, check_positive_int


@dataclass
class PassStatistics:
    """Sufficient statistics of one responsibility half-step.

    Sums are taken relative to the centres/means the pass was given (``ref``),
    which keeps them exact to rounding wherever the data sit.

    counts : (K,) N_k = sum_n r_k^(n)
    sums : (K, D) sum_n r_k^(n) (x^(n) - ref_k)
    sq : (K,) sum_n r_k^(n) ||x^(n) - ref_k||^2
    outer : (K, D, D) or None, sum_n r_k^(n) (x - ref_k)(x - ref_k)^T
    quad : (K,) or None, sum_n r_k^(n) ||A_k (x - ref_k)||^2 (EM)
    log_likelihood : float or None, sum_n log sum_k exp(log joint)
    neg_entropy : float, sum_n sum_k r log r (0 for hard assignments)
    changed : int or None, labels changed (k-means)
    ref : (K, D) the centres the pass used
    """

    counts: np.ndarray
    sums: np.ndarray
    sq: np.ndarray
    ref: np.ndarray
    outer: np.ndarray = None
    quad: np.ndarray = None
    log_likelihood: float = None
    neg_entropy: float = 0.0
    changed: int = None

    def shifts(self):
        """delta_k = mean of cluster k minus ref_k; zero for an empty cluster."""
        counts = self.counts[:, None]
        return np.divide(self.sums, counts, out=np.zeros_like(self.sums), where=counts > 0)

    def sq_about(self, centres):
        """sum_n r_k^(n) ||x^(n) - c_k||^2 for each k, from the statistics alone."""
        d = centres - self.ref
        return self.sq - 2.0 * np.einsum("kd,kd->k", d, self.sums) + self.counts * np.einsum("kd,kd->k", d, d)


class Algorithm:
    """Base: stores and validates the parameters shared by every algorithm.

    Subclasses define ``name``, ``responsibility_phase``, ``refit_phase``,
    ``initial_snapshot``, ``responsibility_pass``, ``responsibility_step``,
    ``refit_step`` and ``responsibilities``.
    """

    name = None
    responsibility_phase = None
    refit_phase = None
    # Whether the refit's own objective needs a pass over the data (EM's
    # log-likelihood of the new parameters); the run then keeps that pass for
    # the next E-step, so an iteration still reads the data once.
    refit_needs_pass = False
    hard = False

    def __init__(self, max_iter=300, tol=1e-6):
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.tol = check_non_negative(tol, "tol")

    def settings(self):
        return {"max_iter": self.max_iter, "tol": self.tol}

    def converged_after_responsibility(self, stats, iteration):
        return False

    def converged_after_refit(self, previous_objective, objective):
        """Relative change of the objective below ``tol``."""
        if previous_objective is None or objective is None:
            return False
        scale = max(abs(previous_objective), np.finfo(float).tiny)
        return abs(objective - previous_objective) <= self.tol * scale

    def labels(self, data, snapshot):
        """Most responsible cluster for each point: ndarray of shape (n_samples,), int32."""
        return np.argmax(self.responsibilities(data, snapshot, dtype=np.float32), axis=1).astype(np.int32)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"
