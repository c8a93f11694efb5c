"""Draw many points into one ARGB image in numba: the fast path for the point cloud.

A disc stamp (anti-aliased fill plus a darker rim) is blended source-over at
each point's pixel.  The image is cut in horizontal bands, one per task, each
task clearing and stamping only rows of its own band, from its own list of the
points that touch it: parallel without races, the same pixels whatever the
thread count, and colouring fused into the same pass.
"""

import math
import sys

import numpy as np
from numba import njit, prange


def disc_stamp(radius, rim=1.0):
    """Coverage of the fill and of the rim for a disc of ``radius`` px: two (S, S) float32 arrays."""
    R = max(math.floor(radius + 0.5 - 1e-9), 0)  # the last ring with any coverage
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1].astype(np.float64)
    dist = np.hypot(xx, yy)
    outer = np.clip(radius + 0.5 - dist, 0.0, 1.0)
    inner_r = max(radius - rim, 0.0)
    inner = np.clip(inner_r + 0.5 - dist, 0.0, 1.0) if radius > 1.5 else outer
    rim_cov = np.clip(outer - inner, 0.0, 1.0)
    return inner.astype(np.float32), rim_cov.astype(np.float32)


# How a point's colour is given to ``_render``
COLOUR_ARGB = 0  # one uint32 ARGB per point
COLOUR_WEIGHTED = 1  # one float32 RGB triple per point, 0..255, e.g. sum_k r_k colour_k (``Run.readout``)
COLOUR_LABELS = 2  # one int32 label per point and an ARGB palette
_STRIDE = 17  # bands are dealt to the threads 17 apart (see PointImage._bands)


@njit(cache=True, nogil=True)
def _bucket(points, a, b, c, d, e, f, W, H, R, band_h, n_bands):
    """The points' pixels (rounded, as drawn) grouped by the horizontal band they touch.

    Returns (starts (n_bands + 1,), bx, by, index): band j draws entries
    starts[j]:starts[j + 1], a point whose stamp crosses a band edge is in both,
    a point whose stamp misses the image is in none.  Counting sort, stable:
    within a band, points keep their order (later over earlier).
    """
    N = points.shape[0]
    cx = np.empty(N, np.int32)
    cy = np.empty(N, np.int32)
    counts = np.zeros(n_bands + 1, np.int64)
    for n in range(N):
        x = points[n, 0]
        y = points[n, 1]
        px = math.floor(a * x + b * y + c + 0.5)
        py = math.floor(d * x + e * y + f + 0.5)
        if not (px > -R - 1 and px < W + R and py > -R - 1 and py < H + R):  # NaN-safe
            cy[n] = -1 - 2 * R - 1  # never drawn
            continue
        cx[n] = np.int32(px)
        cy[n] = np.int32(py)
        lo = max(py - R, 0) // band_h
        hi = min(py + R, H - 1) // band_h
        for j in range(lo, hi + 1):
            counts[j + 1] += 1
    for j in range(n_bands):
        counts[j + 1] += counts[j]
    total = counts[n_bands]
    bx = np.empty(total, np.int32)
    by = np.empty(total, np.int32)
    index = np.empty(total, np.int32)
    fill = counts[:n_bands].copy()
    for n in range(N):
        py = cy[n]
        if py < -R:
            continue
        lo = max(py - R, 0) // band_h
        hi = min(py + R, H - 1) // band_h
        for j in range(lo, hi + 1):
            i = fill[j]
            bx[i] = cx[n]
            by[i] = py
            index[i] = n
            fill[j] = i + 1
    return counts, bx, by, index


