"""The overlay's strokes drawn in numba into raster images (gui/overlay_raster.py)."""

import itertools
import math

import numpy as np
import pytest

from gui import overlay_raster
from gui.overlay_raster import premultiplied, stroke_ellipses, stroke_trails


def _blend(out, cover, colour):
    src = np.array([(int(colour) >> s) & 255 for s in (24, 16, 8, 0)], dtype=float)
    return out * (1.0 - cover * src[0] / 255.0)[..., None] + cover[..., None] * src


def _dashed(cover, along, dash):
    unit = max(dash, 1.0)
    m = np.mod(along, 6.0 * unit)
    return cover * np.clip(np.minimum(m + 0.5, 5.0 * unit - m + 0.5), 0.0, 1.0)


def _every_pixel(shape_hw, centres, shapes, half_widths, colours, dashes):
    """The same coverage evaluated at every pixel of the image (numpy): what the kernel's row
    spans must not miss."""
    H, W = shape_hw
    ys, xs = np.mgrid[0:H, 0:W]
    out = np.zeros((H, W, 4))  # premultiplied a, r, g, b as floats
    for c, A, hw, colour, dash in zip(centres, shapes, half_widths, colours, dashes):
        S = A @ A.T
        Q = np.linalg.inv(S)
        dx, dy = xs + 0.5 - c[0], ys + 0.5 - c[1]
        gx, gy = Q[0, 0] * dx + Q[0, 1] * dy, Q[0, 1] * dx + Q[1, 1] * dy
        g = np.hypot(gx, gy)
        f = np.sqrt(dx * gx + dy * gy)
        with np.errstate(divide="ignore", invalid="ignore"):
            cover = np.clip(hw + 0.5 - np.abs((f - 1.0) * f / g), 0.0, 1.0)
        cover[~(g > 0)] = 0.0
        if dash > 0:
            t = np.linspace(-math.pi, math.pi, overlay_raster._ARC_SAMPLES + 1)
            pts = (A @ np.stack([np.cos(t), np.sin(t)])).T
            arc = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
            inv = np.linalg.inv(A)
            ux, uy = inv[0, 0] * dx + inv[0, 1] * dy, inv[1, 0] * dx + inv[1, 1] * dy
            pos = (np.arctan2(uy, ux) + math.pi) * (overlay_raster._ARC_SAMPLES / (2 * math.pi))
            j = np.minimum(pos.astype(int), overlay_raster._ARC_SAMPLES - 1)
            along = arc[j] + (pos - j) * (arc[j + 1] - arc[j])
            cover = _dashed(cover, along, dash)
        out = _blend(out, cover, colour)
    return out


def test_every_pixel_of_every_outline_is_drawn_as_everywhere_evaluated():
    """Row spans find every pixel an outline touches: round, long and thin, turned, dashed,
    wide halos, and outlines running off the image, against every pixel evaluated."""
    rng = np.random.default_rng(3)
    H, W = 90, 130
    centres, shapes, hws, colours, dashes = [], [], [], [], []
    for i in range(12):
        angle = rng.uniform(0, math.pi)
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        radii = rng.uniform(3, 70, size=2) * ([1.0, rng.uniform(0.05, 1.0)])
        centres.append(rng.uniform([-20, -20], [W + 20, H + 20]))
        shapes.append(rot * radii)
        hws.append(rng.uniform(0.3, 4.0))
        colours.append(premultiplied(tuple(rng.integers(0, 256, 3)), int(rng.integers(100, 256))))
        dashes.append(0.0 if i % 3 else rng.uniform(0.5, 3.0))
    expected = _every_pixel((H, W), centres, shapes, hws, colours, dashes)
    for clip in ((0, 0, W, H), (10, 5, 120, 80)):  # the whole image, and an export's plot area
        out = np.zeros((H, W), np.uint32)
        stroke_ellipses(out, np.array(centres), np.array(shapes), np.array(hws), np.array(colours, np.uint32),
                        np.array(dashes), np.array(clip, np.int64))
        got = np.stack([(out >> s) & 255 for s in (24, 16, 8, 0)], axis=-1).astype(float)
        inside = np.zeros((H, W), bool)
        inside[clip[1]:clip[3], clip[0]:clip[2]] = True
        assert got[inside, 0].max() > 0 and not got[~inside].any()  # drawn, and only within the clip
        assert np.abs(got[inside] - expected[inside]).max() <= 2.0  # 8-bit rounding per blend, nothing missed


