"""Draw many points into one ARGB image in numba: the fast path for the point cloud.

A disc stamp (anti-aliased fill plus a darker rim) is blended source-over at
each point's pixel.  The image is cut in horizontal bands, one per task, each
task stamping only rows of its own band: parallel without races, and the same
pixels whatever the thread count.
"""

import math

import numpy as np
from numba import njit, prange


def disc_stamp(radius, rim=1.0):
    """Coverage of the fill and of the rim for a disc of ``radius`` px: two (S, S) float32 arrays."""
    R = max(int(math.floor(radius + 0.5 - 1e-9)), 0)  # the last ring with any coverage
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1].astype(np.float64)
    dist = np.hypot(xx, yy)
    outer = np.clip(radius + 0.5 - dist, 0.0, 1.0)
    inner_r = max(radius - rim, 0.0)
    inner = np.clip(inner_r + 0.5 - dist, 0.0, 1.0) if radius > 1.5 else outer
    rim_cov = np.clip(outer - inner, 0.0, 1.0)
    return inner.astype(np.float32), rim_cov.astype(np.float32)


@njit(parallel=True, cache=True, nogil=True)
def splat(px, py, colours, fill, rim, out, n_bands):
    """Blend a stamp at (px[n], py[n]) (pixel coordinates) in ``colours[n]`` into ``out`` (H, W) uint32.

    ``out`` is premultiplied ARGB32; the rim is the point's colour at 55% brightness.
    Points are drawn in order, later over earlier.
    """
    H, W = out.shape
    S = fill.shape[0]
    R = S // 2
    band = (H + n_bands - 1) // n_bands
    for b in prange(n_bands):
        row0 = b * band
        row1 = min(H, row0 + band)
        for n in range(px.shape[0]):
            cx = int(math.floor(px[n] + 0.5))
            cy = int(math.floor(py[n] + 0.5))
            y0 = max(cy - R, row0)
            y1 = min(cy + R + 1, row1)
            x0 = max(cx - R, 0)
            x1 = min(cx + R + 1, W)
            if y0 >= y1 or x0 >= x1:
                continue
            c = colours[n]
            cr = np.float32((c >> 16) & 255)
            cg = np.float32((c >> 8) & 255)
            cb = np.float32(c & 255)
            solid = (np.uint32(255) << 24) | (c & np.uint32(0xFFFFFF))
            for y in range(y0, y1):
                sy = y - cy + R
                row = out[y]
                for x in range(x0, x1):
                    sx = x - cx + R
                    af = fill[sy, sx]
                    if af >= 1.0:  # inside the disc: opaque, no blending
                        row[x] = solid
                        continue
                    ar = rim[sy, sx]
                    a = af + ar
                    if a <= 0.0:
                        continue
                    k = af + np.float32(0.55) * ar  # premultiplied fill plus darker rim
                    inv = np.float32(1.0) - min(a, np.float32(1.0))
                    d = row[x]
                    da = np.float32((d >> 24) & 255) * inv + np.float32(255.0) * min(a, np.float32(1.0))
                    dr = np.float32((d >> 16) & 255) * inv + k * cr
                    dg = np.float32((d >> 8) & 255) * inv + k * cg
                    db = np.float32(d & 255) * inv + k * cb
                    row[x] = (np.uint32(min(da + 0.5, 255.0)) << 24) | \
                        (np.uint32(min(dr + 0.5, 255.0)) << 16) | \
                        (np.uint32(min(dg + 0.5, 255.0)) << 8) | np.uint32(min(db + 0.5, 255.0))


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


def render_points(points, colours, transform, width, height, radius):
    """Points (N, 2) in data coordinates through ``transform`` (a 2x3 affine to pixels) into a
    fresh (height, width) uint32 premultiplied ARGB array.

    Points sorted by y draw about twice as fast at 1e6 (the stamps walk the
    image in order instead of at random); callers that draw the same points
    many times keep them sorted (see ``CloudOrder``).
    """
    out = np.zeros((height, width), dtype=np.uint32)
    if len(points) == 0 or width <= 0 or height <= 0:
        return out
    (a, b, c), (d, e, f) = transform
    px = a * points[:, 0] + b * points[:, 1] + c
    py = d * points[:, 0] + e * points[:, 1] + f
    fill, rim = disc_stamp(radius)
    splat(px, py, np.ascontiguousarray(colours, dtype=np.uint32), fill, rim, out, 8)
    return out


class CloudOrder:
    """A fixed drawing order for a point set: sorted by y, for memory locality in ``splat``."""

    def __init__(self, points):
        self.order = np.argsort(points[:, 1], kind="stable") if len(points) else np.zeros(0, np.int64)
        self.points = np.ascontiguousarray(points[self.order])

    def colours(self, colours):
        return colours[self.order]