@njit(parallel=True, cache=True, nogil=True)
def _render(starts, order, bx, by, index, band_h, mode, argb, weighted, labels, palette, cover, tint, out):
    """Clear ``out`` (H, W) uint32 premultiplied ARGB and blend a stamp at every point, in
    its colour (``mode``: see COLOUR_*), one task per band: each task writes only its
    own rows, so no two tasks touch one pixel and the result is the same whatever the
    thread count.  The rim is the point's colour at 55% brightness."""
    H, W = out.shape
    S = cover.shape[0]
    R = S // 2
    n_bands = starts.shape[0] - 1
    single = S == 1 and cover[0, 0] > 256  # one opaque pixel a point (a million points)
    opaque = np.uint32(255) << 24
    if mode == COLOUR_WEIGHTED:
        # packed first, point by point in order (streaming): the bands then gather 4 bytes a
        # point, not 12 (at a million points 4 MB stay in cache where 12 MB do not)
        for n in prange(weighted.shape[0]):
            argb[n] = opaque | (np.uint32(min(weighted[n, 0] + 0.5, 255.0)) << 16) | \
                (np.uint32(min(weighted[n, 1] + 0.5, 255.0)) << 8) | np.uint32(min(weighted[n, 2] + 0.5, 255.0))
    for task in prange(n_bands):
        band = order[task]
        row0 = band * band_h
        row1 = min(H, row0 + band_h)
        for y in range(row0, row1):
            out[y, :] = 0
        if single:
            # one pixel each, always inside the image (_bucket keeps only those): a loop with
            # nothing else in it, twice as fast as the stamp's at a million points
            if mode == COLOUR_LABELS:
                for j in range(starts[band], starts[band + 1]):
                    out[by[j], bx[j]] = palette[labels[index[j]]] | opaque
            else:
                for j in range(starts[band], starts[band + 1]):
                    out[by[j], bx[j]] = argb[index[j]] | opaque
            continue
        for j in range(starts[band], starts[band + 1]):
            n = index[j]
            if mode == COLOUR_LABELS:
                col = palette[labels[n]]
            else:
                col = argb[n]
            cx = bx[j]
            cy = by[j]
            y0 = max(cy - R, row0)
            y1 = min(cy + R + 1, row1)
            x0 = max(cx - R, 0)
            x1 = min(cx + R + 1, W)
            if y0 >= y1 or x0 >= x1:
                continue
            solid = opaque | (col & np.uint32(0xFFFFFF))
            c_rb = col & np.uint32(0xFF00FF)
            c_g = (col >> 8) & np.uint32(0xFF)
            for y in range(y0, y1):
                sy = y - cy + R
                row = out[y]
                for x in range(x0, x1):
                    sx = x - cx + R
                    a = cover[sy, sx]
                    if a == 0:
                        continue
                    if a > 256:  # inside the disc: opaque, no blending
                        row[x] = solid
                        continue
                    k = tint[sy, sx]
                    inv = np.uint32(256) - a
                    d = row[x]
                    # source-over in 8.8 fixed point, two channels per 32-bit lane pair (R|B, A|G):
                    # each lane stays under 2^16 because k <= a
                    rb = ((d & np.uint32(0xFF00FF)) * inv + c_rb * k + np.uint32(0x800080)) >> 8
                    ag = (((d >> 8) & np.uint32(0xFF00FF)) * inv + np.uint32(0xFF0000) * a + c_g * k
                          + np.uint32(0x800080)) >> 8
                    row[x] = (rb & np.uint32(0xFF00FF)) | ((ag & np.uint32(0xFF00FF)) << 8)


def stamp_tables(radius, rim=1.0):
    """A disc stamp in 8.8 fixed point: (cover, tint), two (S, S) uint32 arrays.

    cover = 256 times the stamp's alpha (fill plus rim, at most 1), or 257 where the fill
    covers the pixel fully (drawn opaque, no blending); tint = 256 times the colour's
    premultiplied weight there (the fill at full brightness, the rim at 55%), never above cover.
    """
    fill, rim_cov = disc_stamp(radius, rim)
    alpha = np.minimum(fill + rim_cov, 1.0)
    cover = np.rint(alpha * 256).astype(np.uint32)
    tint = np.minimum(np.rint((fill + 0.55 * rim_cov) * 256).astype(np.uint32), cover)
    cover[fill >= 1.0] = 257
    return cover, tint


def marker_radius(n_points, scale=1.0):
    """Marker radius in device pixels: big for a handful of points, fine for a million."""
    if n_points <= 2_000:
        r = 5.5
    elif n_points <= 20_000:
        r = 3.5
    elif n_points <= 300_000:
        r = 2.0
    else:
        r = 0.5  # one pixel each: at a million points the cloud is a density anyway
    return r * scale


_NO_ARGB = np.zeros(0, np.uint32)
_NO_WEIGHTED = np.zeros((0, 3), np.float32)
_NO_LABELS = np.zeros(0, np.int32)
BAND_TASKS = 64  # bands an image is cut in: many more than cores, so dense bands balance out
POOL_SIZE = 6  # images a PointImage keeps for reuse: shown, cached, made ahead (2), in flight


