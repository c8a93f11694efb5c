"""Compiled kernels: one pass over the data per responsibility half-step.

Only numba and numpy live here; the algorithms in ``kmeans``, ``soft_kmeans``
and ``gmm`` call these with validated, contiguous arrays.

Data arrive transposed, ``XT`` of shape (n_features, n_samples), so that the
innermost loops run along samples and vectorise.  Work is split in chunks of
``CHUNK`` samples; each chunk writes its own partial sums (a shared
``y[label] += ...`` inside ``prange`` would race) and the caller reduces them.
The pass a step makes hands its chunks out one at a time (``task_queue``).

Every per-cluster sum is taken relative to the centre the pass was given
(``x - m_k``), which keeps the refit exact to rounding even for data far from
the origin.  The second moments are kept per chunk about an anchor by the
chunk's own weighted points, so the objective after the refit follows exactly,
without a second pass, however far the centres jumped.
"""

import numpy as np
from numba import njit, prange

from .task_queue import WORKERS, take_task

CHUNK = 1024
NO_READOUT = (np.zeros((1, 3)), np.zeros(0, dtype=np.uint32))  # gaussian_chunk_pass without one
_OPAQUE = np.uint32(0xFF000000)

# reassoc/contract let LLVM vectorise the reductions; no nnan/ninf, so
# non-finite values are never assumed away.
_FAST = {"reassoc", "contract", "nsz", "arcp"}

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer in the low bits
_EXP_FLOOR = -708.0  # below this exp() is under the smallest normal double; treated as 0
_SQRT2 = 1.4142135623730951
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000
_TWO52_BITS = 0x4330000000000000  # 2**52: or-ing a small integer in gives 2**52 + it
_TWO52_PLUS_BIAS = 4503599627370496.0 + 1023.0
# fdlibm's e_log.c: log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f)
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
# A chunk keeps its moments about mu_k while cnt ||its weighted mean - mu_k||^2 is at most
# this share of its sum r ||x - mu_k||^2 (then moving them to any c costs < 12x rounding).
_SPREAD = 0.5


# Only "contract": reassociation would fold the shifter trick away.
@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_shifted(a, mx, out, work, total):
    """out[i] = exp(a[i] - mx[i]) (<= 1) and total[i] += out[i], vectorised.

    This numba has no SVML, so exp is ours: Cody-Waite reduction to
    r in [-ln2/2, ln2/2], a degree-12 Taylor polynomial (relative error
    < 4e-16), and 2**k assembled from the bits of the shifted float.
    """
    n = out.shape[0]
    bits = work.view(np.int64)
    for i in range(n):
        z = a[i] - mx[i]
        zi = z if z > _EXP_FLOOR else _EXP_FLOOR
        t = zi * _LOG2E + _SHIFTER
        k = t - _SHIFTER
        r = zi - k * _LN2_HI - k * _LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        out[i] = p if z > _EXP_FLOOR else 0.0
        work[i] = t
    for i in range(n):
        bits[i] = (bits[i] + 1023) << 52  # the low bits of t hold k: this is 2**k
    for i in range(n):
        out[i] *= work[i]
        total[i] += out[i]


# error_model="numpy": numba's zero-division check on "/" keeps LLVM from vectorising the loop.
@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def _log_and_inverse(s, mx, work, ework):
    """mx[n] += log s[n] (so mx ends as log p(x_n)) and s[n] = 1 / s[n], vectorised, for a normal
    positive s (the pass's sums are at least 1); where s is not positive (every log joint of the
    point was -inf), mx = -inf and s = 0.

    This numba has no SVML, so log is ours: fdlibm's (within 1 ulp of math.log), with the
    exponent and mantissa split through the bits of ``work`` and ``ework``.
    """
    n = s.shape[0]
    sbits = s.view(np.int64)
    mbits = work.view(np.int64)
    ebits = ework.view(np.int64)
    for i in range(n):
        b = sbits[i]
        mbits[i] = (b & _MANTISSA) | _ONE_BITS  # m in [1, 2)
        ebits[i] = ((b >> 52) & 0x7FF) | _TWO52_BITS  # 2**52 + the biased exponent, as a double
    for i in range(n):
        m = work[i]
        k = ework[i] - _TWO52_PLUS_BIAS
        big = m > _SQRT2  # m in [sqrt(2)/2, sqrt(2)): the series converges fastest about 1
        m = 0.5 * m if big else m
        k = k + 1.0 if big else k
        f = m - 1.0
        hfsq = 0.5 * f * f
        r = f / (2.0 + f)
        z = r * r
        w = z * z
        t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
        t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
        log_s = k * _LN2_HI - ((hfsq - (r * (hfsq + t1 + t2) + k * _LN2_LO)) - f)
        alive = s[i] > 0.0
        mx[i] = mx[i] + log_s if alive else -np.inf
        s[i] = 1.0 / s[i] if alive else 0.0


