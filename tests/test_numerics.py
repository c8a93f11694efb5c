"""Numerics: the objectives are exact wherever the data sit; huge magnitudes are refused, never a crash.

Issue #9.  A: k-means' J (and its refit) must match a direct sum of squared
distances at any offset and spread, like soft k-means and EM.  B: data or
centres whose squared distances overflow float64 get one clear ValueError (exit
code 2 on the command line), and the kernels never index with garbage or divide
by zero even when called without the checks.
"""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Dataset, GaussianMixtureEM, KMeans, Run, SoftKMeans

REPO = Path(__file__).resolve().parents[1]
REL = 1e-10  # relative agreement with a direct sum


# -- references, straight from the definitions ------------------------------
def _sq_dist(X, centres):
    """||x_n - m_k||^2, (N, K), from the differences themselves (exact near the points)."""
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)


def _weighted_cost(X, centres, r):
    return math.fsum((r * _sq_dist(X, centres)).ravel())


def _weighted_means(X, r):
    """sum_n r x / sum_n r per cluster, summed about its most responsible point (no cancellation)."""
    out = []
    for k in range(r.shape[1]):
        x0 = X[np.argmax(r[:, k])]
        mass = math.fsum(r[:, k])
        out.append([x0[j] + math.fsum(r[:, k] * (X[:, j] - x0[j])) / mass if mass > 0 else np.nan
                    for j in range(X.shape[1])])
    return np.array(out)


def _log_likelihood(X, snapshot):
    """log p(D) from the snapshot's parameters, by Cholesky solves on x - mu."""
    K, D = snapshot.centres.shape
    log_joint = np.empty((len(X), K))
    for k in range(K):
        L = np.linalg.cholesky(snapshot.covariances[k])
        z = np.linalg.solve(L, (X - snapshot.centres[k]).T)
        log_joint[:, k] = (np.log(snapshot.weights[k]) - 0.5 * D * np.log(2 * np.pi)
                           - np.log(np.diag(L)).sum() - 0.5 * (z ** 2).sum(axis=0))
    top = log_joint.max(axis=1)
    per_point = top + np.log(np.exp(log_joint - top[:, None]).sum(axis=1))
    return math.fsum(per_point), math.fsum(np.abs(per_point))


def _check_history(run, X, sigma):
    """Every half-step's objective against its definition, every refit's centres against the mean."""
    alg = run.algorithm
    for i, snap in enumerate(run.history[1:], start=1):
        if isinstance(alg, GaussianMixtureEM):
            ref, scale = _log_likelihood(X, snap)
            assert abs(snap.log_likelihood - ref) <= REL * (scale + len(X)), (i, snap.log_likelihood, ref)
            continue
        r = run.responsibilities(i)
        ref = _weighted_cost(X, snap.centres, r)
        assert snap.cost == pytest.approx(ref, rel=REL, abs=1e-300), (i, snap.phase, snap.cost, ref)
        if snap.phase == "refit":
            means = _weighted_means(X, r)
            kept = np.isnan(means)
            means[kept] = run.history[i - 1].centres[kept]
            # the mean, rounded to the coordinates' own precision
            slack = 4 * np.spacing(np.abs(means)) + 1e-12 * sigma
            assert np.all(np.abs(snap.centres - means) <= slack), (i, snap.centres - means)


def _far_blobs(rng, n_blobs, sizes, dim, sigma, offset, separation):
    """Round blobs of width sigma, ``separation`` sigmas apart in a row, ``offset`` sigmas from 0.

    The initial centres are one point of each blob.
    """
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    where = rng.normal(size=dim)
    where *= offset * sigma / np.linalg.norm(where)
    blobs = [where + i * separation * sigma * direction + sigma * rng.normal(size=(n, dim))
             for i, n in enumerate(sizes[:n_blobs])]
    centres = np.array([b[rng.integers(len(b))] for b in blobs])
    return rng.permutation(np.concatenate(blobs)), centres


def _algorithm(name, sigma):
    if name == "kmeans":
        return KMeans(max_iter=8)
    if name == "soft-kmeans":
        return SoftKMeans(beta=float(np.clip(0.5 / sigma ** 2, 1e-9, 1e9)), max_iter=8)  # beta's limits
    return GaussianMixtureEM(covariance_type="full", reg_covar=1e-6 * sigma ** 2, max_iter=6)


ALGORITHMS = ("kmeans", "soft-kmeans", "em")


