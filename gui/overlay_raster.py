"""The overlay's strokes drawn straight into a raster image in numba: ellipses and trails.

QPainter's anti-aliased strokes cost ~1.5 ms an outline at lecture sizes, and
PySide6 holds the GIL while it draws: EM's 2 x K outlines with their white
halos took 18 ms of the UI thread at every M-step, and the centres' dashed
trails grew dearer with every iteration.  Here an outline is the set of pixels
near the ellipse q(p) = 1, with q(p) = (p - c)^T Q (p - c), found row by row
between two ellipses of the same shape that bound every pixel the stroke can
touch; each pixel's coverage comes from its distance to the curve,
(sqrt(q) - 1) / |grad sqrt(q)|.  A trail's pixels are those near
its segments, each given to the nearest of a segment and its neighbours.
Every pixel is blended once per stroke, as QPainter blends a stroke.  Vector
exports keep QPainter's paths (``render.paint_overlay``).
"""

import math

import numpy as np
from numba import njit

_ARC_SAMPLES = 256  # the arc length around an outline is tabulated at this many angles (dashes)
NO_CLIP = np.array([0, 0, 2**31 - 1, 2**31 - 1], np.int64)  # stroke_ellipses' clip: the whole image
READY = False  # set by warm_up (on the worker): until then outlines are drawn by QPainter


@njit(cache=True, nogil=True)
def _blend(row, x, colour, cover):
    """Source-over of premultiplied ``colour`` at ``cover`` (0..1) onto row[x]."""
    a = cover * ((colour >> 24) & 255)
    keep = 1.0 - a / 255.0
    d = row[x]
    # written out channel by channel: numba's loop over a tuple of shifts cost 2.5x the blend
    v0 = (d & 255) * keep + cover * (colour & 255)
    v1 = ((d >> 8) & 255) * keep + cover * ((colour >> 8) & 255)
    v2 = ((d >> 16) & 255) * keep + cover * ((colour >> 16) & 255)
    v3 = ((d >> 24) & 255) * keep + a
    row[x] = (np.uint32(min(v0 + 0.5, 255.0)) | (np.uint32(min(v1 + 0.5, 255.0)) << 8)
              | (np.uint32(min(v2 + 0.5, 255.0)) << 16) | (np.uint32(min(v3 + 0.5, 255.0)) << 24))


@njit(cache=True, nogil=True)
def _angle(y, x):
    """atan2(y, x) to within 1e-5 rad (Hastings' polynomial): where a pixel sits along a dashed
    outline, at a fraction of the library call's cost."""
    ax, ay = abs(x), abs(y)
    big, small = max(ax, ay), min(ax, ay)
    if big == 0.0:
        return 0.0
    z = small / big
    z2 = z * z
    a = z * (0.99997726 + z2 * (-0.33262347 + z2 * (0.19354346 + z2 * (-0.11643287
                                                                        + z2 * (0.05265332 - 0.01172120 * z2)))))
    if ay > ax:
        a = 0.5 * math.pi - a
    if x < 0.0:
        a = math.pi - a
    return -a if y < 0.0 else a


@njit(cache=True, nogil=True)
def _row_span(q00, q01, q11, dy, s):
    """The x offsets (lo, hi) where row offset ``dy`` crosses the ellipse q = s^2 (lo > hi: it misses)."""
    b = q01 * dy
    disc = b * b - q00 * (q11 * dy * dy - s * s)
    if disc < 0.0:
        return 1.0, 0.0
    root = math.sqrt(disc)
    return (-b - root) / q00, (-b + root) / q00


@njit(cache=True, nogil=True, error_model="numpy")
def _dash_cover(cover, along, period, on):
    """``cover`` where arc length ``along`` falls on a dash of Qt's pattern (with its square caps)."""
    m = along - period * math.floor(along / period)
    return cover * min(max(min(m + 0.5, on - m + 0.5), 0.0), 1.0)