@njit(cache=True, nogil=True, fastmath=_FAST)
def _log_joint_block(XT, start, stop, means, chol_prec, log_coef, a, mx, y):
    """a[k, n] = log_coef[k] - 0.5 ||A_k (x_n - mu_k)||^2 and mx[n] = max_k a[k, n], one chunk.

    ``chol_prec[k]`` is lower triangular A_k with A_k^T A_k = Sigma_k^-1.
    Slices, not XT[j, start + n]: numba cannot prove start + n >= 0, and its
    negative-index wraparound check would block vectorisation.
    """
    K, D = means.shape
    B = stop - start
    for n in range(B):
        mx[n] = -np.inf
    if D == 2:  # the window's case, fused into one loop per component
        x0 = XT[0, start:stop]
        x1 = XT[1, start:stop]
        for k in range(K):
            ak = a[k]
            m0 = means[k, 0]
            m1 = means[k, 1]
            a00 = chol_prec[k, 0, 0]
            a10 = chol_prec[k, 1, 0]
            a11 = chol_prec[k, 1, 1]
            c = log_coef[k]
            for n in range(B):
                d0 = x0[n] - m0
                d1 = x1[n] - m1
                y0 = a00 * d0
                y1 = a10 * d0 + a11 * d1
                v = c - 0.5 * (y0 * y0 + y1 * y1)
                ak[n] = v
                mx[n] = max(mx[n], v)
        return
    for k in range(K):
        ak = a[k]
        for n in range(B):
            ak[n] = log_coef[k]
        for i in range(D):
            for n in range(B):
                y[n] = 0.0
            for j in range(i + 1):
                aij = chol_prec[k, i, j]
                mj = means[k, j]
                xj = XT[j, start:stop]
                for n in range(B):
                    y[n] += aij * (xj[n] - mj)
            for n in range(B):
                ak[n] -= 0.5 * y[n] * y[n]
        for n in range(B):
            mx[n] = max(mx[n], ak[n])


@njit(cache=True, nogil=True, fastmath=_FAST)
def _responsibilities_block(XT, start, stop, means, chol_prec, log_coef, a, e, mx, s, y, work):
    """One chunk's r (K, B) in ``e``; returns sum_n log p(x_n).  mx ends as log p(x_n).

    A log joint of -inf (a distance that overflowed) gives r = 0 exactly.
    """
    K = means.shape[0]
    B = stop - start
    _log_joint_block(XT, start, stop, means, chol_prec, log_coef, a, mx, y)
    for n in range(B):
        s[n] = 0.0
    for k in range(K):
        _exp_shifted(a[k], mx, e[k], work, s)
    # s >= 1 (the largest term is exp(0)) unless every log joint of the
    # point is -inf (its distances overflowed): then r = 0 and log p = -inf,
    # for the caller to refuse; never a division by zero.
    _log_and_inverse(s, mx, work, y)
    ll = 0.0
    for n in range(B):
        ll += mx[n]
    for k in range(K):
        ek = e[k]
        for n in range(B):
            ek[n] *= s[n]
    return ll


@njit(cache=True, nogil=True)
def _channel(v):
    """One 8-bit channel of a packed readout: v rounded, clipped to 0..255 (NaN to 0)."""
    if v >= 254.5:
        return np.uint32(255)
    if v > 0.0:
        return np.uint32(v + 0.5)
    return np.uint32(0)


@njit(cache=True, nogil=True)
def _scratch(K, B):
    """Per-chunk work arrays: log joints a and exponentials e (K, B); mx, s, y, work (B,)."""
    return (np.empty((K, B)), np.empty((K, B)), np.empty(B), np.empty(B), np.empty(B),
            np.empty(B))