# -- A: exact objectives at any offset ---------------------------------------
@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("R", [1e5, 1e6, 1e7, 1e8])
def test_two_clusters_far_apart(name, R):
    """The issue's case: two sigma = 1 clusters at +-R (k-means: J = 0.0 at R = 1e8)."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-R, 1, size=(500, 2)), rng.normal(R, 1, size=(500, 2))])
    run = Run(_algorithm(name, 1.0), X, X[[0, 600]]).run()
    _check_history(run, X, 1.0)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_many_blocks_far_from_zero(name):
    """20,000 points (many blocks and tasks, one-centre and boundary blocks): two pairs of
    overlapping blobs 1e7 sigmas apart, 1e8 sigmas from 0."""
    rng = np.random.default_rng(1)
    sigma = 1e-3
    where = np.array([1e8, -3e7]) * sigma
    means = [where + side * 1e7 * sigma * np.array([0.6, 0.8]) + sub * 1.5 * sigma * np.array([1.0, 0.0])
             for side in (-1, 1) for sub in (-1, 1)]
    X = rng.permutation(np.concatenate([m + sigma * rng.normal(size=(5000, 2)) for m in means]))
    run = Run(_algorithm(name, sigma), X, np.array(means) + sigma * rng.normal(size=(4, 2))).run()
    _check_history(run, X, sigma)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(ALGORITHMS), n_blobs=st.integers(1, 3),
       sizes=st.lists(st.integers(1, 300), min_size=3, max_size=3), dim=st.integers(1, 3),
       log_sigma=st.floats(-6, 6), log_offset=st.floats(-1, 8), log_separation=st.floats(0, 8),
       seed=st.integers(0, 2**32 - 1))
def test_objectives_are_exact_at_any_offset(name, n_blobs, sizes, dim, log_sigma, log_offset,
                                            log_separation, seed):
    """Blobs up to 1e8 sigmas from 0 and from each other, sigma from 1e-6 to 1e6."""
    sigma = 10.0 ** log_sigma
    X, centres = _far_blobs(np.random.default_rng(seed), n_blobs, sizes, dim, sigma,
                            10.0 ** log_offset, 10.0 ** log_separation)
    run = Run(_algorithm(name, sigma), X, centres).run()
    _check_history(run, X, sigma)


# -- A: every half-step's objectives when the centres jump far ------------------
def _check_every_objective(run, X):
    """k-means J; soft k-means J and F; EM log p(D), L and the M-step's covariances: each
    against its definition, from the responsibilities shown at that half-step."""
    alg = run.algorithm
    for i, snap in enumerate(run.history[1:], start=1):
        r = run.responsibilities(i)
        with np.errstate(divide="ignore", invalid="ignore"):
            r_log_r = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
        if not isinstance(alg, GaussianMixtureEM):
            cost = _weighted_cost(X, snap.centres, r)
            assert snap.cost == pytest.approx(cost, rel=REL, abs=1e-300), (i, snap.phase, snap.cost, cost)
            if isinstance(alg, SoftKMeans):
                entropy = math.fsum(r_log_r.ravel()) / alg.beta
                assert abs(snap.free_energy - (cost + entropy)) <= REL * (cost + abs(entropy)), (
                    i, snap.phase, snap.free_energy, cost + entropy)
            continue
        ref, scale = _log_likelihood(X, snap)
        assert abs(snap.log_likelihood - ref) <= REL * (scale + len(X)), (i, snap.log_likelihood, ref)
        K, D = snap.centres.shape
        terms = []
        for k in range(K):
            L = np.linalg.cholesky(snap.covariances[k])
            z = np.linalg.solve(L, (X - snap.centres[k]).T)
            log_joint = (np.log(snap.weights[k]) - 0.5 * D * np.log(2 * np.pi)
                         - np.log(np.diag(L)).sum() - 0.5 * (z ** 2).sum(axis=0))
            terms.append(r[:, k] * log_joint - r_log_r[:, k])
        terms = np.concatenate(terms)
        bound, scale = math.fsum(terms), math.fsum(np.abs(terms))
        assert abs(snap.lower_bound - bound) <= REL * (scale + len(X)), (i, snap.phase, snap.lower_bound, bound)
        if snap.phase == "m":
            for k in range(K):
                if k in snap.empty:
                    continue
                diff = X - snap.centres[k]
                scatter = np.array([[math.fsum(r[:, k] * diff[:, a] * diff[:, b]) for b in range(D)]
                                    for a in range(D)])
                fitted = scatter / (math.fsum(r[:, k]) + 10.0 * np.finfo(float).eps) + alg.reg_covar * np.eye(D)
                assert np.allclose(snap.covariances[k], fitted, rtol=1e-9, atol=1e-9 * np.abs(fitted).max()), (
                    i, k, snap.covariances[k], fitted)


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("R", [1e5, 1e7])
def test_refit_exact_when_centres_jump_far(name, R):
    """Issue #9 item 13: two sigma = 1 clusters at +-R, both starting centres in one of them.
    A centre takes the other cluster and jumps ~R past its width: the refit's J (F, L) about
    the new centres must still match a direct sum (it lost 1e-6 at R = 1e5, 1e-3 at R = 1e7)."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-R, 1, size=(500, 2)), rng.normal(R, 1, size=(500, 2))])
    run = Run(_algorithm(name, 1.0), X, X[[0, 1]]).run()
    _check_every_objective(run, X)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(ALGORITHMS), n_blobs=st.integers(2, 3),
       sizes=st.lists(st.integers(20, 3000), min_size=3, max_size=3), dim=st.integers(1, 3),
       log_sigma=st.floats(-6, 6), log_offset=st.floats(-1, 8), log_separation=st.floats(2, 8),
       seed=st.integers(0, 2**32 - 1))
