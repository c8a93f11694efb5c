"""Bad input gets one clear ValueError; degenerate but legal data run without NaN and say so."""

import numpy as np
import pytest

from engine import GaussianMixtureEM, KMeans, Run, SoftKMeans
from engine.initialisation import forgy, initial_centres, kmeans_plus_plus, random_uniform
from engine.presets import PRESETS, old_faithful
from engine.sampling import Mixture

GOOD = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])


@pytest.mark.parametrize("X, message", [
    ([[0.0, np.nan], [1.0, 1.0]], "NaN or infinite"),
    ([[0.0, np.inf], [1.0, 1.0]], "NaN or infinite"),
    (np.empty((0, 2)), "empty"),
    ([1.0, 2.0, 3.0], "2-D"),
    ([["a", "b"]], "numeric"),
    (np.empty((3, 0)), "no features"),
])
def test_bad_data(X, message):
    with pytest.raises(ValueError, match=message):
        Run(KMeans(), X, [[0.0, 0.0]])


@pytest.mark.parametrize("centres, message", [
    (np.empty((0, 2)), "at least one centre"),
    ([[0.0, 0.0, 0.0]], r"shape \(K, 2\)"),
    ([[0.0, np.nan]], "NaN"),
    (np.zeros((5, 2)), "larger than the number of points"),
])
def test_bad_centres(centres, message):
    with pytest.raises(ValueError, match=message):
        Run(KMeans(), GOOD, centres)


@pytest.mark.parametrize("make, message", [
    (lambda: SoftKMeans(beta=0.0), "beta must be from 1e-09 to 1e"),
    (lambda: SoftKMeans(beta=-1.0), "beta must be from"),
    (lambda: SoftKMeans(beta=float("nan")), "beta must be finite"),
    (lambda: KMeans(max_iter=0), "max_iter"),
    (lambda: KMeans(tol=-1.0), "tol"),
    (lambda: GaussianMixtureEM("banana"), "covariance_type must be one of"),
    (lambda: GaussianMixtureEM(reg_covar=-1e-3), "reg_covar"),
])
def test_bad_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("kwargs, message", [
    ({"covariances": [[[1.0, 2.0], [2.0, 1.0]]] * 2}, "not positive definite"),
    ({"covariances": [[[1.0, 0.5], [0.0, 1.0]]] * 2}, "not symmetric"),
    ({"covariances": np.eye(3)}, "shape"),
    ({"weights": [0.5, 0.6]}, "sum to 1"),
    ({"weights": [1.5, -0.5]}, "positive"),
    ({"weights": [1.0]}, "shape"),
])
def test_bad_em_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Run(GaussianMixtureEM("full"), GOOD, GOOD[:2], **kwargs)


def test_k_must_be_an_integer_in_range():
    for k, message in [(0, "at least 1"), (5, "larger than"), (2.5, "integer")]:
        with pytest.raises(ValueError, match=message):
            forgy(GOOD, k)


@pytest.mark.parametrize("algorithm", [KMeans(), SoftKMeans(beta=3.0),
                                       GaussianMixtureEM("full"), GaussianMixtureEM("spherical"),
                                       GaussianMixtureEM("tied"), GaussianMixtureEM("identity")])
def test_identical_points_run_without_nan(algorithm):
    X = np.ones((20, 2))
    run = Run(algorithm, X, [[1.0, 1.0], [2.0, 2.0], [0.0, 3.0]]).run()
    for snap in run.history:
        assert np.all(np.isfinite(snap.centres))
        value = algorithm.objective(snap)
        assert value is None or np.isfinite(value)
    assert run.finished
    if isinstance(algorithm, KMeans):
        assert run.history[1].empty == (1, 2)
        np.testing.assert_array_equal(run.current.centres[1:], [[2.0, 2.0], [0.0, 3.0]])