# error_model "numpy": a division by zero gives inf or NaN (left out by the blend), with no check per
# pixel that would keep the coverage loop from vectorising
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def stroke_ellipses(out, centres, shapes, half_widths, colours, dashes, clip):
    """Draw outline i of every row of the arguments into ``out`` ((H, W) uint32 premultiplied ARGB,
    or opaque RGB32), within ``clip`` (x0, y0, x1, y1): the pixels x0 <= x < x1, y0 <= y < y1.

    centres (M, 2) and shapes (M, 2, 2) in device pixels: outline i is centres[i] + shapes[i] @ (cos t, sin t);
    half_widths (M,) half the pen's width; colours (M,) premultiplied ARGB; dashes (M,) the pen's width
    for Qt's dash line (dash 4 widths, gap 2, square caps), 0 for a solid outline.

    A solid outline followed by a narrower one of the same curve (a halo and its line) is drawn in
    one sweep: each pixel's distance to the curve is found once and both are blended there, in
    order, which gives the pixels of drawing them one after the other.
    """
    H, W = out.shape
    X0, Y0 = max(clip[0], 0), max(clip[1], 0)
    X1, Y1 = min(clip[2], W), min(clip[3], H)
    distances = np.empty(W)  # one row's distances to the curve
    M = centres.shape[0]
    i = 0
    while i < M:
        # the next outline rides along when it is the same curve, narrower, after a solid one
        paired = (i + 1 < M and dashes[i] == 0.0 and half_widths[i + 1] <= half_widths[i]
                  and centres[i + 1, 0] == centres[i, 0] and centres[i + 1, 1] == centres[i, 1]
                  and shapes[i + 1, 0, 0] == shapes[i, 0, 0] and shapes[i + 1, 0, 1] == shapes[i, 0, 1]
                  and shapes[i + 1, 1, 0] == shapes[i, 1, 0] and shapes[i + 1, 1, 1] == shapes[i, 1, 1])
        last = i + 1 if paired else i  # the second stroke of the sweep (itself when alone)
        cx, cy = centres[i, 0], centres[i, 1]
        a00, a01, a10, a11 = shapes[i, 0, 0], shapes[i, 0, 1], shapes[i, 1, 0], shapes[i, 1, 1]
        i = last + 1
        det = a00 * a11 - a01 * a10
        if not (1e-9 < abs(det) < 1e300) or not (math.isfinite(cx) and math.isfinite(cy)):
            continue  # a degenerate or non-finite outline: nothing to stroke
        # Q = (A A^T)^-1, and the whitening u = A^-1 d that gives each pixel its angle t
        s00 = a00 * a00 + a01 * a01
        s01 = a00 * a10 + a01 * a11
        s11 = a10 * a10 + a11 * a11
        sdet = s00 * s11 - s01 * s01
        q00, q01, q11 = s11 / sdet, -s01 / sdet, s00 / sdet
        i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
        # the outline's radii: sqrt of the eigenvalues of A A^T
        mid = 0.5 * (s00 + s11)
        half = math.sqrt(max(0.25 * (s00 - s11) ** 2 + s01 * s01, 0.0))
        r_min = math.sqrt(max(mid - half, 1e-12))
        first = last - 1 if paired else last
        hw, hw_last = half_widths[first], half_widths[last]
        reach = hw + 1.0  # pixels this far from the curve may be touched (the wider stroke's)
        s_out = 1.0 + reach / r_min
        ext_y = s_out * math.sqrt(s11)
        if not (ext_y < 1e7 and abs(cx) < 1e9 and abs(cy) < 1e9) or r_min < 0.25:
            continue  # far too big, far away or too thin for the distance estimate (render.py leaves it to QPainter)
        y0 = max(math.floor(cy - ext_y), Y0)
        y1 = min(math.ceil(cy + ext_y), Y1 - 1)
        if y0 > y1:
            continue
        # a pixel whose estimated distance is under ``reach`` lies between the outlines q = s_in^2
        # and q = s_out^2 (the estimate is at least (1 - sqrt(q)) r_min inside): each row is searched
        # there, and nowhere else
        s_in = 1.0 - reach / r_min
        colour, colour_last = colours[first], colours[last]
        dash = dashes[last]  # the first of a pair is solid
        arc = np.zeros(1)
        period = on = 1.0
        if dash > 0.0:  # arc length from angle -pi, tabulated
            arc = np.empty(_ARC_SAMPLES + 1)
            arc[0] = 0.0
            px, py = a00 * -1.0, a10 * -1.0
            for j in range(1, _ARC_SAMPLES + 1):
                t = -math.pi + 2.0 * math.pi * j / _ARC_SAMPLES
                qx, qy = a00 * math.cos(t) + a01 * math.sin(t), a10 * math.cos(t) + a11 * math.sin(t)
                arc[j] = arc[j - 1] + math.hypot(qx - px, qy - py)
                px, py = qx, qy
            unit = max(dash, 1.0)
            period, on = 6.0 * unit, 5.0 * unit  # square caps lengthen each dash by a width
        for y in range(y0, y1 + 1):
            dy = y + 0.5 - cy
            lo, hi = _row_span(q00, q01, q11, dy, s_out)
            if lo > hi:
                continue
            a_lo, a_hi, b_lo, b_hi = lo, hi, 1.0, 0.0  # the whole row of the outer outline...
            if s_in > 0.0:
                in_lo, in_hi = _row_span(q00, q01, q11, dy, s_in)
                if in_lo <= in_hi:  # ...but the inner outline's part
                    a_hi, b_lo, b_hi = in_lo, in_hi, hi
            row = out[y]
            for sp in range(2):
                s_lo, s_hi = (a_lo, a_hi) if sp == 0 else (b_lo, b_hi)
                if s_lo > s_hi:
                    continue
                x_start = max(math.floor(max(cx + s_lo, -1e9)), X0)  # bounded: floor of a huge float overflows
                x_stop = min(math.ceil(min(cx + s_hi, 1e9)), X1 - 1)
                # the span's distances first, without branches (vectorised), then the blends
                for x in range(x_start, x_stop + 1):
                    dx = x + 0.5 - cx
                    gx = q00 * dx + q01 * dy
                    gy = q01 * dx + q11 * dy
                    f = math.sqrt(dx * gx + dy * gy)
                    # distance to the curve, (f - 1) / |grad f| with grad f = Q d / f; at the centre
                    # g = 0 gives NaN or inf, which the blend's "cover > 0" leaves out
                    distances[x] = abs((f - 1.0) * f / math.sqrt(gx * gx + gy * gy))
                for x in range(x_start, x_stop + 1):
                    distance = distances[x]
                    if not (distance < reach):
                        continue  # out of both strokes' reach (or NaN)
                    if paired:
                        cover = min(max(hw + 0.5 - distance, 0.0), 1.0)
                        if cover > 0.0:
                            _blend(row, x, colour, cover)
                    cover = min(max(hw_last + 0.5 - distance, 0.0), 1.0)
                    if not (cover > 0.0):
                        continue
                    if dash > 0.0:
                        dx = x + 0.5 - cx
                        ux, uy = i00 * dx + i01 * dy, i10 * dx + i11 * dy
                        pos = (_angle(uy, ux) + math.pi) * (_ARC_SAMPLES / (2.0 * math.pi))
                        j = min(int(pos), _ARC_SAMPLES - 1)
                        cover = _dash_cover(cover, arc[j] + (pos - j) * (arc[j + 1] - arc[j]), period, on)
                        if not (cover > 0.0):
                            continue
                    _blend(row, x, colour_last, cover)


