"""Painter code for everything drawn over the points: centres, ellipses, trails, lines.

The canvas item and the slide exporter both call ``paint_overlay`` with a
QPainter and a data-to-device transform, so the window and the exported frames
are drawn by the same code.  Nothing here computes the algorithm's maths; it
draws parameters the engine reported, in the plane the session's view
projection shows (engine.projection: centres and trails projected, each
covariance drawn as P Σ Pᵀ).
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph.functions as fn
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

from . import overlay_raster
from .palette import CLUSTER_HEX

# Lines from points to their centres: past this many points they are a grey
# smear that costs seconds to draw, so neither the window nor an export draws them.
LINES_MAX_POINTS = 20_000
# Fitting the view to the data: a margin of this fraction of the extent, and at
# least this much in data units (one point, or points on a line, still get room).
FIT_MARGIN, FIT_MIN_PAD = 0.08, 0.5
_CIRCLE = np.c_[np.cos(np.linspace(0, 2 * np.pi, 97)), np.sin(np.linspace(0, 2 * np.pi, 97))]


def cluster_qcolor(k, alpha=255):
    c = QColor(CLUSTER_HEX[k % len(CLUSTER_HEX)])
    c.setAlpha(alpha)
    return c


def ellipse_outline(mean, covariance, n_sigma):
    """Points (97, 2) on the n-sigma contour of N(mean, covariance) (2-D part only)."""
    cov = np.asarray(covariance)[:2, :2]
    vals, vecs = np.linalg.eigh(cov)
    radii = n_sigma * np.sqrt(np.maximum(vals, 0.0))
    return np.asarray(mean)[:2] + (_CIRCLE * radii) @ vecs.T


@dataclass
class Overlay:
    """What to draw over the points for one half-step (arrays in data coordinates)."""

    centres: np.ndarray = None  # (K, 2)
    covariances: np.ndarray = None  # (K, 2, 2) EM only
    weights: np.ndarray = None  # (K,) EM only
    empty: tuple = ()
    trails: list = None  # per cluster, (T, 2) centre positions so far
    points: np.ndarray = None  # for lines to centres
    labels: np.ndarray = None
    true_mixture: object = None  # engine Mixture drawn dashed (sampling view)
    selected: np.ndarray = None  # (M, 2) points selected for deletion
    changed: np.ndarray = None  # (M, 2) points whose cluster this assignment step changed: ringed
    marker_scale: float = 1.0
    # while playing: the ellipses' white halos and dashed 2-sigma outlines without anti-aliasing and
    # the pi labels from a cache (60 -> 18 ms at K = 10); a still frame and every export are drawn in full
    draft: bool = False


def overlay_key(overlay):
    """What ``paint_overlay`` draws from ``overlay``, as one comparable value: equal keys, equal
    pictures (the true mixture by identity: the session replaces it, never edits it)."""
    def packed(a):
        return None if a is None else (np.shape(a), np.asarray(a).tobytes())
    return (packed(overlay.centres), packed(overlay.covariances), packed(overlay.weights), tuple(overlay.empty),
            None if overlay.trails is None else tuple(packed(t) for t in overlay.trails),
            packed(overlay.points), packed(overlay.labels), id(overlay.true_mixture), packed(overlay.selected),
            packed(overlay.changed), overlay.marker_scale, overlay.draft)


def _device_xy(to_device, xy):
    """(M, 2) data coordinates through the affine ``to_device`` (a QTransform), vectorised."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)[:, :2]
    t = to_device
    return np.c_[t.m11() * xy[:, 0] + t.m21() * xy[:, 1] + t.dx(),
                 t.m12() * xy[:, 0] + t.m22() * xy[:, 1] + t.dy()]


def _polygon(to_device, xy):
    """A QPolygonF of the points mapped to device pixels, filled through numpy (no loop per point)."""
    device = _device_xy(to_device, xy)
    poly = fn.create_qpolygonf(len(device))
    fn.ndarray_from_qpolygonf(poly)[:] = device
    return poly


