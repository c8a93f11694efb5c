"""Draw many points into one ARGB image in numba: the fast path for the point cloud.

A disc stamp (anti-aliased fill plus a darker rim) is blended source-over at
each point's pixel.  The image is cut in horizontal bands, one per task, each
task clearing and stamping only rows of its own band, from its own list of the
points that touch it: parallel without races, the same pixels whatever the
thread count, and colouring fused into the same pass.  Bands are handed to the
threads one at a time (``engine.task_queue``), so a thread the UI preempts
holds up no other.
"""

import math
import sys

import numpy as np
from numba import njit, prange

from engine.task_queue import WORKERS, take_task


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
COLOUR_ARGB = 0  # one uint32 ARGB per point, e.g. sum_k r_k colour_k packed by the pass (``Run.readout``)
COLOUR_LABELS = 1  # one int32 label per point and an ARGB palette


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


@njit(cache=True, nogil=True, inline="always")
def _blend(flat, at, entry, solid, c_rb, c_g):
    """One stamp pixel at flat[at]: ``entry`` = cover | tint << 16 (``stamp_tables``)."""
    a = entry & np.uint32(0xFFFF)
    if a > 256:  # inside the disc: opaque, no blending
        flat[at] = solid
        return
    k = entry >> 16
    inv = np.uint32(256) - a
    d = flat[at]
    # source-over in 8.8 fixed point, two channels per 32-bit lane pair (R|B, A|G):
    # each lane stays under 2^16 because k <= a
    rb = ((d & np.uint32(0xFF00FF)) * inv + c_rb * k + np.uint32(0x800080)) >> 8
    ag = (((d >> 8) & np.uint32(0xFF00FF)) * inv + np.uint32(0xFF0000) * a + c_g * k
          + np.uint32(0x800080)) >> 8
    flat[at] = (rb & np.uint32(0xFF00FF)) | ((ag & np.uint32(0xFF00FF)) << 8)