@njit(cache=True, nogil=True, fastmath=_FAST)
def _moments_about_anchor(XT, start, stop, ek, anchor, res, outer, need_outer):
    """One chunk's sum r (x - a) into ``res`` and, if ``need_outer``, sum r (x - a)(x - a)^T
    into ``outer``, about the anchor a; returns sum r ||x - a||^2.  Differences next to the points."""
    D = anchor.shape[0]
    sq = 0.0
    for i in range(D):
        xi = XT[i, start:stop]
        ai = anchor[i]
        s1 = 0.0
        s2 = 0.0
        for n in range(stop - start):
            t = xi[n] - ai
            s1 += ek[n] * t
            s2 += ek[n] * t * t
        res[i] = s1
        sq += s2
        if need_outer:
            outer[i, i] = s2
            for j in range(i):
                xj = XT[j, start:stop]
                aj = anchor[j]
                acc = 0.0
                for n in range(stop - start):
                    acc += ek[n] * (xi[n] - ai) * (xj[n] - aj)
                outer[i, j] = acc
                outer[j, i] = acc
    return sq


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def gaussian_chunk_pass(XT, means, chol_prec, log_coef, need_outer, sq_scale, vectors, readout):
    """E-step sufficient statistics of a Gaussian mixture (soft k-means too), per chunk.

    Each chunk keeps, per component, its second moments about an anchor near
    its own responsibility-weighted points (Chan et al.'s pairwise scheme), so
    that moments about ANY point follow exactly (``moments_about``,
    ``scatter_about``): a refit whose means jump far from mu_k, to points that
    sit tight, loses nothing.  The anchor is mu_k itself where the chunk's
    weighted points spread around it (cnt ||mean - mu_k||^2 <= ``_SPREAD`` times
    their sum r ||x - mu_k||^2: moving those moments anywhere is well
    conditioned), else the chunk's weighted mean as rounded, with a second
    pass over the chunk's points (in cache).

    Parameters
    ----------
    XT : ndarray of shape (n_features, n_samples)
    means : ndarray of shape (n_components, n_features)
    chol_prec : ndarray of shape (n_components, n_features, n_features)
    log_coef : ndarray of shape (n_components,)
        log pi_k plus the log normalisation of component k.
    need_outer : bool
        Whether to accumulate second moments (EM's M-step needs them).
    sq_scale : float
        ||x - mu||^2 = sq_scale ||A_k (x - mu)||^2 (soft k-means: 1 / (2 beta)); only
        used without ``need_outer``; 0 makes every chunk that moved take the second pass.
    vectors : ndarray of shape (n_components, 3)
        With ``readout`` of shape (n_samples,), uint32, the pass also writes
        readout[n] = sum_k r_k^(n) vectors[k] (the window's colours, 0..255) from the
        responsibilities it computes anyway, packed 0xFFRRGGBB;
        an empty ``readout`` skips it.

    Returns
    -------
    counts : (n_chunks, K) per chunk, sum_n r_k^(n)
    sums : (K, D) sum_n r_k^(n) (x_n - mu_k)
    anchors : (n_chunks, K, D) each chunk's anchor a
    res : (n_chunks, K, D) sum r (x - a) over the chunk
    sq : (n_chunks, K) sum r ||x - a||^2 over the chunk
    outer : (n_chunks, K, D, D) sum r (x - a)(x - a)^T (zeros unless need_outer)
    quad : (K,) sum_n r_k^(n) ||A_k (x_n - mu_k)||^2
    log_likelihood : float, sum_n log sum_k exp(log joint); -inf where a point's
        every log joint is -inf (its distances overflowed; its r are all 0)
    neg_entropy : float, sum_n sum_k r log r
    """
    D, N = XT.shape
    K = means.shape[0]
    packs = readout.shape[0] == N  # colours wanted
    n_chunks = (N + CHUNK - 1) // CHUNK
    p_counts = np.zeros((n_chunks, K))
    p_sums = np.zeros((n_chunks, K, D))
    p_anchor = np.empty((n_chunks, K, D))
    p_res = np.zeros((n_chunks, K, D))
    p_sq = np.zeros((n_chunks, K))
    p_outer = np.zeros((n_chunks, K, D, D))
    p_quad = np.zeros((n_chunks, K))
    p_ll = np.zeros(n_chunks)
    p_nent = np.zeros(n_chunks)
    counter = np.zeros(1, np.int64)
    for _ in prange(WORKERS):  # chunks one at a time (task_queue): no thread waits on another
        while True:
            c = take_task(counter)
            if c >= n_chunks:
                break
            start = c * CHUNK
            stop = min(N, start + CHUNK)
            B = stop - start
            a, e, mx, s, y, work = _scratch(K, B)
            p_ll[c] = _responsibilities_block(XT, start, stop, means, chol_prec, log_coef,
                                              a, e, mx, s, y, work)
            if packs:  # along the samples, as everything here: vectorised, then packed row-wise
                red = np.zeros(B)
                green = np.zeros(B)
                blue = np.zeros(B)
                for k in range(K):
                    ek = e[k]
                    v0 = vectors[k, 0]
                    v1 = vectors[k, 1]
                    v2 = vectors[k, 2]
                    for n in range(B):
                        r = ek[n]
                        red[n] += r * v0
                        green[n] += r * v1
                        blue[n] += r * v2
                rows = readout[start:stop]
                for n in range(B):
                    rows[n] = _OPAQUE | (_channel(red[n]) << 16) | (_channel(green[n]) << 8) | _channel(blue[n])
            nent = 0.0
            for k in range(K):
                ek = e[k]
                ak = a[k]
                ck = log_coef[k]
                cnt = 0.0
                ent = 0.0
                q = 0.0
                for n in range(B):
                    r = ek[n]
                    cnt += r
                    # r log r, with log r = a - log p(x); and 0.5 ||A(x - mu)||^2 = log_coef - a.
                    # r = 0 adds nothing, also where a = -inf (0 * inf would be NaN).
                    ent += r * (ak[n] - mx[n]) if r > 0.0 else 0.0
                    q += r * (ck - ak[n]) if r > 0.0 else 0.0
                p_counts[c, k] = cnt
                p_quad[c, k] = 2.0 * q
                nent += ent
                sums = p_sums[c, k]
                outer = p_outer[c, k]
                if D == 2 and need_outer:
                    x0 = XT[0, start:stop]
                    x1 = XT[1, start:stop]
                    m0 = means[k, 0]
                    m1 = means[k, 1]
                    s0 = 0.0
                    s1 = 0.0
                    o00 = 0.0
                    o01 = 0.0
                    o11 = 0.0
                    for n in range(B):
                        r = ek[n]
                        d0 = x0[n] - m0
                        d1 = x1[n] - m1
                        s0 += r * d0
                        s1 += r * d1
                        o00 += r * d0 * d0
                        o01 += r * d0 * d1
                        o11 += r * d1 * d1
                    sums[0] = s0
                    sums[1] = s1
                    outer[0, 0] = o00
                    outer[0, 1] = o01
                    outer[1, 0] = o01
                    outer[1, 1] = o11
                else:
                    for i in range(D):
                        xi = XT[i, start:stop]
                        mi = means[k, i]
                        acc = 0.0
                        for n in range(B):
                            acc += ek[n] * (xi[n] - mi)
                        sums[i] = acc
                        if need_outer:
                            for j in range(i + 1):
                                xj = XT[j, start:stop]
                                mj = means[k, j]
                                acc = 0.0
                                for n in range(B):
                                    acc += ek[n] * (xi[n] - mi) * (xj[n] - mj)
                                outer[i, j] = acc
                                outer[j, i] = acc
                # the anchor: mu_k while the chunk's weighted points spread around it
                anchor = p_anchor[c, k]
                res = p_res[c, k]
                if need_outer:
                    sq_mu = 0.0
                    for i in range(D):
                        sq_mu += outer[i, i]
                else:
                    sq_mu = 2.0 * q * sq_scale
                moved = 0.0
                for i in range(D):
                    moved += sums[i] * sums[i]
                if cnt > 0.0 and moved > _SPREAD * cnt * sq_mu:
                    for i in range(D):
                        anchor[i] = means[k, i] + sums[i] / cnt
                    p_sq[c, k] = _moments_about_anchor(XT, start, stop, ek, anchor, res, outer, need_outer)
                else:
                    for i in range(D):
                        anchor[i] = means[k, i]
                        res[i] = sums[i]
                    p_sq[c, k] = sq_mu
            p_nent[c] = nent
    # in chunk order, one thread: an array's .sum() here would be a parallel reduction, whose
    # rounding changes with the thread count
    ll = 0.0
    neg_entropy = 0.0
    for c in range(n_chunks):
        ll += p_ll[c]
        neg_entropy += p_nent[c]
    return (p_counts, p_sums.sum(axis=0), p_anchor, p_res, p_sq, p_outer,
            p_quad.sum(axis=0), ll, neg_entropy)


