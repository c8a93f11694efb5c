"""The compiled pieces on their own: our vectorised exp, the k-means block pass, and the readout
the soft pass writes for the window."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import _blocks, _kernels


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


def test_vectorised_log_is_within_one_ulp_and_refuses_empty_sums():
    """log s for the pass's sums s (1 <= s <= K, or 0 where every log joint was -inf), and far beyond."""
    rng = np.random.default_rng(3)
    s = np.concatenate([[1.0, 2.0, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0), 10.0],
                        rng.uniform(1.0, 10.0, 20_000), np.exp(rng.uniform(-690.0, 690.0, 20_000))])
    log_s, inverse = np.zeros_like(s), s.copy()
    _kernels._log_and_inverse(inverse, log_s, np.empty_like(s), np.empty_like(s))
    ulps = np.abs(log_s - np.log(s)) / np.spacing(np.abs(np.log(s)))
    assert log_s[0] == 0.0 and ulps[1:].max() <= 1.0
    np.testing.assert_array_equal(inverse, 1.0 / s)
    mx = rng.normal(size=s.size)  # added to what is there: the log joints' maximum
    out = mx.copy()
    _kernels._log_and_inverse(s.copy(), out, np.empty_like(s), np.empty_like(s))
    np.testing.assert_array_equal(out, mx + log_s)
    empty, mx = np.array([0.0, np.nan]), np.zeros(2)
    _kernels._log_and_inverse(empty, mx, np.empty(2), np.empty(2))
    np.testing.assert_array_equal(mx, [-np.inf, -np.inf])
    np.testing.assert_array_equal(empty, [0.0, 0.0])


def _check_against_brute_force(X, centre_path):
    """Run the block assignment pass along a path of centres; compare each step with a full scan."""
    n, D = X.shape
    XT = np.ascontiguousarray(X.T)
    pb = _blocks.PointBlocks(XT)
    offset, XS, box_min, box_max, block_sums = pb.offset, pb.XS, pb.box_min, pb.box_max, pb.block_sums
    # the points are a permutation of X, and every block's box holds its points
    np.testing.assert_array_equal(np.sort(XS, axis=1), np.sort(XT, axis=1))
    for b in range(box_min.shape[0]):
        pts = XS[:, b * _blocks.BLOCK:(b + 1) * _blocks.BLOCK]
        assert np.all(pts.min(1) >= box_min[b]) and np.all(pts.max(1) <= box_max[b])
    K = centre_path[0].shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    block_label = np.full(box_min.shape[0], _blocks.NOT_ASSIGNED, dtype=np.int32)
    stats = np.zeros((K, D + 2))
    Xs = XS.T
    previous = None
    for step, centres in enumerate(centre_path):
        changed = _blocks.block_assignment_pass(XS, box_min, box_max, block_sums, offset,
                                                np.ascontiguousarray(centres), block_label, labels,
                                                stats)
        ref = ((Xs[:, None] - centres[None]) ** 2).sum(-1).argmin(1)  # ties: lowest index
        mixed = np.repeat(block_label == _blocks.MIXED, _blocks.BLOCK)[:n]
        np.testing.assert_array_equal(labels[mixed], ref[mixed])  # written only where a block is mixed
        full = labels.copy()
        _blocks.materialise_labels(block_label, full)
        np.testing.assert_array_equal(full, ref)
        assert changed == (n if step == 0 else np.count_nonzero(ref != previous))
        np.testing.assert_array_equal(stats[:, 0], np.bincount(ref, minlength=K))
        sums = np.array([(Xs[ref == k] - offset).sum(0) for k in range(K)])
        np.testing.assert_allclose(stats[:, 1:D + 1], sums, atol=1e-9)
        sq = [((Xs[ref == k] - offset) ** 2).sum() for k in range(K)]
        np.testing.assert_allclose(stats[:, D + 1], sq, rtol=1e-12, atol=1e-9)
        # a block labelled k has every point labelled k
        for b in np.flatnonzero(block_label >= 0):
            assert np.all(ref[b * _blocks.BLOCK:(b + 1) * _blocks.BLOCK] == block_label[b])
        previous = ref


