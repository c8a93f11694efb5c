"""EM for a Gaussian mixture: E-step and M-step, as in the lecture.

E-step: r_k^(n) = pi_k N(x^(n) | mu_k, Sigma_k) / sum_j pi_j N(x^(n) | mu_j, Sigma_j).
M-step: N_k = sum_n r_k^(n), mu_k = sum_n r_k^(n) x^(n) / N_k, pi_k = N_k / N and
Sigma_k by covariance type (``identity`` keeps Sigma_k = I, as in the lecture).

Each snapshot reports log p(D) of its parameters and the lower bound
L(r, theta) = sum_n sum_k r (log pi_k + log N(x | mu_k, Sigma_k)) - sum r log r.
The E-step makes L equal to log p(D); the M-step raises L; so L never decreases.
"""

import dataclasses

import numpy as np

from . import _kernels
from .algorithm import ChunkMoments, GaussianKernelAlgorithm, PassStatistics
from .description import INIT_PHASE, AlgorithmDescription, Objective
from .settings import check_setting
from .snapshot import Snapshot
from .validation import check_centres, check_covariances, check_weights
_LOG_2PI = np.log(2.0 * np.pi)
# sklearn adds the same to N_k so a component with no responsibility divides by
# a tiny number rather than zero.
_EPS_MASS = 10.0 * np.finfo(np.float64).eps
# tr(Sigma^-1 S) summed from terms up to this many times its size still holds 1e-10; beyond,
# (a nearly singular Sigma) the lower bound's quadratic term is measured on the data instead.
_TRACE_CONDITIONED = 1e3


def precision_cholesky(covariances, reg_covar=0.0):
    """Lower-triangular A_k with A_k^T A_k = Sigma_k^-1, and which Sigma_k needed jitter.

    Returns
    -------
    chol_prec : ndarray of shape (K, D, D)
    log_det_chol : ndarray of shape (K,), sum_i log A_k[i, i] = -0.5 log |Sigma_k|
    jittered : list of int, components that were not positive definite and
        got a growing multiple of I added until they were.
    covariances : ndarray of shape (K, D, D), as used (with any jitter)
    """
    K, D, _ = covariances.shape
    covariances = covariances.copy()
    chol_prec = np.empty_like(covariances)
    jittered = []
    eye = np.eye(D)
    for k in range(K):
        jitter = 0.0
        while True:
            try:
                C = np.linalg.cholesky(covariances[k] + jitter * eye)
                break
            except np.linalg.LinAlgError:
                scale = max(np.trace(np.abs(covariances[k])) / D, 1e-300)
                jitter = max(jitter * 10.0, reg_covar, 1e-10 * scale)
        if jitter:
            covariances[k] += jitter * eye
            jittered.append(k)
        chol_prec[k] = np.linalg.solve(C, eye)  # C^-1, lower triangular
    chol_prec = np.tril(chol_prec)
    log_det = np.log(np.einsum("kii->ki", chol_prec)).sum(axis=1)
    return chol_prec, log_det, jittered, covariances


