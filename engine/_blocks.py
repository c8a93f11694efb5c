"""Point blocks: the spatial index that lets k-means' assignment step skip work, exactly.

The points are put in Z-order (Morton order) of a grid over the plane
and cut into blocks of ``BLOCK`` consecutive points.  Each block keeps its
bounding box and its statistics.  In an assignment step, a centre whose smallest
distance to a block's box exceeds the largest distance from another centre to
that box cannot be the nearest centre of any point in the block (the
"filtering" idea of Kanungo et al. 2002, with flat blocks in place of a
kd-tree).  Most blocks are left with one candidate.  If their points already
had that label, its points keep it; if not, they change cluster in one go.
Only blocks that straddle a boundary between clusters are scanned point by
point, and only against their candidate centres.  Candidates are also ruled out
pair by pair, as Kanungo et al. do: z goes when the bisector between z and the
candidate nearest the box's middle misses the box (on a photo's pixels, 3-D, this
halves the blocks scanned point by point).

Every pass returns each cluster's count, sum of (x - m_k) and sum of
||x - m_k||^2 about the centres m_k it was given, recombined from scratch: no
running sums, so nothing drifts.  A one-candidate block adds its own
statistics (count n, anchor a = its mean, sum of (x - a), sum of ||x - a||^2,
as in Chan et al.'s pairwise combination) moved to m_k,
sum ||x - m||^2 = sum ||x - a||^2 + 2 (a - m) . sum (x - a) + n ||a - m||^2,
where every difference is taken next to the points and nothing large cancels;
a boundary block adds the distances it measured.  So J and the refit are exact
to rounding wherever the clusters sit (1e8 standard deviations from each other
or from 0), for O(D) work per block per pass.

The labels are those of Lloyd's full scan, ties to the lowest index: a centre
is ruled out only when it is farther from every point of the box by a relative
margin far above rounding.  Nothing depends on how far the centres moved, so a
pass is valid for any centres.
"""

import numpy as np
from numba import njit, prange

BLOCK = 128
_MAX_CELL_BITS = 18  # at most 2**18 grid cells: the counting sort's table stays in cache
_POINTS_PER_CELL = 8
_SAMPLE = 65536  # points the grid's extent is taken from
_TAIL = 0.001  # quantile at each end left outside the grid's extent
_MARGIN = 1e-12  # relative; rounding in a squared distance is ~1e-16
_BLOCKS_PER_TASK = 64

NOT_ASSIGNED = -2  # block_label: no point of the block has a label yet
MIXED = -1  # block_label: the block's points do not all share one label

_FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(parallel=True, cache=True, nogil=True)
def _cell_codes(XT, dims, lo, scale, top, spread, codes):
    """codes[n] = Morton code of the grid cell holding x^(n), over the features ``dims``.

    Cell of feature dims[j]: (x - lo[j]) * scale[j], clipped to 0..top.
    """
    N = XT.shape[1]
    nd = dims.shape[0]
    for n in prange(N):
        code = 0
        for j in range(nd):
            c = min(max(int((XT[dims[j], n] - lo[j]) * scale[j]), 0), top)
            code |= spread[c] << (nd - 1 - j)
        codes[n] = code


@njit(parallel=True, cache=True, nogil=True)
def _counting_sort(XT, codes, n_cells, n_parts, out):
    """out = XT's columns sorted by ``codes``, stably (counting sort, one histogram per part)."""
    D, N = XT.shape
    part = (N + n_parts - 1) // n_parts
    hist = np.zeros((n_parts, n_cells), dtype=np.int64)
    for t in prange(n_parts):
        h = hist[t]
        for n in range(t * part, min(N, (t + 1) * part)):
            h[codes[n]] += 1
    acc = 0
    for c in range(n_cells):
        for t in range(n_parts):
            count = hist[t, c]
            hist[t, c] = acc
            acc += count
    for t in prange(n_parts):
        pos = hist[t]
        for n in range(t * part, min(N, (t + 1) * part)):
            c = codes[n]
            i = pos[c]
            for d in range(D):
                out[d, i] = XT[d, n]
            pos[c] = i + 1


