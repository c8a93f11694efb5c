"""Property tests: the objectives move the right way on any data; snapshots are immutable."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine import GaussianMixtureEM, KMeans, Run, SoftKMeans
from engine.initialisation import forgy


@st.composite
def problems(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-50, 50, allow_subnormal=False)))
    k = draw(st.integers(1, min(n, 4)))
    seed = draw(st.integers(0, 2**16))
    return X, forgy(X, k, seed)


def _slack(values):
    return 1e-9 * max(1.0, max(abs(v) for v in values))


@given(problems())
def test_kmeans_cost_never_increases(problem):
    X, centres = problem
    run = Run(KMeans(max_iter=50), X, centres).run()
    costs = [s.cost for s in run.history[1:]]
    assert all(np.isfinite(costs))
    for a, b in zip(costs, costs[1:]):
        assert b <= a + _slack(costs)
    assert run.converged or run.n_iter == 50


@given(problems(), st.floats(1e-3, 1e3))
def test_soft_kmeans_free_energy_never_increases(problem, beta):
    X, centres = problem
    run = Run(SoftKMeans(beta=beta, max_iter=30), X, centres).run()
    energies = [s.free_energy for s in run.history[1:]]
    assert all(np.isfinite(energies))
    for a, b in zip(energies, energies[1:]):
        assert b <= a + _slack(energies)


@given(problems(), st.sampled_from(["identity", "spherical", "diag", "full", "tied"]))
def test_em_bound_never_decreases_and_touches_the_likelihood(problem, cov_type):
    X, means = problem
    run = Run(GaussianMixtureEM(cov_type, max_iter=20), X, means).run()
    bounds = [s.lower_bound for s in run.history[1:]]
    lls = [s.log_likelihood for s in run.history]
    assert all(np.isfinite(bounds)) and all(np.isfinite(lls))
    # quadratic forms in Sigma^-1 carry rounding of about eps * cond(Sigma) per point;
    # a covariance collapsed onto a line (reg_covar 1e-6 against a variance of
    # 1e3) has cond ~1e9, so the slack must scale with it
    cond = max(np.linalg.cond(s.covariances).max() for s in run.history)
    slack = 1e-9 * max(1.0, *map(abs, lls)) + 10 * X.size * np.finfo(float).eps * cond
    for a, b in zip(bounds, bounds[1:]):
        assert b >= a - slack
    for snap in run.history[1:]:
        assert snap.lower_bound <= snap.log_likelihood + slack
        if snap.phase == "e":
            assert snap.lower_bound == pytest.approx(snap.log_likelihood, rel=1e-7, abs=slack)
    m_steps = [s.log_likelihood for s in run.history if s.phase in ("init", "m")]
    for a, b in zip(m_steps, m_steps[1:]):
        assert b >= a - slack


def test_snapshots_are_immutable(three_blobs):
    run = Run(GaussianMixtureEM("full", max_iter=2), three_blobs, three_blobs[:3]).run()
    snap = run.history[2]
    with pytest.raises(ValueError):
        snap.centres[0, 0] = 1.0
    with pytest.raises(ValueError):
        snap.covariances[0, 0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.cost = 3.0
    centres = three_blobs[:3].copy()
    run = Run(KMeans(), three_blobs, centres)
    centres[0] = 99.0  # the caller's array is not the snapshot's
    assert run.history[0].centres[0, 0] != 99.0


def _history_bytes(run):
    total = 0
    for snap in run.history:
        for f in dataclasses.fields(snap):
            value = getattr(snap, f.name)
            if isinstance(value, np.ndarray):
                total += value.nbytes
    return total


@pytest.mark.parametrize("algorithm", [KMeans(max_iter=5, tol=0), SoftKMeans(max_iter=5, tol=0),
                                       GaussianMixtureEM("full", max_iter=5, tol=0)])
def test_history_memory_does_not_grow_with_n(algorithm):
    rng = np.random.default_rng(0)
    sizes = []
    for n in (100, 20_000):
        X = rng.normal(size=(n, 2))
        run = Run(algorithm, X, [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        for _ in range(8):
            run.step()
        assert len(run) == 9
        sizes.append(_history_bytes(run))
    assert sizes[0] == sizes[1] > 0