@njit(parallel=True, cache=True, nogil=True)
def _render(starts, bx, by, index, band_h, mode, argb, labels, palette, stamp, spans, out):
    """Clear ``out`` (H, W) C-contiguous uint32 premultiplied ARGB and blend a stamp at every
    point, in its colour (``mode``: see COLOUR_*), one task per band, handed out one at a
    time (``engine.task_queue``): each task writes only its own rows, so no two tasks touch one
    pixel and the result is the same whatever the thread count.  ``stamp`` (S * S,) holds
    cover | tint << 16 row by row, ``spans`` (S, 2) each row's first and last + 1 column
    with any cover.  The rim is the point's colour at 55% brightness."""
    H, W = out.shape
    flat = out.reshape(H * W)
    S = spans.shape[0]
    R = S // 2
    n_bands = starts.shape[0] - 1
    single = S == 1 and (stamp[0] & np.uint32(0xFFFF)) > 256  # one opaque pixel a point (a million points)
    opaque = np.uint32(255) << 24
    # unsigned offsets: numba checks every signed index for wraparound, which costs a
    # third of the loop here
    uW = np.uint64(W)
    uS = np.uint64(S)
    counter = np.zeros(1, np.int64)
    for _ in prange(WORKERS):
        while True:
            band = take_task(counter)
            if band >= n_bands:
                break
            row0 = band * band_h
            row1 = min(H, row0 + band_h)
            flat[np.uint64(row0) * uW:np.uint64(row1) * uW] = 0
            if single:
                # one pixel each, always inside the image (_bucket keeps only those): a loop with
                # nothing else in it, twice as fast as the stamp's at a million points
                if mode == COLOUR_LABELS:
                    for j in range(starts[band], starts[band + 1]):
                        flat[np.uint64(by[j]) * uW + np.uint64(bx[j])] = palette[labels[index[j]]] | opaque
                else:
                    for j in range(starts[band], starts[band + 1]):
                        flat[np.uint64(by[j]) * uW + np.uint64(bx[j])] = argb[index[j]] | opaque
                continue
            for j in range(starts[band], starts[band + 1]):
                n = index[j]
                if mode == COLOUR_LABELS:
                    col = palette[labels[n]]
                else:
                    col = argb[n]
                cx = bx[j]
                cy = by[j]
                solid = opaque | (col & np.uint32(0xFFFFFF))
                c_rb = col & np.uint32(0xFF00FF)
                c_g = (col >> 8) & np.uint32(0xFF)
                if cy - R >= row0 and cy + R < row1 and cx - R >= 0 and cx + R < W:
                    # the whole stamp inside the band, as nearly every one is: no clipping
                    at = np.uint64(cy - R) * uW + np.uint64(cx - R)
                    entry = np.uint64(0)
                    for sy in range(S):
                        for sx in range(spans[sy, 0], spans[sy, 1]):
                            usx = np.uint64(sx)
                            _blend(flat, at + usx, stamp[entry + usx], solid, c_rb, c_g)
                        at += uW
                        entry += uS
                    continue
                for y in range(max(cy - R, row0), min(cy + R + 1, row1)):
                    sy = y - cy + R
                    at = np.uint64(y) * uW
                    entry = np.uint64(sy) * uS
                    for x in range(max(cx - R + spans[sy, 0], 0), min(cx - R + spans[sy, 1], W)):
                        _blend(flat, at + np.uint64(x), stamp[entry + np.uint64(x - cx + R)], solid, c_rb, c_g)


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
        self._layout = None  # (key, starts, bx, by, index, band_h, stamp, spans)
        self._pool = []

    def __len__(self):
        return len(self.points)

    def _bands(self, transform, width, height, radius):
        key = (transform, width, height, radius)
        if self._layout is None or self._layout[0] != key:
            cover, tint = stamp_tables(radius)
            R = cover.shape[0] // 2
            band_h = max(2 * R + 1, -(-height // BAND_TASKS))
            n_bands = -(-height // band_h)
            (a, b, c), (d, e, f) = transform
            starts, bx, by, index = _bucket(self.points, float(a), float(b), float(c), float(d),
                                            float(e), float(f), width, height, R, band_h, n_bands)
            stamp = (cover | (tint << 16)).astype(np.uint32).ravel()
            spans = np.zeros((cover.shape[0], 2), np.int64)  # rows' covered columns (a disc's corners are not)
            for row, line in enumerate(cover):
                covered = np.flatnonzero(line)
                spans[row] = (covered[0], covered[-1] + 1) if len(covered) else (0, 0)
            self._layout = (key, starts, bx, by, index, band_h, stamp, spans)
        return self._layout[1:]

    def _image(self, width, height):
        for image in self._pool:
            # 3 references: the pool's list, the loop variable and getrefcount's argument
            if image.shape == (height, width) and sys.getrefcount(image) <= 3:
                return image
        image = np.empty((height, width), dtype=np.uint32)
        self._pool = [im for im in self._pool if im.shape == (height, width)][-(POOL_SIZE - 1):] + [image]
        return image

    def render(self, transform, width, height, radius, argb=None, labels=None, palette=None, out=None):
        """(height, width) uint32 premultiplied ARGB with every point in its colour: ``argb``
        (uint32 per point) or ``labels`` with an ARGB ``palette``.  Into ``out`` if given,
        else an image of the pool."""
        image = self._image(width, height) if out is None else out
        if not (image.dtype == np.uint32 and image.flags.c_contiguous and image.shape == (height, width)):
            raise ValueError(f"out must be a C-contiguous ({height}, {width}) uint32 array")
        if width <= 0 or height <= 0:
            return image
        starts, bx, by, index, band_h, stamp, spans = self._bands(transform, width, height, radius)
        mode = COLOUR_ARGB if labels is None else COLOUR_LABELS
        _render(starts, bx, by, index, band_h, mode,
                _NO_ARGB if argb is None else np.ascontiguousarray(argb, dtype=np.uint32),
                _NO_LABELS if labels is None else np.ascontiguousarray(labels, dtype=np.int32),
                _NO_ARGB if palette is None else np.ascontiguousarray(palette, dtype=np.uint32),
                stamp, spans, image)
        return image


def render_points(points, colours, transform, width, height, radius):
    """Points (N, 2) in data coordinates through ``transform`` (a 2x3 affine to pixels) into a
    fresh (height, width) uint32 premultiplied ARGB array, each in its ``colours`` (uint32 ARGB)."""
    out = np.zeros((max(height, 0), max(width, 0)), dtype=np.uint32)
    if len(points) == 0 or width <= 0 or height <= 0:
        return out
    transform = tuple(tuple(float(v) for v in row) for row in transform)
    return PointImage(points).render(transform, width, height, radius, argb=colours, out=out)