def test_duplicates_and_kmeans_plus_plus():
    X = np.repeat(np.array([[0.0, 0.0], [3.0, 3.0]]), 10, axis=0)
    centres = kmeans_plus_plus(X, 3, seed=1)  # more centres than distinct points
    assert centres.shape == (3, 2)
    run = Run(KMeans(), X, centres).run()
    assert run.converged and np.isfinite(run.current.cost)


def test_collapsing_component_is_flagged():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(50, 2)), [[40.0, 40.0]]])  # one far point
    run = Run(GaussianMixtureEM("full", max_iter=50), X, [[0.0, 0.0], [40.0, 40.0]]).run()
    assert 1 in run.current.collapsed
    assert np.all(np.isfinite(run.current.covariances))
    assert np.isfinite(run.current.log_likelihood)


def test_collinear_points_with_full_covariance():
    t = np.linspace(-1, 1, 60)
    X = np.c_[t, 2 * t]
    run = Run(GaussianMixtureEM("full", max_iter=30), X, [[-0.5, -1.0], [0.5, 1.0]]).run()
    assert np.all(np.isfinite(run.current.covariances))
    assert np.all([np.isfinite(s.log_likelihood) for s in run.history])
    assert run.current.collapsed == (0, 1)
    # without regularisation the covariances are singular: jittered, still finite
    run = Run(GaussianMixtureEM("full", reg_covar=0.0, max_iter=5), X,
              [[-0.5, -1.0], [0.5, 1.0]]).run()
    assert np.all(np.isfinite([s.log_likelihood for s in run.history]))
    assert run.current.collapsed


def test_initialisations_are_reproducible_and_sensible(three_blobs):
    for method in ("forgy", "random", "kmeans++"):
        a = initial_centres(method, three_blobs, 4, seed=3)
        b = initial_centres(method, three_blobs, 4, seed=3)
        c = initial_centres(method, three_blobs, 4, seed=4)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert np.all(a >= three_blobs.min(0)) and np.all(a <= three_blobs.max(0))
    chosen = forgy(three_blobs, 4, seed=0)
    assert len({tuple(p) for p in chosen}) == 4
    assert all((three_blobs == p).all(1).any() for p in chosen)
    assert random_uniform(three_blobs, 2, seed=0).shape == (2, 2)
    with pytest.raises(ValueError, match="init must be one of"):
        initial_centres("magic", three_blobs, 2)


def test_sampling_is_reproducible():
    mixture = Mixture([0.2, 0.8], [[0.0, 0.0], [10.0, 0.0]], [np.eye(2), np.eye(2) * 0.1])
    X1, z1 = mixture.sample(1000, seed=5)
    X2, z2 = mixture.sample(1000, seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(z1, z2)
    assert abs((z1 == 0).mean() - 0.2) < 0.05
    np.testing.assert_allclose(X1[z1 == 1].mean(0), [10.0, 0.0], atol=0.1)
    assert Mixture.from_dict(mixture.to_dict()).weights.tolist() == [0.2, 0.8]
    with pytest.raises(ValueError, match="not positive definite"):
        Mixture([1.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, -1.0]]])
    with pytest.raises(ValueError, match="needs weights"):
        Mixture.from_dict({"means": [[0, 0]]})


def test_presets_sample_and_old_faithful_is_standardised():
    for _, mixture, k, centres in PRESETS.values():
        X, _ = mixture.sample(200, seed=0)
        assert X.shape == (200, 2)
        assert centres is None or centres.shape == (k, 2)
    X = old_faithful()
    assert X.shape == (272, 2)
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(0), 1.0)


def test_local_optimum_preset_traps_kmeans():
    _, mixture, k, centres = PRESETS["local-optimum"]
    X, z = mixture.sample(400, seed=0)
    trapped = Run(KMeans(), X, centres).run()
    good = Run(KMeans(), X, mixture.means).run()
    assert trapped.current.cost > 1.5 * good.current.cost
