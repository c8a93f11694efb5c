"""The compiled pieces on their own: our vectorised exp and the chunked passes."""

import numpy as np

from engine import _kernels


def test_exp_is_accurate_over_the_whole_range():
    z = np.concatenate([-np.linspace(0, 50, 100_001), [-700.0, -707.9, -708.5, -1e4, -np.inf]])
    mx = np.zeros_like(z)
    out = np.empty_like(z)
    total = np.zeros_like(z)
    _kernels._exp_shifted(z, mx, out, np.empty_like(z), total)
    ref = np.exp(z)
    normal = ref > 1e-300
    np.testing.assert_allclose(out[normal], ref[normal], rtol=4e-16 * 4)
    assert np.all(out[~normal] <= 1e-300) and np.all(out >= 0)
    np.testing.assert_array_equal(total, out)


def test_assignment_pass_agrees_with_brute_force_across_chunks_and_iterations():
    rng = np.random.default_rng(0)
    n = 3 * _kernels.CHUNK + 17
    X = rng.normal(size=(n, 2))
    XT = np.ascontiguousarray(X.T)
    offset = X.mean(0)
    centres = X[:4].copy()
    labels = np.full(n, -1, dtype=np.int32)
    upper, lower = np.zeros(n), np.zeros(n)
    stats = np.zeros((4, 4))
    moved = np.zeros(4)
    for step in range(6):
        changed = _kernels.hard_assignment_pass(XT, offset, centres, moved, labels, upper, lower, stats)
        d2 = ((X[:, None] - centres[None]) ** 2).sum(-1)
        ref = d2.argmin(1)
        np.testing.assert_array_equal(labels, ref)
        assert step > 0 or changed == n
        np.testing.assert_array_equal(stats[:, 0], np.bincount(ref, minlength=4))
        sums = np.array([(X[ref == k] - offset).sum(0) for k in range(4)])
        np.testing.assert_allclose(stats[:, 1:3], sums, atol=1e-9)
        np.testing.assert_allclose(stats[:, 3], [((X[ref == k] - offset) ** 2).sum() for k in range(4)])
        # the bounds really are bounds
        assert np.all(upper >= np.sqrt(d2[np.arange(n), ref]) - 1e-12)
        new = np.array([X[ref == k].mean(0) for k in range(4)])
        moved = np.sqrt(((new - centres) ** 2).sum(1))
        centres = new