@njit(parallel=True, cache=True, nogil=True)
def _block_boxes(XS, box_min, box_max, block_sums):
    """Per block: bounding box, and [count, anchor a, sum of (x - a), sum of ||x - a||^2].

    The anchor is the block's mean as rounded (kept inside the box), so the
    residual sum of (x - a) is the rounding's tiny remainder, kept so that
    moving the statistics to another centre loses nothing.  Two passes over a
    block's points (in cache); no fastmath, so nothing is re-associated.
    """
    D, N = XS.shape
    for b in prange(box_min.shape[0]):
        s = b * BLOCK
        e = min(N, s + BLOCK)
        block_sums[b, 0] = e - s
        q = 0.0
        for d in range(D):
            lo = np.inf
            hi = -np.inf
            total = 0.0
            for i in range(s, e):
                v = XS[d, i]
                lo = min(lo, v)
                hi = max(hi, v)
                total += v
            a = min(max(total / (e - s), lo), hi)
            r = 0.0
            for i in range(s, e):
                t = XS[d, i] - a
                r += t
                q += t * t
            box_min[b, d] = lo
            box_max[b, d] = hi
            block_sums[b, 1 + d] = a
            block_sums[b, 1 + D + d] = r
        block_sums[b, 1 + 2 * D] = q


def _spread_table(bits, n_dims):
    """spread[v]: bit b of v moved to bit b * n_dims (interleaving for Morton codes)."""
    v = np.arange(1 << bits, dtype=np.int32)
    out = np.zeros_like(v)
    for b in range(bits):
        out |= ((v >> b) & 1) << (b * n_dims)
    return out