def test_a_halo_and_its_line_in_one_sweep_are_the_two_strokes_one_after_the_other():
    """The window's outlines come in pairs, a white halo then the cluster's (dashed) line on the
    same curve: drawn in one sweep, each pixel gets both blends in order, as two calls give them,
    and every pixel either touches is found."""
    rng = np.random.default_rng(11)
    H, W = 120, 160
    halo = premultiplied((255, 255, 255), 200)
    for case in range(8):
        angle = rng.uniform(0, math.pi)
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        long = rng.uniform(10, 90)
        shape = rot * [long, long * rng.uniform(0.5, 1.0)]
        centre = rng.uniform([0, 0], [W, H])
        width = rng.uniform(1.0, 6.0)
        line = premultiplied(tuple(rng.integers(0, 256, 3)), int(rng.integers(100, 256)))
        dash = width if case % 2 else 0.0
        pair = (np.array([centre, centre]), np.array([shape, shape]), np.array([0.5 * (width + 3.0), 0.5 * width]),
                np.array([halo, line], np.uint32), np.array([0.0, dash]))
        swept = rng.integers(0, 2**32, size=(H, W), dtype=np.uint64).astype(np.uint32)
        one_by_one = swept.copy()
        stroke_ellipses(swept, *pair, overlay_raster.NO_CLIP)
        for i in range(2):
            stroke_ellipses(one_by_one, *(a[i:i + 1] for a in pair), overlay_raster.NO_CLIP)
        np.testing.assert_array_equal(swept, one_by_one)
        out = np.zeros((H, W), np.uint32)
        stroke_ellipses(out, *pair, overlay_raster.NO_CLIP)
        got = np.stack([(out >> s) & 255 for s in (24, 16, 8, 0)], axis=-1).astype(float)
        assert got[..., 0].max() > 0
        assert np.abs(got - _every_pixel((H, W), *pair)).max() <= 2.0


@pytest.mark.parametrize("radii,half_width,angle", [((100.0, 30.0), 5.0, 0.0), ((100.0, 30.0), 5.0, 0.3),
                                                     ((100.0, 30.0), 5.0, 1.2), ((400.0, 40.0), 7.7, 0.0),
                                                     ((400.0, 40.0), 7.7, 0.05), ((600.0, 80.0), 11.2, 0.02)])
def test_a_flat_outlines_wide_stroke_is_whole_along_its_top_and_bottom(radii, half_width, angle):
    """Rows near a flat outline's top or bottom are in a wide stroke's reach far from where they
    cross the curve (EM's halo at K = 2 on a HiDPI screen is 7.7 px wide each side); they were
    searched only around the crossings, and up to a whole pixel of the halo was lost."""
    H, W = round(2 * radii[1] + 4 * half_width + 40), round(2 * radii[0] + 4 * half_width + 40)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    outline = (np.array([[W / 2 + 0.3, H / 2 + 0.7]]), np.array([rot * radii]), np.array([half_width]),
               np.array([premultiplied((0, 0, 0), 255)], np.uint32), np.array([0.0]))
    out = np.zeros((H, W), np.uint32)
    stroke_ellipses(out, *outline, overlay_raster.NO_CLIP)
    got = np.stack([(out >> s) & 255 for s in (24, 16, 8, 0)], axis=-1).astype(float)
    assert np.abs(got - _every_pixel((H, W), *outline)).max() <= 2.0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_outlines_draw_nothing(bad):
    out = np.zeros((20, 20), np.uint32)
    black = np.array([premultiplied((0, 0, 0), 255)], np.uint32)
    stroke_ellipses(out, np.array([[10.0, 10.0]]), np.array([[[bad, 0.0], [0.0, 2.0]]]), np.array([1.0]),
                    black, np.array([0.0]), overlay_raster.NO_CLIP)
    stroke_ellipses(out, np.array([[bad, 10.0]]), np.array([[[3.0, 0.0], [0.0, 2.0]]]), np.array([1.0]),
                    black, np.array([2.0]), overlay_raster.NO_CLIP)
    assert not out.any()


def test_an_outline_far_wider_than_the_image_draws_its_two_long_sides_only():
    out = np.zeros((20, 30), np.uint32)
    stroke_ellipses(out, np.array([[15.0, 10.0]]), np.array([[[1e5, 0.0], [0.0, 4.0]]]), np.array([0.5]),
                    np.array([premultiplied((0, 0, 0), 255)], np.uint32), np.array([0.0]), overlay_raster.NO_CLIP)
    drawn = np.flatnonzero(out.any(axis=1))
    assert set(drawn) == {5, 6, 13, 14}  # y = 10 -+ 4 (pixel centres at 5.5 / 6.5 and 13.5 / 14.5)