@njit(cache=True, nogil=True)
def _segment_distance(px, py, ax, ay, bx, by):
    """(distance from p to the segment a-b, where along it the nearest point lies: 0..1)."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / length2 if length2 > 0.0 else 0.0
    t = min(max(t, 0.0), 1.0)
    ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    return math.sqrt(ex * ex + ey * ey), t


@njit(cache=True, nogil=True, error_model="numpy")
def stroke_trails(out, points, starts, half_widths, dot_radii, colours, dashes, clip):
    """Draw trail i, the polyline points[starts[i]:starts[i + 1]] (device pixels), into ``out``:
    its segments with half width half_widths[i], dashed as Qt's dash line of pen width dashes[i]
    (0: solid), then a round dot of radius dot_radii[i] at every vertex but the last, all in
    premultiplied colours[i], within ``clip`` (as ``stroke_ellipses``)."""
    H, W = out.shape
    X0, Y0 = max(clip[0], 0), max(clip[1], 0)
    X1, Y1 = min(clip[2], W), min(clip[3], H)
    for i in range(starts.shape[0] - 1):
        first, last = starts[i], starts[i + 1] - 1
        if last <= first:
            continue
        hw, colour, dash = half_widths[i], colours[i], dashes[i]
        unit = max(dash, 1.0)
        period, on = 6.0 * unit, 5.0 * unit  # square caps lengthen each dash by a width
        along0 = 0.0  # arc length at the segment's start: the dash pattern runs on across vertices
        for j in range(first, last):
            ax, ay, bx, by = points[j, 0], points[j, 1], points[j + 1, 0], points[j + 1, 1]
            length = math.sqrt((bx - ax) ** 2 + (by - ay) ** 2)
            if not (length < 1e7 and max(abs(ax), abs(ay), abs(bx), abs(by)) < 1e9):
                along0 += length if math.isfinite(length) else 0.0
                continue  # non-finite or vast: render.py leaves such trails to QPainter
            reach = hw + 1.0
            for y in range(max(math.floor(min(ay, by) - reach), Y0), min(math.ceil(max(ay, by) + reach), Y1)):
                row = out[y]
                # the row's stretch of the segment, widened by the reach: a long diagonal segment
                # is not scanned over its whole bounding box
                x_lo, x_hi = min(ax, bx), max(ax, bx)
                if abs(by - ay) > 1e-9:
                    t0 = min(max((y + 0.5 - reach - ay) / (by - ay), 0.0), 1.0)
                    t1 = min(max((y + 0.5 + reach - ay) / (by - ay), 0.0), 1.0)
                    xa, xb = ax + t0 * (bx - ax), ax + t1 * (bx - ax)
                    x_lo, x_hi = min(xa, xb), max(xa, xb)
                for x in range(max(math.floor(x_lo - reach), X0), min(math.ceil(x_hi + reach) + 1, X1)):
                    px, py = x + 0.5, y + 0.5
                    d, t = _segment_distance(px, py, ax, ay, bx, by)
                    cover = min(max(hw + 0.5 - d, 0.0), 1.0)
                    if not (cover > 0.0):
                        continue
                    # a pixel near a vertex is the nearer segment's, drawn once (the earlier one on a tie)
                    if j > first and _segment_distance(px, py, points[j - 1, 0], points[j - 1, 1], ax, ay)[0] <= d:
                        continue
                    if j + 1 < last and _segment_distance(px, py, bx, by, points[j + 2, 0],
                                                          points[j + 2, 1])[0] < d:
                        continue
                    if dash > 0.0:
                        cover = _dash_cover(cover, along0 + t * length, period, on)
                        if not (cover > 0.0):
                            continue
                    _blend(row, x, colour, cover)
            along0 += length
        radius = dot_radii[i]
        for j in range(first, last):
            cx, cy = points[j, 0], points[j, 1]
            if not (abs(cx) < 1e9 and abs(cy) < 1e9) or not (0.0 < radius < 1e4):
                continue
            for y in range(max(math.floor(cy - radius - 1.0), Y0), min(math.ceil(cy + radius + 1.0), Y1)):
                row = out[y]
                for x in range(max(math.floor(cx - radius - 1.0), X0), min(math.ceil(cx + radius + 1.0), X1)):
                    d = math.sqrt((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2)
                    cover = min(max(radius + 0.5 - d, 0.0), 1.0)
                    if cover > 0.0:
                        _blend(row, x, colour, cover)


def premultiplied(rgb, alpha):
    """uint32 premultiplied ARGB of an (r, g, b) 0..255 and an alpha 0..255."""
    r, g, b = (round(float(c) * alpha / 255.0) for c in rgb)
    return np.uint32((int(alpha) << 24) | (r << 16) | (g << 8) | b)


def warm_up():
    """Compile (or load) the kernel: it runs on the UI thread, which must never compile."""
    global READY
    out = np.zeros((8, 8), np.uint32)
    shape = np.array([[[2.0, 0.0], [0.0, 1.5]]] * 2)
    stroke_ellipses(out, np.array([[4.0, 4.0]] * 2), shape, np.array([1.0, 1.0]),
                    np.array([premultiplied((0, 0, 0), 255)] * 2, np.uint32), np.array([0.0, 1.0]), NO_CLIP)
    stroke_trails(out, np.array([[1.0, 1.0], [5.0, 3.0], [6.0, 7.0]]), np.array([0, 3], np.int64), np.array([1.0]),
                  np.array([2.5]), np.array([premultiplied((0, 0, 0), 255)], np.uint32), np.array([2.0]), NO_CLIP)
    READY = True
    return out
