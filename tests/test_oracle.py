"""The engine against scikit-learn (the oracle) and the lecture's formulas, from the same start."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SKKMeans
from sklearn.mixture import GaussianMixture

from engine import GaussianMixtureEM, KMeans, Run, SoftKMeans
from engine.captions import step_title


def test_hand_worked_four_points():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    run = Run(KMeans(), X, [[0.0, 0.0], [4.0, 1.0]]).run()
    assert [s.phase for s in run.history] == ["init", "assign", "refit", "assign"]
    init, assign, refit, check = run.history
    assert init.cost is None
    assert assign.cost == pytest.approx(2.0)  # (0,1)->(0,0) and (4,0)->(4,1), one each
    assert assign.changed == 4
    np.testing.assert_allclose(refit.centres, [[0.0, 0.5], [4.0, 0.5]])
    assert refit.cost == pytest.approx(1.0)  # four points at distance 0.5
    assert check.changed == 0 and check.converged and run.converged
    assert run.n_iter == 1
    assert step_title(KMeans.description, check) == "Assignment step 2"
    np.testing.assert_array_equal(run.labels(), [0, 0, 1, 1])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kmeans_matches_sklearn_fixed_point(seed):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(300, 2)) * s + m for m, s in
                   [((0, 0), 1.0), ((3, 1), 0.7), ((-2, 3), 1.5), ((1, -3), 0.5)]])
    X = X + 1000.0 * (seed == 3)  # far from the origin: sums are taken relative to centres
    centres = X[rng.choice(len(X), 5, replace=False)]
    run = Run(KMeans(), X, centres).run()
    sk = SKKMeans(n_clusters=5, init=centres, n_init=1, algorithm="lloyd", tol=0.0,
                  max_iter=300).fit(X)
    assert run.converged
    np.testing.assert_array_equal(run.labels(), sk.labels_)
    np.testing.assert_allclose(run.current.centres, sk.cluster_centers_, rtol=1e-9)
    assert run.current.cost == pytest.approx(sk.inertia_, rel=1e-9)


def _sk_precisions(cov_type, covariances):
    precisions = np.linalg.inv(covariances)
    if cov_type == "full":
        return precisions
    if cov_type == "tied":
        return precisions[0]
    if cov_type == "diag":
        return np.einsum("kii->ki", precisions)
    return precisions[:, 0, 0]


def _sk_covariances(cov_type, gm, K, D):
    c = gm.covariances_
    if cov_type == "full":
        return c
    if cov_type == "tied":
        return np.broadcast_to(c, (K, D, D))
    if cov_type == "diag":
        return np.einsum("ki,ij->kij", c, np.eye(D))
    return c[:, None, None] * np.eye(D)


@pytest.mark.parametrize("cov_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("D", [2, 3])
def test_em_matches_sklearn_after_30_iterations(cov_type, D):
    rng = np.random.default_rng(7 + D)
    K = 3
    X = np.vstack([rng.multivariate_normal(rng.normal(size=D) * 3, np.eye(D) * s, size=200)
                   for s in (0.5, 1.0, 2.0)])
    means = X[rng.choice(len(X), K, replace=False)]
    weights = np.array([0.5, 0.3, 0.2])
    base = np.cov(X.T) + 0.1 * np.eye(D)
    if cov_type in ("tied", "full"):
        covariances = np.stack([base] * K)
    elif cov_type == "diag":
        covariances = np.stack([np.diag(np.diag(base))] * K)
    else:
        covariances = np.stack([np.eye(D) * np.trace(base) / D] * K)
    run = Run(GaussianMixtureEM(cov_type, tol=0.0, max_iter=30), X, means, weights, covariances).run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(K, covariance_type=cov_type, max_iter=30, tol=0.0,
                             weights_init=weights, means_init=means,
                             precisions_init=_sk_precisions(cov_type, covariances),
                             init_params="random_from_data", random_state=0).fit(X)
    final = run.current
    assert final.phase == "m" and final.iteration == 30 and len(run) == 61
    np.testing.assert_allclose(final.centres, gm.means_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(final.weights, gm.weights_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(final.covariances, _sk_covariances(cov_type, gm, K, D),
                               atol=1e-6, rtol=1e-6)
    # predict_proba uses the final parameters: the responsibilities the next E-step would give
    posterior = run.algorithm.responsibilities(run.data, final)
    np.testing.assert_allclose(posterior, gm.predict_proba(X), atol=1e-6)
    assert final.log_likelihood / len(X) == pytest.approx(gm.score(X), rel=1e-6)


def test_tol_zero_runs_every_iteration_even_where_the_objective_repeats(three_blobs):
    """As scikit-learn's GaussianMixture: converged means a relative change strictly below tol.
    One component's fit is exact after the first M-step, so log p(D) then repeats to the bit."""
    centre = three_blobs[:1]
    for algorithm in (GaussianMixtureEM("full", tol=0.0, max_iter=6), SoftKMeans(tol=0.0, max_iter=6)):
        run = Run(algorithm, three_blobs, centre).run()
        objectives = [run.algorithm.objective(s) for s in run.history[2::2]]
        assert objectives[-1] == objectives[-2]  # it did repeat...
        assert run.current.iteration == 6 and not run.converged  # ...and the run went on
    stopped = Run(GaussianMixtureEM("full", tol=1e-15, max_iter=6), three_blobs, centre).run()
    assert stopped.converged and stopped.current.iteration < 6