def test_objectives_are_exact_when_centres_jump_far(name, n_blobs, sizes, dim, log_sigma, log_offset,
                                                    log_separation, seed):
    """Every starting centre in the first blob: the others' points pull centres across up to
    1e8 sigmas in one refit (many chunks and blocks: up to 9,000 points)."""
    sigma = 10.0 ** log_sigma
    rng = np.random.default_rng(seed)
    X, _ = _far_blobs(rng, n_blobs, sizes, dim, sigma, 10.0 ** log_offset, 10.0 ** log_separation)
    first = X[np.argsort(X @ rng.normal(size=dim))[:sizes[0] // 2]]  # near one end of the row
    centres = first[rng.choice(len(first), size=n_blobs, replace=False)]
    run = Run(_algorithm(name, sigma), X, centres).run()
    _check_every_objective(run, X)


# -- B: magnitudes that cannot be represented -------------------------------
OVERFLOW = "squared distances would overflow float64"


def _in_subprocess(code):
    """Run ``code`` in a fresh interpreter: a segfault must fail this test, not end the session."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _normal(n=300, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2))


@pytest.mark.parametrize("scale", [1e155, 1e160, 1e300])
def test_data_whose_squared_distances_overflow_are_refused(scale):
    with pytest.raises(ValueError, match=OVERFLOW) as info:
        Dataset(_normal() * scale)
    assert f"coordinates up to {np.abs(_normal() * scale).max():.3g}" in str(info.value)


def test_check_magnitude_counts_the_points_and_the_spread_not_the_position():
    from engine.validation import check_magnitude
    check_magnitude([-1e151], [1e151], 100)  # 100 * (2e151)^2 = 4e304 fits
    with pytest.raises(ValueError, match=OVERFLOW):
        check_magnitude([-1e151], [1e151], 10**6)  # J over 1e6 such points would not
    check_magnitude([1e300, 0.0], [1e300, 1.0], 10)  # far out, but a small spread
    with pytest.raises(ValueError, match="sums over 1000 points would overflow"):
        check_magnitude([1e306], [1e306], 1000)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_huge_coordinates_with_a_representable_spread_are_exact(name):
    """Coordinates near 1e150: clusters of width 1e140, 1e6 widths apart; fine, and exact."""
    rng = np.random.default_rng(2)
    X = 1e150 + 1e140 * np.concatenate([rng.normal(size=(200, 2)), 1e6 + rng.normal(size=(200, 2))])
    run = Run(_algorithm(name, 1e140), X, X[[0, 300]]).run()
    _check_history(run, X, 1e140)


def test_kmeans_refuses_centres_whose_distances_overflow():
    done = _in_subprocess("""
        import numpy as np
        from engine import KMeans, Run
        X = np.random.default_rng(0).normal(size=(300, 2))
        for centres in ([[1e300, 0.0], [-1e300, 0.0]], [[0.0, 0.0], [1e160, 0.0]]):
            try:
                Run(KMeans(), X, centres).run()
            except ValueError as exc:
                print(exc)
    """)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 2, (done.returncode, done.stderr[-2000:])
    assert all(OVERFLOW in line for line in lines), lines


def test_soft_kmeans_refuses_a_beta_whose_exponents_overflow():
    """Spread 1e151 fits float64 (J too), but beta = 1e9 times its squares does not."""
    X = _normal() * 1e151
    with pytest.raises(ValueError, match=r"beta \* \|\|x - m\|\|\^2 overflows float64.*beta = 1e\+09"):
        Run(SoftKMeans(beta=1e9), X, X[:3]).run()
    with pytest.raises(ValueError, match="overflows float64"):
        Run(SoftKMeans(), _normal(), [[1e300, 0.0], [-1e300, 0.0]]).run()


def test_em_refuses_means_whose_distances_overflow():
    with pytest.raises(ValueError, match="Mahalanobis distances overflow float64"):
        Run(GaussianMixtureEM("identity"), _normal(), [[1e300, 0.0], [-1e300, 0.0]]).run()


@pytest.mark.parametrize("name", ["soft-kmeans", "em"])
def test_one_unreachable_centre_is_left_empty(name):
    """beta ||x - m||^2 = inf for one centre only: it gets r = 0 exactly, the rest is exact."""
    X = _normal()
    centres = np.array([[-1.0, 0.0], [1.0, 0.0], [1e300, 1e300]])
    run = Run(SoftKMeans(beta=2.0, max_iter=10) if name == "soft-kmeans"
              else GaussianMixtureEM("identity", max_iter=10), X, centres).run()
    for snap in run.history[1:]:
        assert snap.counts[2] == 0 and 2 in snap.empty
        np.testing.assert_array_equal(snap.centres[2], centres[2])
        if name == "soft-kmeans":
            assert np.isfinite(snap.free_energy) and np.isfinite(snap.cost)
        else:
            assert np.isfinite(snap.log_likelihood) and np.isfinite(snap.lower_bound)
    r = run.responsibilities(-1)
    assert np.all(r[:, 2] == 0) and np.allclose(r.sum(axis=1), 1.0)
    if name == "soft-kmeans":
        for i, snap in enumerate(run.history[1:], start=1):
            r = run.responsibilities(i)
            assert snap.cost == pytest.approx(_weighted_cost(X, snap.centres[:2], r[:, :2]), rel=REL)


# -- B: the kernels on their own, without the checks ---------------------------
def test_block_pass_never_reads_an_unset_label_when_every_distance_overflows():
    done = _in_subprocess("""
        import numpy as np
        from engine import _blocks
        rng = np.random.default_rng(0)
        XT = np.ascontiguousarray((rng.normal(size=(4 * _blocks.BLOCK, 2)) * 1e160).T)
        pb = _blocks.PointBlocks(XT)
        centres = np.array([[1e300, 1e300], [-1e300, -1e300], [1e300, -1e300]])
        labels = np.full(XT.shape[1], -1, dtype=np.int32)
        block_label = np.full(pb.n_blocks, _blocks.NOT_ASSIGNED, dtype=np.int32)
        stats = np.zeros((3, 4))
        for _ in range(3):
            _blocks.block_assignment_pass(pb.XS, pb.box_min, pb.box_max, pb.block_sums, centres,
                                          centres, block_label, labels, stats)
            _blocks.materialise_labels(block_label, labels)
            assert labels.min() >= 0 and labels.max() < 3, (labels.min(), labels.max())
        print("ok")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr[-2000:])


def test_gaussian_kernels_never_divide_by_zero():
    """Every log joint -inf for every point: r = 0, log p(D) = -inf, no exception."""
    from engine import _kernels
    XT = np.ascontiguousarray(_normal(3000).T)
    means = np.array([[1e300, 0.0], [-1e300, 0.0]])
    chol_prec = np.broadcast_to(np.eye(2), (2, 2, 2)).copy()
    log_coef = np.zeros(2)
    counts, sums, outer, quad, ll, neg_entropy = _kernels.gaussian_pass(XT, means, chol_prec, log_coef,
                                                                       True)
    assert ll == -np.inf
    np.testing.assert_array_equal(counts, 0.0)
    np.testing.assert_array_equal(sums, 0.0)
    assert neg_entropy == 0.0 and np.all(quad == 0.0)
    out = np.full((3000, 2), np.nan)
    _kernels.gaussian_responsibilities(XT, means, chol_prec, log_coef, out)
    np.testing.assert_array_equal(out, 0.0)


# -- B: the command line: exit code 2 and one line -----------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("magnitudes")
    X = _normal()
    np.savetxt(d / "normal.csv", X, delimiter=",")
    np.savetxt(d / "huge.csv", X * 1e160, delimiter=",")
    np.savetxt(d / "wide.csv", X * 1e151, delimiter=",")
    np.savetxt(d / "far_centres.csv", [[1e300, 0.0], [-1e300, 0.0]], delimiter=",")
    return d


@pytest.mark.parametrize("args, message", [
    (["--data", "huge.csv", "--algorithm", "kmeans"], OVERFLOW),
    (["--data", "huge.csv", "--algorithm", "soft-kmeans"], OVERFLOW),
    (["--data", "huge.csv", "--algorithm", "em"], OVERFLOW),
    (["--data", "normal.csv", "--algorithm", "soft-kmeans", "--beta", "1e308"], "beta"),
    (["--data", "wide.csv", "--algorithm", "soft-kmeans", "--beta", "1e9"], "beta = 1e+09"),
    (["--data", "normal.csv", "--algorithm", "kmeans", "--centres", "far_centres.csv"], OVERFLOW),
    (["--data", "normal.csv", "--algorithm", "em", "--centres", "far_centres.csv"], "overflow float64"),
])
def test_command_line_refuses_with_one_line(files, args, message):
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "run", *args, "--max-iter", "5"],
                          cwd=files, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
