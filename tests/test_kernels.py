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


def test_passes_agree_across_chunk_boundaries():
    rng = np.random.default_rng(0)
    n = 3 * _kernels.CHUNK + 17
    X = rng.normal(size=(n, 2))
    XT = np.ascontiguousarray(X.T)
    centres = X[:4].copy()
    labels = np.full(n, -1, dtype=np.int32)
    changed, counts, sums, sq = _kernels.hard_assignment_pass(XT, centres, labels)
    d2 = ((X[:, None] - centres[None]) ** 2).sum(-1)
    ref = d2.argmin(1)
    np.testing.assert_array_equal(labels, ref)
    assert changed == n and counts.sum() == n
    np.testing.assert_allclose(sq, [d2[ref == k, k].sum() for k in range(4)])
    np.testing.assert_allclose(sums, [(X[ref == k] - centres[k]).sum(0) for k in range(4)], atol=1e-9)
    changed, *_ = _kernels.hard_assignment_pass(XT, centres, labels)
    assert changed == 0