def _lecture_em(X, means, weights, iterations):
    """The lecture's EM with Sigma_k = I, written out in numpy."""
    D = X.shape[1]
    for _ in range(iterations):
        sq = ((X[:, None, :] - means[None]) ** 2).sum(-1)
        logp = np.log(weights) - 0.5 * sq - 0.5 * D * np.log(2 * np.pi)
        r = np.exp(logp - logp.max(1, keepdims=True))
        r /= r.sum(1, keepdims=True)
        Nk = r.sum(0)
        means = (r.T @ X) / Nk[:, None]
        weights = Nk / len(X)
    return means, weights


def test_identity_em_is_the_lectures_em(three_blobs):
    means0 = three_blobs[:3]
    run = Run(GaussianMixtureEM("identity", tol=0.0, max_iter=12), three_blobs, means0).run()
    means, weights = _lecture_em(three_blobs, means0, np.full(3, 1 / 3), 12)
    np.testing.assert_allclose(run.current.centres, means, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(run.current.weights, weights, rtol=1e-10)
    np.testing.assert_array_equal(run.current.covariances, np.broadcast_to(np.eye(2), (3, 2, 2)))


def test_fixed_weights_stay_equal(three_blobs):
    run = Run(GaussianMixtureEM("full", learn_weights=False, max_iter=10), three_blobs,
              three_blobs[:3]).run()
    np.testing.assert_array_equal(run.current.weights, np.full(3, 1 / 3))


def test_soft_kmeans_is_the_lectures_soft_kmeans(three_blobs):
    beta = 0.7
    m = three_blobs[:3].copy()
    run = Run(SoftKMeans(beta=beta, tol=0.0, max_iter=8), three_blobs, m).run()
    for _ in range(8):
        sq = ((three_blobs[:, None, :] - m[None]) ** 2).sum(-1)
        r = np.exp(-beta * (sq - sq.min(1, keepdims=True)))
        r /= r.sum(1, keepdims=True)
        m = (r.T @ three_blobs) / r.sum(0)[:, None]
    np.testing.assert_allclose(run.current.centres, m, rtol=1e-10)
    np.testing.assert_allclose(run.responsibilities(-1), r, atol=1e-12)
    weighted_j = (r * sq).sum()
    assert run.history[-2].cost == pytest.approx(weighted_j, rel=1e-10)


def test_huge_beta_is_kmeans_and_tiny_beta_is_one_blob(three_blobs):
    centres = three_blobs[:3]
    hard = Run(KMeans(), three_blobs, centres).run()
    stiff = Run(SoftKMeans(beta=1e9), three_blobs, centres).run()
    np.testing.assert_array_equal(stiff.labels(), hard.labels())
    np.testing.assert_allclose(stiff.current.centres, hard.current.centres, rtol=1e-9)
    loose = Run(SoftKMeans(beta=1e-9, tol=0.0, max_iter=3), three_blobs, centres).run()
    np.testing.assert_allclose(loose.current.centres,
                               np.broadcast_to(three_blobs.mean(0), (3, 2)), atol=1e-6)
    assert np.all(np.isfinite([s.free_energy for s in loose.history[1:]]))


def test_responsibilities_follow_the_half_step(three_blobs):
    run = Run(GaussianMixtureEM("full", max_iter=3), three_blobs, three_blobs[:3]).run()
    assert run.responsibilities(0) is None and run.labels(0) is None
    # the M-step keeps the E-step's responsibilities; the next E-step changes them
    np.testing.assert_array_equal(run.responsibilities(1), run.responsibilities(2))
    assert not np.allclose(run.responsibilities(1), run.responsibilities(3))
    np.testing.assert_allclose(run.responsibilities(1).sum(1), 1.0)
    r32 = run.responsibilities(3, dtype=np.float32)
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, run.responsibilities(3), atol=1e-6)