def _lloyd_path(X, centres, steps):
    path = [centres]
    for _ in range(steps):
        ref = ((X[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.array([X[ref == k].mean(0) if np.any(ref == k) else centres[k]
                            for k in range(len(centres))])
        path.append(centres)
    return path


def test_block_pass_follows_lloyd_on_clustered_data():
    rng = np.random.default_rng(0)
    n = 40 * _blocks.BLOCK + 17  # a short last block
    X = np.concatenate([rng.normal(loc, 0.5, size=(n // 4, 2))
                        for loc in ((0, 0), (4, 0), (0, 4), (4, 4))] + [rng.normal(size=(n % 4, 2))])
    _check_against_brute_force(X, _lloyd_path(X, X[:5].copy(), 8))


def test_block_pass_handles_jumps_ties_and_higher_dimensions():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9 * _blocks.BLOCK + 3, 3)) * [1.0, 5.0, 0.2]
    far = np.array([[0.0, 0, 0], [30, 0, 0], [0, 30, 0]])
    path = [far,  # every block uniform: whole blocks change hands below
            far[[1, 0, 2]],
            np.array([[0.0, 0, 0], [0, 0, 0], [1, 1, 0]]),  # a duplicated centre: ties to index 0
            np.array([[0.0, -1, 0], [0, 1, 0], [0, 0, 0.1]]),
            far]
    _check_against_brute_force(X, path)


def test_block_pass_on_degenerate_data():
    X = np.ones((3 * _blocks.BLOCK, 2))  # one point, many times: zero-sized boxes
    _check_against_brute_force(X, [np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([[3.0, 3.0], [0.0, 0.0]])])
    X = np.random.default_rng(2).normal(size=(50, 2))  # fewer points than one block
    _check_against_brute_force(X, _lloyd_path(X, X[:3].copy(), 4))


def _mixed_fraction(X, centres):
    XT = np.ascontiguousarray(X.T)
    pb = _blocks.PointBlocks(XT)
    offset, XS, box_min, box_max, block_sums = pb.offset, pb.XS, pb.box_min, pb.box_max, pb.block_sums
    block_label = np.full(box_min.shape[0], _blocks.NOT_ASSIGNED, dtype=np.int32)
    _blocks.block_assignment_pass(XS, box_min, box_max, block_sums, offset, centres, block_label,
                                  np.full(X.shape[0], -1, dtype=np.int32), np.zeros((len(centres), 4)))
    return np.mean(block_label == _blocks.MIXED)


def test_blocks_stay_compact_when_one_point_is_far_away(monkeypatch):
    """Only blocks on a boundary are scanned point by point; a far outlier must not smear them all."""
    rng = np.random.default_rng(3)
    means = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    X = np.concatenate([rng.normal(m, 1.0, size=(10_000, 2)) for m in means])
    X[123] = [1e5, -1e5]
    assert _mixed_fraction(X, means) < 0.05  # 0.016 measured
    monkeypatch.setattr(_blocks, "_TAIL", 0.0)  # grid over the bounding box: the outlier's way
    assert _mixed_fraction(X, means) > 0.2  # 0.29 measured


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3 * _blocks.BLOCK), dim=st.integers(1, 4), k=st.integers(1, 6),
       grid=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 2**31 - 1))