class PointImage:
    """One point set drawn into reused images, in one fused parallel pass.

    Where each point lands depends only on the viewport, so the pixel of every
    point and the bands it touches are worked out once per viewport; each
    frame then only looks up the colours and stamps.  Images come from a small
    pool: an image is reused once nothing outside the pool holds it (the canvas
    keeps the one it shows), so playing allocates no image per frame.
    """

    def __init__(self, points):
        self.points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 2)
        self._layout = None  # (key, starts, order, bx, by, index, band_h, cover, tint)
        self._packed = None  # uint32 per point: the weighted colours packed, reused
        self._pool = []

    def __len__(self):
        return len(self.points)

    def _bands(self, transform, width, height, radius):
        key = (transform, width, height, radius)
        if self._layout is None or self._layout[0] != key:
            fill, rim = stamp_tables(radius)
            R = fill.shape[0] // 2
            band_h = max(2 * R + 1, -(-height // BAND_TASKS))
            n_bands = -(-height // band_h)
            (a, b, c), (d, e, f) = transform
            starts, bx, by, index = _bucket(self.points, float(a), float(b), float(c), float(d),
                                            float(e), float(f), width, height, R, band_h, n_bands)
            # bands dealt out of order: prange gives each thread a contiguous share of the tasks,
            # and a cloud's dense bands sit together; 17 apart, the threads' shares weigh alike
            stride = _STRIDE if math.gcd(_STRIDE, n_bands) == 1 else 1
            order = (np.arange(n_bands, dtype=np.int64) * stride) % max(n_bands, 1)
            self._layout = (key, starts, order, bx, by, index, band_h, fill, rim)
        return self._layout[1:]

    def _image(self, width, height):
        for image in self._pool:
            # 3 references: the pool's list, the loop variable and getrefcount's argument
            if image.shape == (height, width) and sys.getrefcount(image) <= 3:
                return image
        image = np.empty((height, width), dtype=np.uint32)
        self._pool = [im for im in self._pool if im.shape == (height, width)][-(POOL_SIZE - 1):] + [image]
        return image

    def render(self, transform, width, height, radius, argb=None, weighted=None, labels=None,
               palette=None, out=None):
        """(height, width) uint32 premultiplied ARGB with every point in its colour: ``argb``
        (uint32 per point), ``weighted`` ((N, 3) float32 RGB, 0..255), or ``labels`` with an
        ARGB ``palette``.  Into ``out`` if given, else an image of the pool."""
        image = self._image(width, height) if out is None else out
        if width <= 0 or height <= 0:
            return image
        starts, order, bx, by, index, band_h, fill, rim = self._bands(transform, width, height, radius)
        if weighted is not None:
            mode = COLOUR_WEIGHTED
        elif labels is not None:
            mode = COLOUR_LABELS
        else:
            mode = COLOUR_ARGB
        if weighted is not None:  # packed into this point set's own scratch, then drawn
            if self._packed is None or len(self._packed) != len(self.points):
                self._packed = np.empty(len(self.points), dtype=np.uint32)
            argb = self._packed
        _render(starts, order, bx, by, index, band_h, mode,
                _NO_ARGB if argb is None else np.ascontiguousarray(argb, dtype=np.uint32),
                _NO_WEIGHTED if weighted is None else weighted,
                _NO_LABELS if labels is None else np.ascontiguousarray(labels, dtype=np.int32),
                _NO_ARGB if palette is None else np.ascontiguousarray(palette, dtype=np.uint32),
                fill, rim, image)
        return image


def render_points(points, colours, transform, width, height, radius):
    """Points (N, 2) in data coordinates through ``transform`` (a 2x3 affine to pixels) into a
    fresh (height, width) uint32 premultiplied ARGB array, each in its ``colours`` (uint32 ARGB)."""
    out = np.zeros((max(height, 0), max(width, 0)), dtype=np.uint32)
    if len(points) == 0 or width <= 0 or height <= 0:
        return out
    transform = tuple(tuple(float(v) for v in row) for row in transform)
    return PointImage(points).render(transform, width, height, radius, argb=colours, out=out)