def _map(to_device, xy):
    return [QPointF(x, y) for x, y in _device_xy(to_device, xy).tolist()]


def paint_overlay(painter, to_device, overlay):
    """Draw ``overlay`` with ``painter`` already in device coordinates (identity transform)."""
    painter.setRenderHint(painter.RenderHint.Antialiasing, True)
    s = overlay.marker_scale
    if overlay.true_mixture is not None:
        _paint_true_mixture(painter, to_device, overlay.true_mixture, s)
    if overlay.selected is not None and len(overlay.selected):
        painter.setPen(QPen(QColor(20, 20, 20), 1.8 * s))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for p in _map(to_device, overlay.selected[:5000]):
            painter.drawEllipse(p, 7.5 * s, 7.5 * s)
    if overlay.changed is not None and len(overlay.changed):
        for colour, width in ((QColor(255, 255, 255, 230), 4.2), (QColor(20, 20, 20), 2.0)):
            painter.setPen(QPen(colour, width * s))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for p in _map(to_device, overlay.changed):
                painter.drawEllipse(p, 8.0 * s, 8.0 * s)
    if overlay.centres is None or not len(overlay.centres):
        return
    K = len(overlay.centres)
    if overlay.labels is not None and overlay.points is not None:
        for k in range(K):
            members = overlay.points[overlay.labels == k]
            if not len(members):
                continue
            ends = _device_xy(to_device, members)
            pairs = np.empty((2 * len(ends), 2))
            pairs[0::2] = ends
            pairs[1::2] = _device_xy(to_device, overlay.centres[k][None, :2])
            painter.setPen(QPen(cluster_qcolor(k, 90), 1.0 * s))
            # one path of point-centre pairs, built by numpy: no QLineF per point
            painter.drawPath(fn.arrayToQPath(pairs[:, 0], pairs[:, 1], connect="pairs"))
    if overlay.trails and not _raster_trails(painter, to_device, overlay.trails, s):
        for k, trail in enumerate(overlay.trails):
            if len(trail) < 2:
                continue
            pen = QPen(cluster_qcolor(k, 220), 2.0 * s, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            poly = _polygon(to_device, trail)
            painter.drawPolyline(poly)
            # the dots at the earlier positions: round 5 px points, one call
            dots = QPen(cluster_qcolor(k, 220), 5.0 * s)
            dots.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(dots)
            painter.drawPoints(poly.mid(0, len(trail) - 1))
    if overlay.covariances is not None:
        _paint_ellipses(painter, to_device, overlay, s, rastered=_raster_ellipses(painter, to_device, overlay, s))
    # on a raster device each centre is a sprite drawn once per colour and size (10 QPainter
    # ellipses cost the UI thread ~1 ms at every M-step); a vector device keeps the paths
    raster = isinstance(painter.device(), QImage)
    ratio = painter.device().devicePixelRatioF()
    for k in range(K):
        at = to_device.map(QPointF(*map(float, overlay.centres[k][:2])))
        if raster and max(abs(at.x()), abs(at.y())) < 1e6:
            # put at a whole device pixel, drawn a quarter pixel true: the centre sits on its ellipse
            x, y = (math.floor(v * ratio * SPRITE_PHASES + 0.5) for v in (at.x(), at.y()))
            image, offset = _centre_image(k, s, ratio, k in overlay.empty,
                                          x % SPRITE_PHASES, y % SPRITE_PHASES)
            painter.drawImage(QPointF((x // SPRITE_PHASES) / ratio, (y // SPRITE_PHASES) / ratio) + offset, image)
        else:
            _paint_centre(painter, at, k, s, empty=k in overlay.empty)


def _ellipse_pens(overlay, s):
    """(k, n_sigma, width, alpha) of every outline, in drawing order: 1 and 2 sigma per component."""
    K = len(overlay.centres)
    weights = overlay.weights if overlay.weights is not None else np.full(K, 1.0 / K)
    for k in range(K):
        # line width grows with pi_k: heavier components draw heavier
        width = (1.2 + 7.0 * float(weights[k])) * s
        for n_sigma, alpha in ((1.0, 255), (2.0, 150)):
            yield k, n_sigma, (width if n_sigma == 1.0 else width * 0.55), alpha


# The kernel's distance to an outline holds for outlines at least this wide (device pixels, the
# 1-sigma minor radius); a collapsing component's is drawn by QPainter.  Past the other bound
# (device pixels from the origin, or a radius) coordinates lose their precision.
RASTER_MIN_RADIUS, RASTER_MAX_RADIUS = 1.5, 1e6


def _raster_target(painter):
    """(pixels (H, W) uint32, device pixel ratio, clip) of the image ``painter`` draws on, for
    ``overlay_raster``'s kernels; None where they cannot draw (a vector device, or the kernels
    not compiled yet: they never compile on the UI thread)."""
    device = painter.device()
    if not overlay_raster.READY or not isinstance(device, QImage) or device.format() not in (
            QImage.Format.Format_ARGB32_Premultiplied, QImage.Format.Format_RGB32):
        return None
    ratio = device.devicePixelRatioF()
    clip = overlay_raster.NO_CLIP
    if painter.hasClipping():  # an export's plot area: strokes stop at its edge, as QPainter's do
        box = painter.clipBoundingRect()
        clip = np.array([math.floor(box.left() * ratio), math.floor(box.top() * ratio),
                         math.ceil(box.right() * ratio), math.ceil(box.bottom() * ratio)], np.int64)
    bits = np.frombuffer(device.bits(), dtype=np.uint32).reshape(device.height(), device.bytesPerLine() // 4)
    return bits[:, :device.width()], ratio, clip


def _raster_trails(painter, to_device, trails, s):
    """The trails (dashed, 2 px) and their dots (5 px) stroked by ``overlay_raster``, as
    ``paint_overlay`` draws them with QPainter; False where the kernel cannot."""
    target = _raster_target(painter)
    if target is None:
        return False
    pixels, ratio, clip = target
    drawn = [(k, trail) for k, trail in enumerate(trails) if len(trail) >= 2]
    if not drawn:
        return True
    points = np.concatenate([_device_xy(to_device, trail) for _, trail in drawn]) * ratio
    if not np.all(np.abs(points) <= RASTER_MAX_RADIUS):
        return False  # a centre far off (or not finite): QPainter's drawing, which clips it
    starts = np.cumsum([0] + [len(trail) for _, trail in drawn]).astype(np.int64)
    colours = np.array([overlay_raster.premultiplied(cluster_qcolor(k).getRgb()[:3], 220) for k, _ in drawn],
                       dtype=np.uint32)
    n = len(drawn)
    painter.beginNativePainting()
    try:
        overlay_raster.stroke_trails(pixels, points, starts, np.full(n, 1.0 * s * ratio), np.full(n, 2.5 * s * ratio),
                                     colours, np.full(n, 2.0 * s * ratio), clip)
    finally:
        painter.endNativePainting()
    return True


def _raster_ellipses(painter, to_device, overlay, s):
    """The outlines and their halos stroked by ``overlay_raster`` straight into the painter's
    image, the window's and an exported frame's alike (~3 ms where QPainter takes 18-50 at
    K = 10, and without the GIL: export threads stroke side by side). Returns the components
    stroked: none where the kernel cannot draw, and never a collapsing one (thinner than
    RASTER_MIN_RADIUS device pixels, or vast), whose distance estimate fails: QPainter draws those."""
    target = _raster_target(painter)
    if target is None:
        return set()
    pixels, ratio, clip = target
    # the transform's linear part, acting on column vectors (x, y): QTransform maps x' = m11 x + m21 y + dx
    linear = np.array([[to_device.m11(), to_device.m21()], [to_device.m12(), to_device.m22()]]) * ratio
    # each outline's 1-sigma shape in device pixels: the covariance's axes, scaled and mapped
    vals, vecs = np.linalg.eigh(np.asarray(overlay.covariances, dtype=np.float64)[:, :2, :2])
    unit_shapes = linear @ (vecs * np.sqrt(np.maximum(vals, 0.0))[:, None, :])
    device_centres = _device_xy(to_device, overlay.centres) * ratio
    radii = np.linalg.svd(unit_shapes, compute_uv=False)  # (K, 2), largest first
    stroked = {k for k in range(len(unit_shapes)) if RASTER_MIN_RADIUS <= radii[k, 1]
               and radii[k, 0] <= RASTER_MAX_RADIUS and np.all(np.abs(device_centres[k]) <= RASTER_MAX_RADIUS)}
    if not stroked:
        return stroked
    halo = overlay_raster.premultiplied((255, 255, 255), 200)
    centres, shapes, half_widths, colours, dashes = [], [], [], [], []
    for k, n_sigma, w, alpha in _ellipse_pens(overlay, s):
        if k not in stroked:
            continue
        for hw, rgba, dash in ((0.5 * (w + 3.0 * s), halo, 0.0),
                               (0.5 * w, overlay_raster.premultiplied(cluster_qcolor(k).getRgb()[:3], alpha),
                                w * ratio if n_sigma == 2.0 else 0.0)):
            centres.append(device_centres[k])
            shapes.append(n_sigma * unit_shapes[k])
            half_widths.append(hw * ratio)
            colours.append(rgba)
            dashes.append(dash)
    painter.beginNativePainting()
    try:
        overlay_raster.stroke_ellipses(pixels, np.array(centres), np.array(shapes),
                                       np.array(half_widths), np.array(colours, dtype=np.uint32),
                                       np.array(dashes), clip)
    finally:
        painter.endNativePainting()
    return stroked


def _paint_ellipses(painter, to_device, overlay, s, rastered=()):
    """The 1 and 2 sigma outlines with their halos (but those of the components ``rastered``:
    drawn already), then each component's pi_k label over all of them."""
    for k, n_sigma, w, alpha in _ellipse_pens(overlay, s):
        if k in rastered:
            continue
        poly = _polygon(to_device, ellipse_outline(overlay.centres[k], overlay.covariances[k], n_sigma))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # a white halo keeps the outline visible over points of its own colour
        painter.setPen(QPen(QColor(255, 255, 255, 200), w + 3.0 * s))
        if overlay.draft:
            painter.setRenderHint(painter.RenderHint.Antialiasing, False)
        painter.drawPolygon(poly)
        # while playing, the dashed 2-sigma outline is not anti-aliased either (12 of 30 ms)
        painter.setRenderHint(painter.RenderHint.Antialiasing, not (overlay.draft and n_sigma == 2.0))
        pen = QPen(cluster_qcolor(k, alpha), w)
        if n_sigma == 2.0:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPolygon(poly)
        painter.setRenderHint(painter.RenderHint.Antialiasing, True)
    K = len(overlay.centres)
    weights = overlay.weights if overlay.weights is not None else np.full(K, 1.0 / K)
    font = _label_font(s)
    painter.setFont(font)
    for k in range(K):
        anchor = to_device.map(QPointF(*map(float, overlay.centres[k][:2])))
        label = f"π={float(weights[k]):.2f}"
        at = QPointF(anchor.x() + 14 * s, anchor.y() - 17 * s)
        if overlay.draft or isinstance(painter.device(), QImage):  # a vector device keeps the text as paths
            ratio = painter.device().devicePixelRatioF()
            image, offset = _label_image(label, k, s, ratio)
            painter.drawImage(at + offset, image)
        else:
            _paint_label(painter, font, at, label, k, s)


def _paint_label(painter, font, at, label, k, s):
    """``label`` with its baseline at ``at``: a wide white halo, then a thin dark outline, then the
    cluster's colour, readable over points, field and ellipses."""
    path = QPainterPath()
    path.addText(at, font, label)
    halo = QPen(QColor(255, 255, 255, 245), 5.0 * s)
    halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(path, halo)
    painter.strokePath(path, QPen(QColor(30, 30, 30), 1.3 * s))
    painter.fillPath(path, cluster_qcolor(k))


@functools.lru_cache(maxsize=512)
def _label_image(label, k, s, ratio):
    """(QImage, offset from the baseline point): ``_paint_label`` once, at the device's pixel ratio."""
    font = _label_font(s)
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, label)
    box = path.boundingRect().adjusted(-4 * s, -4 * s, 4 * s, 4 * s)
    image = QImage(max(1, math.ceil(box.width() * ratio)), max(1, math.ceil(box.height() * ratio)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        _paint_label(painter, font, QPointF(-box.left(), -box.top()), label, k, s)
    finally:
        painter.end()
    return image, box.topLeft()


def _label_font(s):
    font = QFont()
    font.setPointSizeF(9.0 * s)
    font.setBold(True)
    return font


SPRITE_PHASES = 4  # a centre's sprite is drawn at this many sub-pixel offsets each way


@functools.lru_cache(maxsize=1024)
def _centre_image(k, s, ratio, empty, phase_x=0, phase_y=0):
    """(QImage, offset from a whole device pixel): ``_paint_centre`` once, at the device's pixel
    ratio, its centre ``phase`` / SPRITE_PHASES of a device pixel past that pixel."""
    half = math.ceil((12.0 * s + 2.0) * ratio)  # device pixels
    image = QImage(2 * half, 2 * half, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        _paint_centre(painter, QPointF((half + phase_x / SPRITE_PHASES) / ratio,
                                       (half + phase_y / SPRITE_PHASES) / ratio), k, s, empty=empty)
    finally:
        painter.end()
    return image, QPointF(-half / ratio, -half / ratio)


def _paint_centre(painter, p, k, s, empty=False):
    r = 10.0 * s
    painter.setPen(QPen(QColor("black"), 3.0 * s, Qt.PenStyle.DashLine if empty else Qt.PenStyle.SolidLine))
    painter.setBrush(QBrush(cluster_qcolor(k)) if not empty else Qt.BrushStyle.NoBrush)
    painter.drawEllipse(p, r, r)
    painter.setPen(QPen(QColor("white"), 2.2 * s))
    a = r * 0.55
    painter.drawLine(QLineF(p.x() - a, p.y(), p.x() + a, p.y()))
    painter.drawLine(QLineF(p.x(), p.y() - a, p.x(), p.y() + a))


def _paint_true_mixture(painter, to_device, mixture, s):
    pen = QPen(QColor(60, 60, 60, 200), 1.5 * s, Qt.PenStyle.DotLine)
    for k in range(mixture.n_components):
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for n_sigma in (1.0, 2.0):
            painter.drawPolygon(QPolygonF(_map(to_device, ellipse_outline(
                mixture.means[k], mixture.covariances[k], n_sigma))))
        p = to_device.map(QPointF(*map(float, mixture.means[k][:2])))
        painter.setPen(QPen(QColor(40, 40, 40), 1.5 * s))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawRect(QRectF(p.x() - 5 * s, p.y() - 5 * s, 10 * s, 10 * s))
        h = to_device.map(QPointF(*map(float, mixture_axis_handle(mixture, k))))
        painter.drawEllipse(h, 4.5 * s, 4.5 * s)


def mixture_axis_handle(mixture, k):
    """Where the handle that stretches and turns component k sits: the tip of its major 1-sigma axis."""
    vals, vecs = np.linalg.eigh(mixture.covariances[k][:2, :2])
    return mixture.means[k][:2] + np.sqrt(vals[1]) * vecs[:, 1]


def _finite_box(xy):
    """(2, 2): the lowest and highest finite x and y of ``xy`` (M, 2), or an empty (0, 2)."""
    # column by column: numpy reduces a C-ordered (M, 2) array along axis 0 far more slowly,
    # and a million points (finite, as the session keeps them) take 3 ms instead of 200
    lo = np.array([xy[:, 0].min(), xy[:, 1].min()])
    hi = np.array([xy[:, 0].max(), xy[:, 1].max()])
    if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
        return np.stack([lo, hi])
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    return np.stack([xy.min(axis=0), xy.max(axis=0)]) if len(xy) else np.zeros((0, 2))


def fit_rect(points, centres=None, covariances=None, n_sigma=2.0):
    """(x0, x1, y0, y1): what to show, with the fit margin, in data units.

    The points' bounding box, grown to hold the ``centres`` and, when
    ``covariances`` (K, D, D) are given, each centre's ``n_sigma`` ellipse (its
    bounding box: n_sigma times the square root of the diagonal).
    """
    boxes = [_finite_box(np.asarray(a, dtype=float)[:, :2]) for a in (points, centres) if a is not None and len(a)]
    if covariances is not None and centres is not None and len(centres):
        c = np.asarray(centres, dtype=float)[:, :2]
        cov = np.asarray(covariances, dtype=float)
        diag = np.stack([cov[..., 0, 0], cov[..., 1, 1]], axis=-1) if cov.ndim >= 2 else None
        if diag is not None:
            ext = n_sigma * np.sqrt(np.maximum(np.broadcast_to(diag, c.shape), 0.0))
            boxes += [c - ext, c + ext]
    xy = np.vstack(boxes)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if not len(xy):
        xy = np.zeros((1, 2))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * FIT_MARGIN, FIT_MIN_PAD)
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def trails_until(history, index, description, projection=None):
    """Centre positions per cluster at init and after each refit / M-step up to ``index``,
    in the plane ``projection`` shows (None: the first two columns)."""
    if not history:
        return None
    # the responsibility half-step never moves the centres
    snaps = [s for s in history[:index + 1] if s.phase != description.responsibility_phase]
    if not snaps:
        return [np.zeros((0, 2)) for _ in range(history[0].n_clusters)]
    centres = np.array([s.centres for s in snaps], dtype=np.float64)  # (steps, K, D): one array, not K * steps
    steps, K, D = centres.shape
    if projection is None or projection.identity:
        shown = centres[:, :, :2]
    else:
        shown = projection.shown(centres.reshape(steps * K, D)).reshape(steps, K, 2)
    return list(np.ascontiguousarray(shown.transpose(1, 0, 2)))  # per cluster, (steps, 2) each


def projected_parameters(projection, centres, covariances):
    """(centres (K, 2), covariances (K, 2, 2) or None) as drawn: m_k and P Σ_k Pᵀ."""
    if projection is None or projection.identity or np.shape(centres)[-1] != projection.dim:
        return centres, covariances
    return (projection.shown(centres),
            None if covariances is None else projection.covariance(covariances))


def overlay_for(session, frame=None):
    """The Overlay of the session's current half-step."""
    snap = session.current
    display = session.display
    projection = session.projection
    # the sampling mixture lives in the plane: drawn over 2-D data only
    mixture = session.mixture if display.true_mixture and session.dim == 2 else None
    if snap is None:
        centres = projected_parameters(projection, session.centres, None)[0]
        return Overlay(centres=centres if len(session.centres) else None,
                       true_mixture=mixture, marker_scale=display.marker_scale)
    frame = frame or session.frame
    centres, covariances = projected_parameters(projection, snap.centres,
                                                snap.covariances if display.ellipses else None)
    return Overlay(
        centres=centres,
        covariances=covariances,
        weights=snap.weights,
        empty=snap.empty,
        trails=(trails_until(session.history, session.index, session.description, projection)
                if display.trails else None),
        points=session.shown_points() if frame is not None and frame.labels is not None else None,
        labels=frame.labels if frame is not None else None,
        changed=_changed_points(session, frame),
        true_mixture=mixture,
        marker_scale=display.marker_scale,
    )


def _changed_points(session, frame):
    """The points ringed at this half-step: those whose cluster the assignment step changed."""
    if frame is None or getattr(frame, "changed", None) is None or frame.index != session.index:
        return None
    idx = frame.changed
    if len(idx) and idx.max() >= len(session.points):
        return None  # the points changed since this frame was drawn
    return session.shown_points()[idx]