def test_the_kernel_strokes_the_outlines_qpainter_draws(qtbot, monkeypatch):
    """The overlay's outlines and trails come from the kernels: the same ellipses and polylines,
    at the same places and widths, as QPainter draws them (a transposed shape or a wrong
    transform would miss most of them), at a device pixel ratio of 2 as well."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter, QTransform

    from gui.render import Overlay, paint_overlay
    overlay_raster.warm_up()
    calls = []
    kernel = overlay_raster.stroke_ellipses
    monkeypatch.setattr(overlay_raster, "stroke_ellipses", lambda *args: calls.append(1) or kernel(*args))
    trail_kernel = overlay_raster.stroke_trails
    monkeypatch.setattr(overlay_raster, "stroke_trails", lambda *args: calls.append(2) or trail_kernel(*args))
    rng = np.random.default_rng(1)
    K = 4
    centres = rng.uniform(-3, 3, size=(K, 2))
    A = rng.normal(size=(K, 2, 2))
    covariances = A @ A.transpose(0, 2, 1) + 0.2 * np.eye(2)
    to_device = QTransform(40.0, 6.0, -9.0, -50.0, 200.0, 160.0)  # data -> logical pixels, y up, sheared
    trails = [np.cumsum(rng.normal(scale=0.6, size=(6, 2)), axis=0) + centres[k] for k in range(K)]

    def alpha(draft, ratio):
        image = QImage(int(400 * ratio), int(320 * ratio), QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        paint_overlay(painter, to_device, Overlay(centres=centres, covariances=covariances,
                                                  weights=np.full(K, 1 / K), trails=trails, draft=draft))
        painter.end()
        bits = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)[:, :image.width()]
        return (bits >> 24) > 100

    for ratio in (1.0, 2.0):
        raster = alpha(True, ratio) | alpha(False, ratio)
        monkeypatch.setattr(overlay_raster, "READY", False)  # QPainter's outlines
        painted = alpha(False, ratio)
        monkeypatch.setattr(overlay_raster, "READY", True)
        assert calls.count(1) == calls.count(2) == 2 * ratio  # from the kernels, playing or still
        overlap = (raster & painted).sum() / (raster | painted).sum()
        assert overlap > 0.75, (ratio, overlap)


def _trails_every_pixel(shape_hw, trails, half_width, dot_radius, colours, dash):
    """Each trail's coverage at every pixel: the nearest of its segments (the earliest on a tie),
    dashed by the arc length there, then its dots."""
    H, W = shape_hw
    ys, xs = np.mgrid[0:H, 0:W]
    px, py = xs + 0.5, ys + 0.5
    out = np.zeros((H, W, 4))
    for trail, colour in zip(trails, colours):
        best, along = np.full((H, W), np.inf), np.zeros((H, W))
        start = 0.0
        for a, b in itertools.pairwise(trail):
            d = b - a
            length = float(np.hypot(*d))
            t = np.clip(((px - a[0]) * d[0] + (py - a[1]) * d[1]) / (length ** 2), 0.0, 1.0)
            dist = np.hypot(px - (a[0] + t * d[0]), py - (a[1] + t * d[1]))
            nearer = dist < best
            best[nearer], along[nearer] = dist[nearer], start + t[nearer] * length
            start += length
        out = _blend(out, _dashed(np.clip(half_width + 0.5 - best, 0.0, 1.0), along, dash), colour)
        for c in trail[:-1]:
            out = _blend(out, np.clip(dot_radius + 0.5 - np.hypot(px - c[0], py - c[1]), 0.0, 1.0), colour)
    return out


def test_trails_are_drawn_as_every_pixel_evaluated():
    """Every pixel near a trail is drawn once, by its nearest segment, with the dash pattern
    running on across vertices, and a dot at each earlier position: sharp turns, long and
    short segments, trails running off the image."""
    rng = np.random.default_rng(5)
    H, W = 80, 140
    trails = []
    for i in range(4):  # monotone in x: no trail comes back near itself
        xs = np.sort(rng.uniform(-15, W + 15, size=rng.integers(2, 7)))
        trails.append(np.c_[xs, rng.uniform(-5, H + 5, size=len(xs))])
    colours = [premultiplied(tuple(rng.integers(0, 256, 3)), 220) for _ in trails]
    points = np.concatenate(trails)
    starts = np.cumsum([0] + [len(t) for t in trails]).astype(np.int64)
    n = len(trails)
    out = np.zeros((H, W), np.uint32)
    stroke_trails(out, points, starts, np.full(n, 1.0), np.full(n, 2.5), np.array(colours, np.uint32),
                  np.full(n, 2.0), overlay_raster.NO_CLIP)
    expected = _trails_every_pixel((H, W), trails, 1.0, 2.5, colours, 2.0)
    got = np.stack([(out >> s) & 255 for s in (24, 16, 8, 0)], axis=-1).astype(float)
    assert got[..., 0].max() > 0
    assert np.abs(got - expected).max() <= 3.0  # 8-bit rounding at each blend, nothing missed or doubled


def test_a_collapsing_component_is_drawn_as_qpainter_draws_it(qtbot):
    """An outline thinner than the kernel's distance estimate holds for (a collapsed EM component:
    a line) is left to QPainter: the frame is the one QPainter alone would draw."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter, QTransform

    from gui.render import Overlay, paint_overlay
    overlay_raster.warm_up()
    line = np.array([[0.5, 0.5], [0.5, 0.5 + 1e-12]])  # rank one: all along the diagonal
    overlay = Overlay(centres=np.array([[-1.0, 0.0], [2.0, 1.0]]), covariances=np.array([0.3 * np.eye(2), line]),
                      weights=np.array([0.5, 0.5]))

    def pixels(ready):
        overlay_raster.READY = ready
        image = QImage(300, 200, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        paint_overlay(painter, QTransform(50.0, 0.0, 0.0, -50.0, 100.0, 120.0), overlay)
        painter.end()
        return np.frombuffer(image.constBits(), np.uint32).reshape(200, 300).copy()
    try:
        both, qpainter = pixels(True), pixels(False)
    finally:
        overlay_raster.READY = True
    collapsed = np.zeros((200, 300), bool)
    collapsed[:, 150:] = True  # component 2's side of the frame
    assert (qpainter[collapsed] >> 24).max() > 0  # its line is there
    assert np.array_equal(both[collapsed], qpainter[collapsed])


@pytest.mark.parametrize("far", [1e12, 1e20, -1e20])
def test_coordinates_far_off_the_image_never_hang_or_write_outside(far):
    """Device coordinates past what an int holds (a centre 1e18 units off in a zoomed view),
    with an export's clip starting past 0: nothing drawn, no hang, no stray write."""
    out = np.zeros((60, 80), np.uint32)
    clip = np.array([5, 5, 75, 55], np.int64)
    black = np.array([premultiplied((0, 0, 0), 255)], np.uint32)
    stroke_ellipses(out, np.array([[far, 30.0]]), np.array([[[20.0, 0.0], [0.0, 1e-7]]]), np.array([1.0]), black,
                    np.array([0.0]), clip)
    stroke_ellipses(out, np.array([[40.0, 30.0]]), np.array([[[far, 0.0], [0.0, 1e-3]]]), np.array([1.0]), black,
                    np.array([0.0]), clip)
    stroke_trails(out, np.array([[10.0, 10.0], [far, 12.0], [far, far]]), np.array([0, 3], np.int64),
                  np.array([1.0]), np.array([2.5]), black, np.array([2.0]), clip)
    assert not out[:, :5].any() and not out[:5].any() and not out[55:].any() and not out[:, 75:].any()


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_centres_on_an_image_are_the_centres_qpainter_draws(qtbot, ratio):
    """On a raster device each centre is a sprite drawn once per colour, size and quarter-pixel
    offset: it is QPainter's centre at that place, filled or (an empty cluster) dashed."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter, QTransform

    from gui import render

    def image():
        out = QImage(round(120 * ratio), round(80 * ratio), QImage.Format.Format_ARGB32_Premultiplied)
        out.setDevicePixelRatio(ratio)
        out.fill(0)
        return out

    centres = np.array([[20.0, 30.0], [70.25, 40.5], [95.75, 60.25]])  # on the quarter-pixel grid
    sprites = image()
    painter = QPainter(sprites)
    render.paint_overlay(painter, QTransform(), render.Overlay(centres=centres, empty=(1,), marker_scale=1.5))
    painter.end()
    drawn = image()
    painter = QPainter(drawn)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for k, (x, y) in enumerate(centres):
        render._paint_centre(painter, QPointF(x, y), k, 1.5, empty=k == 1)
    painter.end()
    assert sprites == drawn and not drawn.isNull()
    assert QImage(sprites).pixelColor(round(20 * ratio), round(30 * ratio)).alpha() == 255