def block_sorted(XT, n_parts):
    """XT's columns in Z-order of a grid over (almost all of) the points.

    XT : (D, N); returns a new (D, N) array.  The grid is fine enough that a
    block of ``BLOCK`` points spans about a dozen cells: ``_POINTS_PER_CELL``
    points a cell, at most 2**18 cells, over the (at most 18) widest features.
    """
    D, N = XT.shape
    total_bits = int(np.clip(np.log2(max(N, 1) / _POINTS_PER_CELL), 0, _MAX_CELL_BITS))
    n_dims = min(D, max(total_bits, 1))
    bits = total_bits // n_dims
    out = np.empty((D, N))
    if bits == 0:
        out[:] = XT
        return out
    # The grid spans the 0.1%..99.9% quantiles of a sample, not the bounding
    # box: one far outlier would otherwise squeeze every other point into one
    # cell.  Points outside go to the edge cells; the order only affects speed.
    sample = XT[:, ::max(1, N // _SAMPLE)]
    lo_all, hi_all = np.quantile(sample, [_TAIL, 1.0 - _TAIL], axis=1)
    dims = np.argsort(lo_all - hi_all, kind="stable")[:n_dims].astype(np.int64)  # widest first
    lo = lo_all[dims]
    span = hi_all[dims] - lo
    scale = np.where(span > 0, (1 << bits) / np.where(span > 0, span, 1.0), 0.0)
    codes = np.empty(N, dtype=np.int32)
    _cell_codes(XT, dims, lo, scale, (1 << bits) - 1, _spread_table(bits, n_dims), codes)
    _counting_sort(XT, codes, 1 << (bits * n_dims), n_parts, out)
    return out


class PointBlocks:
    """The points in block order, each block's box and statistics; read-only once built.

    XT : (D, N).  Attributes: ``offset`` (D,), the data's mean (a reference
    point for callers that want sums about one point); ``XS`` (D, N) the points
    sorted; ``box_min``, ``box_max`` (n_blocks, D); ``block_sums``
    (n_blocks, 2 D + 2) per block [count, anchor a (D): the block's mean,
    sum of (x - a) (D), sum of ||x - a||^2].
    """

    def __init__(self, XT, n_parts=2):
        D, N = XT.shape
        self.offset = XT.mean(axis=1)
        self.XS = block_sorted(XT, n_parts)
        n_blocks = (N + BLOCK - 1) // BLOCK
        self.box_min = np.empty((n_blocks, D))
        self.box_max = np.empty((n_blocks, D))
        self.block_sums = np.empty((n_blocks, 2 * D + 2))
        _block_boxes(self.XS, self.box_min, self.box_max, self.block_sums)
        for arr in (self.offset, self.XS, self.box_min, self.box_max, self.block_sums):
            arr.setflags(write=False)

    @property
    def n_blocks(self):
        return self.box_min.shape[0]


@njit(cache=True, nogil=True, fastmath=_FAST)
def _assign_blocks(XS, box_min, box_max, block_sums, centres, block_label, labels, b0, b1, acc,
                   near, candidates, d_best, d, best):
    """The assignment step over blocks b0..b1-1 (one task): ``labels`` and ``block_label``
    updated, each cluster's [count, sum of (x - m_k), sum of ||x - m_k||^2] about m_k added
    to ``acc`` (K, D + 2).  Scratch: ``near``, ``candidates`` (K,); ``d_best``, ``d``,
    ``best`` (BLOCK,).  Step 1b rules centres out pair by pair (fewer boundary blocks and
    candidates, the same labels).  Returns how many labels changed.  One
    function per task, with no calls per block: a call with array arguments costs about a
    one-candidate block's work.
    """
    D, N = XS.shape
    K = centres.shape[0]
    changed = 0
    for b in range(b0, b1):
        # 1. which centres can be nearest to some point of the box
        least_far = np.inf
        for k in range(K):
            near_sq = 0.0
            far_sq = 0.0
            for j in range(D):
                below = box_min[b, j] - centres[k, j]
                above = centres[k, j] - box_max[b, j]
                t = max(below, above, 0.0)
                near_sq += t * t
                u = max(-below, -above)
                far_sq += u * u
            near[k] = near_sq
            least_far = min(least_far, far_sq)
        limit = least_far * (1.0 + _MARGIN)
        n_cand = 0
        for k in range(K):
            if near[k] <= limit:
                candidates[n_cand] = k
                n_cand += 1
        if n_cand == 0:  # only NaN gets here (the callers refuse it): scan them all
            for k in range(K):
                candidates[k] = k
            n_cand = K
        if n_cand > 1:
            # 1b. Kanungo et al.'s test, pair by pair: z is ruled out when z* (the candidate
            # nearest the box's middle) is nearer even at the box's corner farthest toward z:
            # their bisector then misses the box.  ||x - z||^2 - ||x - z*||^2 is linear in x,
            # least at that corner; it must exceed there the margin times z*'s farthest
            # squared distance to the box, so that it does at every point.
            nearest = np.inf
            zs = candidates[0]
            for c in range(n_cand):
                k = candidates[c]
                q = 0.0
                for j in range(D):
                    t = 0.5 * (box_min[b, j] + box_max[b, j]) - centres[k, j]
                    q += t * t
                if q < nearest:
                    nearest = q
                    zs = k
            far_zs = 0.0
            for j in range(D):
                u = max(centres[zs, j] - box_min[b, j], box_max[b, j] - centres[zs, j])
                far_zs += u * u
            kept = 0
            for c in range(n_cand):
                k = candidates[c]
                if k != zs:
                    to_z = 0.0
                    to_zs = 0.0
                    for j in range(D):
                        v = box_max[b, j] if centres[k, j] > centres[zs, j] else box_min[b, j]
                        t = v - centres[k, j]
                        to_z += t * t
                        t = v - centres[zs, j]
                        to_zs += t * t
                    if to_z - to_zs > _MARGIN * far_zs:
                        continue
                candidates[kept] = k  # kept in order: ties still go to the lowest index
                kept += 1
            n_cand = kept
        s = b * BLOCK
        m = min(N, s + BLOCK) - s
        old = block_label[b]
        if n_cand == 1:
            # every point's nearest centre is k: the block's statistics, moved to m_k
            k = candidates[0]
            n = block_sums[b, 0]
            cross = 0.0
            dist = 0.0
            for j in range(D):
                t = block_sums[b, 1 + j] - centres[k, j]
                r = block_sums[b, 1 + D + j]
                acc[k, 1 + j] += r + n * t
                cross += t * r
                dist += t * t
            acc[k, 0] += n
            acc[k, D + 1] += block_sums[b, 1 + 2 * D] + 2.0 * cross + n * dist
            block_label[b] = k
            if old == k:
                continue
            if old != MIXED:  # every point moves together (their labels: block_label's, not written)
                changed += m
                continue
            for i in range(m):  # from a mixed block: the points not labelled k already move
                changed += 1 if labels[s + i] != k else 0
            continue
        else:
            # 2. a boundary block: nearest of its candidates, point by point
            block_label[b] = MIXED
            first = np.int32(candidates[0])
            for i in range(m):
                d_best[i] = np.inf
                best[i] = first  # a valid label even if every distance overflowed
            for c in range(n_cand):
                k = candidates[c]
                kk = np.int32(k)
                if D == 2:  # the window's case: one fused loop
                    m0 = centres[k, 0]
                    m1 = centres[k, 1]
                    x0 = XS[0, s:s + m]
                    x1 = XS[1, s:s + m]
                    for i in range(m):
                        t0 = x0[i] - m0
                        t1 = x1[i] - m1
                        q = t0 * t0 + t1 * t1
                        best[i] = kk if q < d_best[i] else best[i]
                        d_best[i] = min(d_best[i], q)
                    continue
                if D == 3:  # a photo's pixels (RGB, L*a*b*): one fused loop too
                    m0 = centres[k, 0]
                    m1 = centres[k, 1]
                    m2 = centres[k, 2]
                    x0 = XS[0, s:s + m]
                    x1 = XS[1, s:s + m]
                    x2 = XS[2, s:s + m]
                    for i in range(m):
                        t0 = x0[i] - m0
                        t1 = x1[i] - m1
                        t2 = x2[i] - m2
                        q = t0 * t0 + t1 * t1 + t2 * t2
                        best[i] = kk if q < d_best[i] else best[i]
                        d_best[i] = min(d_best[i], q)
                    continue
                for i in range(m):
                    d[i] = 0.0
                for j in range(D):
                    mj = centres[k, j]
                    xj = XS[j, s:s + m]
                    for i in range(m):
                        t = xj[i] - mj
                        d[i] += t * t
                for i in range(m):
                    q = d[i]
                    best[i] = kk if q < d_best[i] else best[i]
                    d_best[i] = min(d_best[i], q)
            # 3. each candidate's points: count, sum of (x - m_k), the distances measured.
            # Selects, not branches: they vectorise, and keep (x - m_k) whole
            # (re-association could otherwise sum the x first, far from 0).
            for c in range(n_cand):
                k = candidates[c]
                kk = np.int32(k)
                cnt = 0.0
                q = 0.0
                if D == 2:  # the window's case: one fused loop
                    m0 = centres[k, 0]
                    m1 = centres[k, 1]
                    x0 = XS[0, s:s + m]
                    x1 = XS[1, s:s + m]
                    s0 = 0.0
                    s1 = 0.0
                    for i in range(m):
                        mine = best[i] == kk
                        cnt += 1.0 if mine else 0.0
                        q += d_best[i] if mine else 0.0
                        s0 += x0[i] - m0 if mine else 0.0
                        s1 += x1[i] - m1 if mine else 0.0
                    acc[k, 0] += cnt
                    acc[k, 1] += s0
                    acc[k, 2] += s1
                    acc[k, 3] += q
                    continue
                if D == 3:
                    m0 = centres[k, 0]
                    m1 = centres[k, 1]
                    m2 = centres[k, 2]
                    x0 = XS[0, s:s + m]
                    x1 = XS[1, s:s + m]
                    x2 = XS[2, s:s + m]
                    s0 = 0.0
                    s1 = 0.0
                    s2 = 0.0
                    for i in range(m):
                        mine = best[i] == kk
                        cnt += 1.0 if mine else 0.0
                        q += d_best[i] if mine else 0.0
                        s0 += x0[i] - m0 if mine else 0.0
                        s1 += x1[i] - m1 if mine else 0.0
                        s2 += x2[i] - m2 if mine else 0.0
                    acc[k, 0] += cnt
                    acc[k, 1] += s0
                    acc[k, 2] += s1
                    acc[k, 3] += s2
                    acc[k, 4] += q
                    continue
                for i in range(m):
                    mine = best[i] == kk
                    cnt += 1.0 if mine else 0.0
                    q += d_best[i] if mine else 0.0
                acc[k, 0] += cnt
                acc[k, D + 1] += q
                for j in range(D):
                    mj = centres[k, j]
                    xj = XS[j, s:s + m]
                    total = 0.0
                    for i in range(m):
                        total += xj[i] - mj if best[i] == kk else 0.0
                    acc[k, 1 + j] += total
        # a mixed block's labels are written out: the only ones ever read (see materialise_labels)
        if old == MIXED:
            for i in range(m):
                if labels[s + i] != best[i]:
                    changed += 1
                    labels[s + i] = best[i]
        else:  # the block had one label (or none yet: NOT_ASSIGNED is no label)
            for i in range(m):
                changed += 1 if best[i] != old else 0
                labels[s + i] = best[i]
    return changed


@njit(cache=True, nogil=True)
def materialise_labels(block_label, labels):
    """Fill in ``labels`` where a pass left them to ``block_label``: a block with one label
    has its points' labels only there (writing 12 M labels cost a photo's first pass ~30%)."""
    N = labels.shape[0]
    for b in range(block_label.shape[0]):
        k = block_label[b]
        if k >= 0:
            labels[b * BLOCK:min(N, (b + 1) * BLOCK)] = k


@njit(cache=True, nogil=True)
def _sum_tasks(p_stats, stats):
    """stats = the tasks' statistics added in task order (the same sums on any thread count)."""
    n_tasks, K, W = p_stats.shape
    for k in range(K):
        for j in range(W):
            total = 0.0
            for task in range(n_tasks):
                total += p_stats[task, k, j]
            stats[k, j] = total


@njit(parallel=True, cache=True, nogil=True)
def _assignment_pass(XS, box_min, box_max, block_sums, centres, block_label, labels, stats):
    """The assignment step over points in block order; see ``block_assignment_pass``.

    ``stats`` (K, D + 2) is overwritten with, per cluster, [count,
    sum of (x - m_k), sum of ||x - m_k||^2] about the centres m_k.
    """
    D = XS.shape[0]
    K = centres.shape[0]
    n_blocks = box_min.shape[0]
    n_tasks = (n_blocks + _BLOCKS_PER_TASK - 1) // _BLOCKS_PER_TASK
    p_stats = np.zeros((n_tasks, K, D + 2))  # per task: no shared bins inside prange
    p_changed = np.zeros(n_tasks, dtype=np.int64)
    for task in prange(n_tasks):
        p_changed[task] = _assign_blocks(
            XS, box_min, box_max, block_sums, centres, block_label, labels,
            task * _BLOCKS_PER_TASK, min(n_blocks, (task + 1) * _BLOCKS_PER_TASK), p_stats[task],
            np.empty(K), np.empty(K, dtype=np.int64), np.empty(BLOCK), np.empty(BLOCK),
            np.empty(BLOCK, dtype=np.int32))
    _sum_tasks(p_stats, stats)
    return p_changed.sum()


def block_assignment_pass(XS, box_min, box_max, block_sums, ref, centres, block_label, labels,
                          stats):
    """Assignment step of k-means over points in block order.

    ``labels`` (N,) int32, -1 where not assigned yet, and ``block_label``
    (n_blocks,) int32 (a label, MIXED or NOT_ASSIGNED) are updated in place;
    ``labels`` only where a block is MIXED: a block with one label keeps it in
    ``block_label`` alone (``materialise_labels`` writes them all out).
    ``stats`` (K, D + 2) is overwritten with, per cluster, [count,
    sum of (x - ref_k), sum of ||x - ref_k||^2] over the points now labelled k.
    ``ref`` is (K, D) or one point (D,) for every cluster; pass ``centres``
    itself for sums exact to rounding wherever the points are (any other
    point gets them by the parallel-axis theorem, with its cancellation).
    Returns how many labels changed.
    """
    changed = _assignment_pass(XS, box_min, box_max, block_sums, centres, block_label, labels, stats)
    if ref is not centres:
        D = centres.shape[1]
        d = centres - ref
        sums = stats[:, 1:D + 1]
        stats[:, D + 1] += 2.0 * np.einsum("kd,kd->k", d, sums) + stats[:, 0] * np.einsum("kd,kd->k", d, d)
        sums += stats[:, :1] * d
    return int(changed)


@njit(cache=True, nogil=True)
def _refit(stats, centres):
    """The refitting step in place: m_k = m_k + sum (x - m_k) / N_k where N_k > 0, the same
    operations as ``PassStatistics.shifts`` and ``KMeans.refit_step``."""
    K, D = centres.shape
    for k in range(K):
        n = stats[k, 0]
        if n > 0:
            for j in range(D):
                centres[k, j] = centres[k, j] + stats[k, 1 + j] / n


@njit(parallel=True, cache=True, nogil=True)
def lloyd_runs(XS, box_min, box_max, block_sums, centres, max_iter, block_label, labels, stats,
               passes, last_changed):
    """R k-means runs from R starts at once: one run per task, so no thread waits for
    another between passes, and no Python between them.  Each pass gives the labels of
    ``block_assignment_pass`` (the same labels and sums), each refit is that of
    ``KMeans.refit_step``; a run stops once an assignment step after the first changes no
    label, or after ``max_iter`` assignment steps (its last refit is left to the caller).

    centres : (R, K, D), the initial centres in; out, the centres of each run's last
    assignment step.  block_label (R, n_blocks) and labels (R, N): NOT_ASSIGNED / -1 in,
    that step's labels out (as ``block_assignment_pass`` leaves them: ``materialise_labels``).
    stats (R, K, D + 2) out: that step's [count, sum of (x - m_k), sum of ||x - m_k||^2].
    passes, last_changed (R,) out: assignment steps done, and how many labels the last one
    changed.
    """
    R, K, D = centres.shape
    n_blocks = box_min.shape[0]
    n_tasks = (n_blocks + _BLOCKS_PER_TASK - 1) // _BLOCKS_PER_TASK
    for r in prange(R):
        c = centres[r]
        p_stats = np.zeros((n_tasks, K, D + 2))
        near = np.empty(K)
        candidates = np.empty(K, dtype=np.int64)
        d_best = np.empty(BLOCK)
        d = np.empty(BLOCK)
        best = np.empty(BLOCK, dtype=np.int32)
        t = 0
        while True:
            t += 1
            changed = 0
            for task in range(n_tasks):
                p_stats[task] = 0.0
                changed += _assign_blocks(
                    XS, box_min, box_max, block_sums, c, block_label[r], labels[r],
                    task * _BLOCKS_PER_TASK, min(n_blocks, (task + 1) * _BLOCKS_PER_TASK),
                    p_stats[task], near, candidates, d_best, d, best)
            _sum_tasks(p_stats, stats[r])
            if (t > 1 and changed == 0) or t >= max_iter:
                break
            _refit(stats[r], c)
        passes[r] = t
        last_changed[r] = changed


@njit(parallel=True, cache=True, nogil=True)
def _cost_about(XS, block_sums, block_label, labels, centres, which, sq):
    """sq[k] = sum of ||x - c_k||^2 over the points labelled k, for the k with ``which[k]``.

    From the labels the last pass left: a one-label block adds its statistics
    moved to c_k (every term non-negative but the rounding residual's), a mixed
    block its points' distances, measured next to the points.  Exact to
    rounding wherever the centres are, for O(n_blocks D + boundary points D).
    No fastmath: nothing is re-associated.
    """
    D, N = XS.shape
    K = centres.shape[0]
    n_blocks = block_sums.shape[0]
    n_tasks = (n_blocks + _BLOCKS_PER_TASK - 1) // _BLOCKS_PER_TASK
    p_sq = np.zeros((n_tasks, K))
    for task in prange(n_tasks):
        acc = p_sq[task]
        for b in range(task * _BLOCKS_PER_TASK, min(n_blocks, (task + 1) * _BLOCKS_PER_TASK)):
            k = block_label[b]
            if k >= 0:
                if which[k]:
                    n = block_sums[b, 0]
                    cross = 0.0
                    dist = 0.0
                    for j in range(D):
                        t = block_sums[b, 1 + j] - centres[k, j]
                        cross += t * block_sums[b, 1 + D + j]
                        dist += t * t
                    acc[k] += block_sums[b, 1 + 2 * D] + 2.0 * cross + n * dist
                continue
            for i in range(b * BLOCK, min(N, (b + 1) * BLOCK)):
                k = labels[i]
                if k >= 0 and which[k]:
                    q = 0.0
                    for j in range(D):
                        t = XS[j, i] - centres[k, j]
                        q += t * t
                    acc[k] += q
    for k in range(K):
        total = 0.0
        for task in range(n_tasks):
            total += p_sq[task, k]
        sq[k] = total