class GaussianMixtureEM(GaussianKernelAlgorithm):
    """EM for a mixture of K Gaussians.

    Parameters
    ----------
    covariance_type : {"identity", "spherical", "diag", "full", "tied"}, default "full"
        ``identity``: Sigma_k = I fixed (the lecture's model); ``spherical``:
        sigma_k^2 I; ``diag``: diagonal; ``full``: any; ``tied``: one full
        Sigma shared by all components.
    reg_covar : float >= 0, default 1e-6
        Added to the diagonal of each fitted covariance.
    learn_weights : bool, default True
        False keeps pi_k = 1/K.
    max_iter : int, default 300
    tol : float, default 1e-6
        Converged when the relative change of log p(D) over an iteration is below tol (0: never).

    Initial parameters, unless given: pi_k = 1/K and Sigma_k = (s^2 + reg_covar) I
    with s^2 the data's average per-feature variance (1 if that is 0);
    ``identity`` always uses I.
    """

    description = AlgorithmDescription(
        name="em", display_name="EM (Gaussian mixture)",
        responsibility_phase="e", responsibility_title="E-step",
        refit_phase="m", refit_title="M-step",
        objectives=(Objective("log_likelihood", "log p(D)", "log-likelihood log p(D)",
                              "log p(D) = Σ log Σ π N(x | μ, Σ)", direction=+1),
                    Objective("lower_bound", "L", "lower bound L", "L = Σ r log(π N / r)",
                              direction=+1)),
        cluster_word="component")
    setting_names = ("covariance_type", "reg_covar", "learn_weights", "max_iter", "tol")
    refit_needs_pass = True

    def __init__(self, covariance_type="full", reg_covar=1e-6, learn_weights=True,
                 max_iter=300, tol=1e-6):
        super().__init__(max_iter=max_iter, tol=tol)
        self.covariance_type = check_setting("covariance_type", covariance_type)
        self.reg_covar = check_setting("reg_covar", reg_covar)
        self.learn_weights = check_setting("learn_weights", bool(learn_weights)
                                           if isinstance(learn_weights, np.bool_) else learn_weights)

    def initial_snapshot(self, data, centres, weights=None, covariances=None):
        means = check_centres(centres, data.n_features, "means")
        K, D = means.shape
        if weights is None:
            weights = np.full(K, 1.0 / K)
        weights = check_weights(weights, K)
        if self.covariance_type == "identity":
            covariances = np.broadcast_to(np.eye(D), (K, D, D))
        elif covariances is None:
            # plus reg_covar, like every M-step: a start below that floor would let
            # the first regularised M-step lower the likelihood
            s2 = data.mean_variance()
            covariances = np.broadcast_to(((s2 if s2 > 0 else 1.0) + self.reg_covar) * np.eye(D),
                                          (K, D, D))
        else:
            covariances = check_covariances(covariances, K, D)
        return Snapshot(index=0, phase=INIT_PHASE, iteration=0, centres=means, weights=weights,
                        covariances=covariances)

    def kernel_parameters(self, snapshot):
        chol_prec, log_det, _, _ = precision_cholesky(np.asarray(snapshot.covariances), self.reg_covar)
        D = snapshot.centres.shape[1]
        log_coef = np.log(snapshot.weights) - 0.5 * D * _LOG_2PI + log_det
        return np.ascontiguousarray(snapshot.centres), chol_prec, log_coef

    def responsibility_pass(self, data, snapshot, workspace, readout=None):
        from .validation import check_pass_finite
        ref, chol_prec, log_coef = self.kernel_parameters(snapshot)
        counts, sums, anchors, res, piece_sq, piece_outer, quad, log_likelihood, neg_entropy = (
            _kernels.gaussian_chunk_pass(data.XT, ref, chol_prec, log_coef, True, 0.0,
                                         *(readout or _kernels.NO_READOUT)))
        pieces = ChunkMoments(counts, anchors, res, piece_sq, piece_outer)
        outer = pieces.scatter_about(ref)
        check_pass_finite(
            (log_likelihood, sums, outer, neg_entropy),
            "squared Mahalanobis distances overflow float64 for points far from every component; "
            "rescale the data")
        sq = np.einsum("kii->k", outer)
        XT = data.XT

        def exact_quad(means, chol):
            return _kernels.expected_quad(XT, ref, chol_prec, log_coef, np.ascontiguousarray(means),
                                          np.ascontiguousarray(chol))

        return PassStatistics(counts=counts.sum(axis=0), sums=sums, sq=sq, ref=ref, outer=outer,
                              log_likelihood=log_likelihood, neg_entropy=neg_entropy, pieces=pieces,
                              quad=quad, exact_quad=exact_quad)

    def lower_bound(self, stats, snapshot, same_parameters=False):
        """L(r, theta) from the pass statistics r and the parameters theta of ``snapshot``.

        Its quadratic term sum r ||A_k (x - mu_k)||^2: under the pass's own parameters,
        the pass measured it point by point; under others, tr(Sigma_k^-1 S_k) from the
        scatter S_k (exact about any mu_k), unless Sigma_k is so ill-conditioned that the
        trace cancels, where another pass measures it.
        """
        _, chol_prec, log_coef = self.kernel_parameters(snapshot)
        if same_parameters and stats.quad is not None:  # ``snapshot`` gave the pass its parameters
            quad = stats.quad
        else:
            scatter = stats.scatter_about(snapshot.centres)
            precision = np.einsum("kji,kjl->kil", chol_prec, chol_prec)
            terms = precision * scatter
            quad = terms.sum(axis=(1, 2))
            spread = np.abs(terms).sum(axis=(1, 2))
            if stats.exact_quad is not None and not np.all(spread <= _TRACE_CONDITIONED * np.abs(quad)):
                quad = stats.exact_quad(snapshot.centres, chol_prec)
        return stats.counts @ log_coef - 0.5 * quad.sum() - stats.neg_entropy

    def responsibility_step(self, stats, previous, iteration):
        """E-step: responsibilities under the previous parameters; L = log p(D) here."""
        return Snapshot(
            index=previous.index + 1, phase="e", iteration=iteration,
            centres=previous.centres, weights=previous.weights, covariances=previous.covariances,
            counts=stats.counts, log_likelihood=stats.log_likelihood,
            lower_bound=self.lower_bound(stats, previous, same_parameters=True),
            empty=self._empty(stats))

    def _empty(self, stats):
        return np.flatnonzero(stats.counts <= 1e-10 * max(1.0, stats.counts.sum()) / len(stats.counts))

    def refit_step(self, stats, previous):
        """M-step from the E-step's statistics; log p(D) is filled in by the run."""
        K, D = previous.centres.shape
        empty = self._empty(stats)
        nk = stats.counts + _EPS_MASS
        means = stats.ref + stats.sums / nk[:, None]
        scatter = stats.scatter_about(means)
        eye = np.eye(D)
        kind = self.covariance_type
        if kind == "identity":
            covariances = np.broadcast_to(eye, (K, D, D)).copy()
        elif kind == "tied":
            shared = scatter.sum(axis=0) / nk.sum() + self.reg_covar * eye
            covariances = np.broadcast_to(shared, (K, D, D)).copy()
        else:
            fitted = scatter / nk[:, None, None]
            if kind == "diag":
                fitted = np.einsum("kii,ij->kij", fitted, eye)
            elif kind == "spherical":
                fitted = np.einsum("kii->k", fitted)[:, None, None] / D * eye
            covariances = fitted + self.reg_covar * eye
        weights = nk / nk.sum() if self.learn_weights else previous.weights.copy()
        if len(empty):
            # nothing to learn from: keep the component where it was
            means[empty] = previous.centres[empty]
            if kind != "tied":
                covariances[empty] = previous.covariances[empty]
        _, _, jittered, covariances = precision_cholesky(covariances, self.reg_covar)
        collapsed = sorted(set(jittered) | set(self._collapsed(covariances, stats.counts)) - set(empty))
        snapshot = Snapshot(
            index=previous.index + 1, phase="m", iteration=previous.iteration,
            centres=means, weights=weights, covariances=covariances, counts=stats.counts,
            empty=empty, collapsed=collapsed)
        return dataclasses.replace(snapshot, lower_bound=self.lower_bound(stats, snapshot))

    def _collapsed(self, covariances, counts):
        """Components whose smallest variance is no more than the reg_covar floor."""
        if self.covariance_type == "identity":
            return []
        smallest = np.linalg.eigvalsh(covariances)[:, 0]
        return [k for k in range(len(smallest)) if smallest[k] <= 2.0 * self.reg_covar]