@njit(cache=True, nogil=True)
def moments_about(counts, anchors, res, sq, centres):
    """(K,) sum r ||x - c_k||^2 from the per-chunk moments about the anchors (no fastmath).

    Per piece: sq + 2 (a - c) . res + n ||a - c||^2, every term at most a few
    times the piece's own result (its anchor sits by its points), so exact to
    rounding wherever c_k is.
    """
    n_pieces, K = counts.shape
    D = centres.shape[1]
    out = np.zeros(K)
    for k in range(K):
        total = 0.0
        for c in range(n_pieces):
            n = counts[c, k]
            if n == 0.0:
                continue
            cross = 0.0
            dist = 0.0
            for i in range(D):
                t = anchors[c, k, i] - centres[k, i]
                cross += t * res[c, k, i]
                dist += t * t
            total += sq[c, k] + 2.0 * cross + n * dist
        out[k] = total
    return out


@njit(cache=True, nogil=True)
def scatter_about(counts, anchors, res, outer, centres):
    """(K, D, D) sum r (x - c_k)(x - c_k)^T from the per-chunk moments about the anchors."""
    n_pieces, K = counts.shape
    D = centres.shape[1]
    out = np.zeros((K, D, D))
    t = np.empty(D)
    for k in range(K):
        for c in range(n_pieces):
            n = counts[c, k]
            if n == 0.0:
                continue
            for i in range(D):
                t[i] = anchors[c, k, i] - centres[k, i]
            for i in range(D):
                for j in range(D):
                    out[k, i, j] += (outer[c, k, i, j] + t[i] * res[c, k, j] + res[c, k, i] * t[j]
                                     + n * t[i] * t[j])
    return out