def test_block_pass_equals_a_full_scan_on_any_data(n, dim, k, grid, seed):
    """Random points, often on a coarse grid (exact ties between centres), random centre paths."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim)) * rng.uniform(0.1, 10, size=dim)
    if grid:
        X = np.round(X / grid) * grid
    path = [X[rng.integers(0, n, size=k)] + (rng.integers(0, 2, size=(k, 1)) * rng.normal(size=(k, dim)))
            for _ in range(4)]
    _check_against_brute_force(X, path)


def test_runs_on_one_dataset_share_its_blocks_but_not_their_labels():
    from engine import Dataset, KMeans, Run
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(m, 1.0, size=(2_000, 2)) for m in ((0, 0), (5, 0), (0, 5))])
    data = Dataset(X)
    starts = (X[:3].copy(), X[-4:].copy())
    shared = [Run(KMeans(), data, c) for c in starts]
    blocks = data.blocks
    while not all(r.finished for r in shared):  # interleaved, as a restart in the window would
        for r in shared:
            r.step()
    assert data.blocks is blocks  # built once
    for run, c in zip(shared, starts):
        alone = Run(KMeans(), Dataset(X), c).run()
        assert [s.cost for s in run.history] == [s.cost for s in alone.history]
        np.testing.assert_array_equal(run.current.centres, alone.current.centres)


@pytest.mark.parametrize("algorithm", ["soft-kmeans", "em"])
def test_the_readout_is_the_responsibilities_times_the_vectors(algorithm, rng):
    """What the pass writes for the window's colours: sum_k r_k^(n) vectors[k], for the last two
    responsibility half-steps, shown at both halves of their iteration."""
    from engine import Scenario
    X = np.r_[rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + 4.0]
    vectors = rng.uniform(0, 255, size=(3, 3))
    run = Scenario(points=X, algorithm=algorithm, centres=X[:3]).start()
    run.keep_readout(vectors)
    run.run(7)
    kept = [i for i in range(len(run)) if run.readout(i) is not None]
    assert kept == [5, 6, 7]  # E-steps 5 and 7, and the M-step 6 that shows step 5's r
    for i in kept:
        packed = run.readout(i)
        assert packed.dtype == np.uint32 and packed.shape == (len(X),)
        assert np.all(packed >> 24 == 0xFF)  # opaque
        channels = np.stack([(packed >> 16) & 0xFF, (packed >> 8) & 0xFF, packed & 0xFF], axis=1)
        want = run.responsibilities(i) @ vectors
        # rounded to the nearest 8-bit level (within float error at a .5)
        assert np.abs(channels - want).max() <= 0.5 + 1e-6
    assert run.readout(3) is None  # older steps are recomputed, never kept


def test_the_packed_readout_clips_each_channel():
    """Channels past 0..255 (colours given out of range) are clipped, not wrapped around."""
    from engine import Scenario
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    run = Scenario(points=X, algorithm="em", centres=X[[0, 2]]).start()
    run.keep_readout(np.array([[300.0, -20.0, 128.0], [0.0, 255.0, 254.6]]))
    run.run(3)  # the start's pass came before keep_readout: E-step 3 is the first kept
    packed = run.readout(3)
    assert (packed[0] >> 16) & 0xFF == 255  # 300 clipped, not 300 - 256
    assert (packed[0] >> 8) & 0xFF == 0  # -20 clipped, not wrapped
    assert packed[0] & 0xFF == 128
    assert packed[3] & 0xFF == 255  # 254.6 rounds to 255


def test_k_means_keeps_no_readout(rng):
    from engine import Scenario
    X = rng.normal(size=(500, 2))
    run = Scenario(points=X, algorithm="kmeans", centres=X[:3]).start()
    run.keep_readout(np.ones((3, 3)))
    run.run(4)
    assert all(run.readout(i) is None for i in range(len(run)))
    with pytest.raises(ValueError, match="shape"):
        run.keep_readout(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        run.keep_readout(np.ones((3, 4)))  # three channels, no more


def test_the_task_queue_hands_out_every_task_once():
    """Threads take tasks from one counter: none is skipped, none is done twice."""
    import numba

    from engine.task_queue import WORKERS, take_task

    @numba.njit(parallel=True)
    def taken(n_tasks):
        times = np.zeros(n_tasks, np.int64)
        counter = np.zeros(1, np.int64)
        for _ in numba.prange(WORKERS):
            while True:
                task = take_task(counter)
                if task >= n_tasks:
                    break
                times[task] += 1  # one task, one slot: no race
        return times

    for n_tasks in (0, 1, WORKERS - 1, 10_007):
        times = taken(n_tasks)
        assert len(times) == n_tasks and np.all(times == 1)


def test_the_pass_is_the_same_whatever_the_thread_count(rng):
    """Chunks are handed out one at a time, to whichever thread is free: the statistics
    (reduced in chunk order) and the readout must not depend on who did what."""
    import numba

    from engine import _kernels
    X = np.r_[rng.normal(size=(40_000, 2)), rng.normal(size=(30_000, 2)) + 5.0]
    XT = np.ascontiguousarray(X.T)
    means = np.array([[0.0, 0.0], [5.0, 5.0], [2.0, 3.0]])
    chol = np.broadcast_to(np.eye(2), (3, 2, 2)).copy()
    log_coef = np.log(np.full(3, 1 / 3)) - np.log(2 * np.pi)
    colours = np.array([[255.0, 0, 0], [0, 255.0, 0], [0, 0, 255.0]])

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only: nothing to compare")

    def run_pass(threads):
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            readout = np.zeros(len(X), np.uint32)
            stats = _kernels.gaussian_chunk_pass(XT, means, chol, log_coef, True, 0.0, colours, readout)
        finally:
            numba.set_num_threads(before)
        return stats, readout

    one, readout_one = run_pass(1)
    many, readout_many = run_pass(numba.config.NUMBA_NUM_THREADS)
    assert one[0].sum() == pytest.approx(len(X), rel=1e-12)  # every chunk counted, once
    assert np.all(readout_one >> 24 == 0xFF)  # every point's colour written
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(readout_one, readout_many)