def gaussian_pass(XT, means, chol_prec, log_coef, need_outer):
    """E-step sufficient statistics of a Gaussian mixture, about the means.

    Returns
    -------
    counts : (K,) N_k = sum_n r_k^(n)
    sums : (K, D) sum_n r_k^(n) (x_n - mu_k)
    outer : (K, D, D) sum_n r_k^(n) (x_n - mu_k)(x_n - mu_k)^T (zeros unless need_outer)
    quad : (K,) sum_n r_k^(n) ||A_k (x_n - mu_k)||^2
    log_likelihood : float
    neg_entropy : float, sum_n sum_k r log r
    """
    counts, sums, anchors, res, _, outer, quad, ll, nent = gaussian_chunk_pass(
        XT, means, chol_prec, log_coef, need_outer, 0.0, *NO_READOUT)
    outer = scatter_about(counts, anchors, res, outer, means) if need_outer else np.zeros(
        (means.shape[0], XT.shape[0], XT.shape[0]))
    return counts.sum(axis=0), sums, outer, quad, ll, nent


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def gaussian_responsibilities(XT, means, chol_prec, log_coef, out):
    """Fill ``out`` (n_samples, n_components), any float dtype, with r_k^(n)."""
    D, N = XT.shape
    K = means.shape[0]
    n_chunks = (N + CHUNK - 1) // CHUNK
    for c in prange(n_chunks):
        start = c * CHUNK
        stop = min(N, start + CHUNK)
        B = stop - start
        a, e, mx, s, y, work = _scratch(K, B)
        _responsibilities_block(XT, start, stop, means, chol_prec, log_coef, a, e, mx, s, y, work)
        rows = out[start:stop]  # a slice: no wraparound check on start + n
        for n in range(B):
            for k in range(K):
                rows[n, k] = e[k, n]


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def nearest_centre(XT, centres, labels, min_sq):
    """labels[n] = argmin_k ||x_n - m_k||^2 and min_sq[n] its value (k-means++ and display)."""
    D, N = XT.shape
    K = centres.shape[0]
    for n in prange(N):
        best = np.inf
        arg = 0
        for k in range(K):
            d = 0.0
            for j in range(D):
                t = XT[j, n] - centres[k, j]
                d += t * t
            if d < best:
                best = d
                arg = k
        labels[n] = arg
        min_sq[n] = best


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def expected_quad(XT, means, chol_prec, log_coef, new_means, new_chol_prec):
    """(K,) sum_n r_k^(n) ||B_k (x_n - nu_k)||^2: responsibilities under (means, chol_prec,
    log_coef), Mahalanobis distances under other parameters (nu_k, B_k), point by point.

    EM's lower bound after an M-step whose covariance is too ill-conditioned for
    tr(Sigma^-1 S) to be taken from the scatter S (a second pass; rare).
    """
    D, N = XT.shape
    K = means.shape[0]
    n_chunks = (N + CHUNK - 1) // CHUNK
    p_quad = np.zeros((n_chunks, K))
    zero = np.zeros(K)
    for c in prange(n_chunks):
        start = c * CHUNK
        stop = min(N, start + CHUNK)
        B = stop - start
        a, e, mx, s, y, work = _scratch(K, B)
        _responsibilities_block(XT, start, stop, means, chol_prec, log_coef, a, e, mx, s, y, work)
        _log_joint_block(XT, start, stop, new_means, new_chol_prec, zero, a, mx, y)  # a = -0.5 q
        for k in range(K):
            ek = e[k]
            ak = a[k]
            q = 0.0
            for n in range(B):
                q += -2.0 * ek[n] * ak[n] if ek[n] > 0.0 else 0.0
            p_quad[c, k] = q
    return p_quad.sum(axis=0)
