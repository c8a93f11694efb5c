"""Frames for slides: PNG, SVG, numbered sequences, GIF, MP4 and a captioned strip.

The same drawing code as the window: points through ``splat.render_points``,
centres, ellipses, trails and lines through ``render.paint_overlay``.  Axes are
fixed for the whole run and colours come from the one palette, so frames line
up on consecutive slides.  Runs headless (offscreen Qt) or on the window's
engine worker, with progress and cancel.
"""

import collections
import dataclasses
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPen,
    QPolygonF,
    QTransform,
)
from PySide6.QtSvg import QSvgGenerator

from engine.agreement import true_responsibilities
from engine.captions import format_value, in_sentence, short_caption, state_caption
from engine.data import Dataset
from engine.description import INIT_PHASE
from engine.files import atomic_output, atomic_write_pieces
from engine.png import png_pieces
from engine.projection import default_projection
from engine.settings import DEFAULT_PANELS, FPS, GIF_LOOP, STRIP_COLS, DisplayOptions

from . import overlay_raster
from .palette import (
    PATH_HEX,
    REFIT_STEP_HEX,
    RESPONSIBILITY_STEP_HEX,
    colour_source_colours,
    pack_argb,
    point_colours,
    run_colours,
)
from .render import (
    FIT_MIN_PAD,
    LINES_MAX_POINTS,
    Overlay,
    cluster_qcolor,
    paint_overlay,
    projected_parameters,
    trails_until,
)
from .splat import marker_radius, render_points

SVG_VECTOR_MAX_POINTS = 5_000  # above this an SVG embeds the points as one image
MIN_AREA_PX = 8  # a drawing area smaller than this is refused, never painted
FRAME_MARGIN = 0.03  # fitting the data and centres: this fraction of their extent on each side
RENDER_THREADS = max(2, min(os.cpu_count() or 2, 8))  # painting and encoding frames in parallel
FIELD_WASH = 0.28  # the field's colours, washed towards white as on the canvas (gui/worker.py)
# the cost plot: one marker shape per objective (the primary first), coloured by phase
OBJECTIVE_MARKERS = ("circle", "diamond", "square", "triangle")


class ExportCancelled(Exception):
    pass


@dataclass
class ExportOptions:
    width: int = 1920
    height: int = 1080
    transparent: bool = False
    caption: bool = True
    legend: bool = True
    cost_plot: bool = False
    display: DisplayOptions = dataclasses.field(default_factory=DisplayOptions)
    view: tuple = None  # (x0, x1, y0, y1) "as on screen"; None: fit the data and every centre
    axes: bool = False  # light tick labels along the canvas' edges
    mixture: object = None  # the session's true mixture, drawn when display.true_mixture
    projection: object = None  # engine.projection.Projection: the plane shown (None: the first two columns)
    # View → Colour by other than the fit: (colour_by, truth z, true mixture, n_true), as the
    # session's ``colouring()``; None (or "fit"): the fit's responsibilities
    colouring: tuple = None


def export_projection(run, projection=None):
    """The plane an export shows: ``projection`` when it takes the run's D columns, else the
    first two columns."""
    D = run.data.n_features
    return projection if projection is not None and projection.dim == D else default_projection(D)


def fit_view(run, margin=FRAME_MARGIN, projection=None):
    """(x0, x1, y0, y1): the points and every centre of the run, with a tight margin, in the
    plane ``projection`` shows (None: the first two columns).

    Fixed for the whole run so consecutive frames line up; the centres' trails stay inside.
    """
    projection = export_projection(run, projection)
    X = projection.shown(run.data.X)[:, :2]
    centres = projection.shown(np.vstack([np.asarray(s.centres) for s in run.history]))[:, :2]
    lo = np.minimum(X.min(axis=0), centres.min(axis=0))
    hi = np.maximum(X.max(axis=0), centres.max(axis=0))
    extent = hi - lo
    pad = np.where(extent > 0, extent * margin, FIT_MIN_PAD)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def key_half_steps(run, max_panels=DEFAULT_PANELS):
    """The half-steps worth a panel or a slide, in order: the initialisation, the first
    responsibility step and refit, the steps where the primary objective changes most, and
    the last half-step (convergence); every half-step when there are no more than ``max_panels``."""
    if int(max_panels) < 1:
        raise ValueError(f"panels must be at least 1, got {max_panels}")
    last = len(run.history) - 1
    if last + 1 <= max_panels:
        return list(range(last + 1))
    picks = []
    for i in (0, last, 1, 2):
        if i <= last and i not in picks and len(picks) < max_panels:
            picks.append(i)
    description = run.description
    values = [description.objective(s) for s in run.history]
    changes = []
    for i in range(1, last + 1):
        a, b = values[i - 1], values[i]
        if a is not None and b is not None and np.isfinite(a) and np.isfinite(b):
            changes.append((-abs(b - a), i))
    for _, i in sorted(changes):
        if len(picks) >= max_panels:
            break
        if i not in picks:
            picks.append(i)
    return sorted(picks)


def panel_title(description, snapshot):
    """A panel's or a slide's short title: "Refitting step 3 — J = 560.8"."""
    title = short_caption(description, snapshot)
    value = description.objective(snapshot)
    if value is None:
        return title
    return f"{title} — {description.primary.symbol} = {format_value(value)}"


def nice_ticks(lo, hi, n=4):
    """Round tick values covering [lo, hi] (about ``n`` of them)."""
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return [lo]
    raw = span / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t += step
    return ticks


def parse_size(text):
    """'1920x1080' -> (1920, 1080); ValueError otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except (ValueError, AttributeError):
        raise ValueError(f"size must look like 1920x1080, got {text!r}") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise ValueError(f"size {w}x{h} is out of range (16 to 16384 pixels a side)")
    return w, h


def frame_indices(run, every="half"):
    """Half-steps to export: all of them, or the initialisation and each iteration's end."""
    if every not in ("half", "iteration"):
        raise ValueError(f"frame-every must be half or iteration, got {every!r}")
    last = len(run.history) - 1
    if every == "half":
        return list(range(last + 1))
    picks = [i for i, s in enumerate(run.history) if s.phase in (INIT_PHASE, run.description.refit_phase)]
    return picks if picks[-1] == last else picks + [last]


class FrameRenderer:
    """Draws any half-step of a finished (or running) run at a fixed view."""

    def __init__(self, run, options):
        self.run = run
        self.options = options
        self.projection = export_projection(run, options.projection)
        self._X = self.projection.shown(run.data.X)[:, :2]  # the points as shown
        if options.view is not None:
            self.view = tuple(float(v) for v in options.view)
        else:
            self.view = fit_view(run, projection=self.projection)
        self._colour_cache = (None, None)
        self._field_cache = {}
        self._cost_cache = None  # (key, (image, plot rectangle, n)): see _cost_plot_image
        self.scale_floor = 0.4  # a strip's panels raise it so markers stay readable

    # -- layout ----------------------------------------------------------------
    def _scale(self, h):
        return max(h / 800.0, self.scale_floor)

    def _layout(self, w, h):
        """Rectangles for the caption, the canvas and the cost plot, and a size scale."""
        o = self.options
        scale = self._scale(h)
        top = 0.0
        caption = None
        if o.caption:
            caption = QRectF(0, 0, w, 56 * scale)
            top = caption.height()
        bottom = h
        cost = None
        if o.cost_plot:
            cost = QRectF(0, h - 0.27 * h, w, 0.27 * h)
            bottom = cost.top()
        pad = 12 * scale
        left = bottom_room = 0.0
        if o.axes:  # room for the tick labels left of and under the canvas
            left, bottom_room = 58 * scale, 22 * scale
        area = QRectF(pad + left, top + pad, w - 2 * pad - left, bottom - top - 2 * pad - bottom_room)
        if area.width() < MIN_AREA_PX or area.height() < MIN_AREA_PX:
            raise ValueError(f"a {w}x{h} frame leaves no room to draw the points once the caption "
                             f"and plot are placed; make it larger")
        return caption, area, cost, scale

    def _to_device(self, area):
        """Data -> pixels, aspect kept (equal units on both axes), centred in ``area``."""
        x0, x1, y0, y1 = self.view
        s = min(area.width() / (x1 - x0), area.height() / (y1 - y0))
        cx, cy = area.center().x(), area.center().y()
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        return QTransform(s, 0, 0, -s, cx - s * mx, cy + s * my)

    @staticmethod
    def _visible(to_device, area):
        """(x0, x1, y0, y1): the data rectangle that ``area`` shows."""
        inverse, _ = to_device.inverted()
        a, b = inverse.map(area.topLeft()), inverse.map(area.bottomRight())
        return (min(a.x(), b.x()), max(a.x(), b.x()), min(a.y(), b.y()), max(a.y(), b.y()))

    def data_aspect(self):
        x0, x1, y0, y1 = self.view
        return (x1 - x0) / (y1 - y0)

    # -- content ---------------------------------------------------------------
    def caption(self, index):
        return state_caption(self.run.description, self.run.history[index])

    def title(self, index):
        """Short title for a strip panel or a slide: "Refitting step 3 — J = 560.8"."""
        return panel_title(self.run.description, self.run.history[index])

    def _colours(self, index):
        colouring = self.options.colouring
        if colouring is not None and colouring[0] != "fit":
            if self._colour_cache[0] != "colouring":  # the same for every half-step
                colour_by, truth, mixture, n_true = colouring
                resp = None
                if colour_by == "true_responsibilities" and mixture is not None:
                    resp = true_responsibilities(mixture, self.run.data)
                colours = colour_source_colours(colour_by, self.run.data.n_samples, truth, resp, n_true)
                self._colour_cache = ("colouring", colours)
            if self._colour_cache[1] is not None:  # None: z unknown, coloured by the fit
                return self._colour_cache[1]
        source = self.run.responsibility_source(index)
        if self._colour_cache[0] == source and source is not None:
            return self._colour_cache[1]  # a refit shows the step before it
        colours, _ = run_colours(self.run, source)
        self._colour_cache = (source, colours)
        return colours

    def _labels(self, index):
        """Labels for the lines to the centres, when they are drawn (numba: on the preparing thread)."""
        display = self.options.display
        if (display.lines and self.run.responsibility_source(index) is not None
                and self.run.data.n_samples <= LINES_MAX_POINTS):
            return self.run.labels(index)
        return None

    def _overlay(self, index, scale, labels):
        display = self.options.display
        snap = self.run.history[index]
        mixture = self.options.mixture if display.true_mixture else None
        centres, covariances = projected_parameters(
            self.projection, np.asarray(snap.centres),
            np.asarray(snap.covariances) if display.ellipses and snap.covariances is not None else None)
        return Overlay(
            centres=np.asarray(centres)[:, :2],
            covariances=None if covariances is None else np.asarray(covariances)[:, :2, :2],
            weights=snap.weights, empty=snap.empty,
            trails=(trails_until(self.run.history, index, self.run.description, self.projection)
                    if display.trails else None),
            points=self._X if labels is not None else None, labels=labels,
            # the sampling mixture lives in the plane of 2-D data
            true_mixture=mixture if mixture is not None and self.projection.identity else None,
            marker_scale=scale * display.marker_scale)

    def _field_image(self, to_device, area, index):
        """The soft algorithms' field for ``index``: a QImage at half the frame's resolution (numba:
        on the preparing thread), or None (none drawn, or the exact cells of a hard algorithm)."""
        source = self.run.responsibility_source(index)
        if source is None or self.run.algorithm.hard:
            return None
        snap = self.run.history[source]
        visible = self._visible(to_device, area)
        # half the frame's resolution, smoothly scaled: a wash, not a pixel-exact map
        gw, gh = max(int(area.width() / 2), 2), max(int(area.height() / 2), 2)
        key = (source, gw, gh, visible)
        if key not in self._field_cache:
            x0, x1, y0, y1 = visible
            xs = np.linspace(x0, x1, gw)
            ys = np.linspace(y1, y0, gh)  # row 0 at the top
            grid = np.c_[np.repeat(xs[None], gh, 0).ravel(), np.repeat(ys[:, None], gw, 1).ravel()]
            if not self.projection.identity:  # the plane shown, through the data's mean
                grid = self.projection.lift(grid, self.run.data.X.mean(axis=0))
            alg = self.run.algorithm
            K = snap.n_clusters
            colours = point_colours(K, responsibilities=alg.responsibilities(Dataset(grid), snap, np.float32))
            rgb = np.stack([(colours >> s) & 255 for s in (16, 8, 0)], axis=-1).astype(np.float32)
            rgb = 255 - (255 - rgb) * FIELD_WASH
            pixels = np.ascontiguousarray(pack_argb(rgb.astype(np.uint32)).astype(np.uint32).reshape(gh, gw))
            image = QImage(pixels.data, gw, gh, 4 * gw, QImage.Format.Format_ARGB32).copy()
            if len(self._field_cache) > 4:
                self._field_cache.clear()
            self._field_cache[key] = image
        return self._field_cache[key]

    def _paint_field(self, painter, to_device, area, index, image):
        """The canvas' field: nearest-centre regions (hard algorithms, exact cells) or the
        responsibility colours over a grid (soft, ``image``), washed towards white, under the
        points. As on the canvas, the parameters are those that coloured the points (none at init)."""
        source = self.run.responsibility_source(index)
        if source is None:
            return
        if self.run.algorithm.hard:
            if not self.projection.identity:
                return  # k-means' cells are not regions of a plane cut through D > 2 columns
            from .regions import paint_regions
            painter.save()
            paint_regions(painter, to_device, np.asarray(self.run.history[source].centres)[:, :2],
                          self._visible(to_device, area))
            painter.restore()
            return
        if image is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(area, image)
        painter.restore()

    def _frame_geometry(self, w, h):
        o = self.options
        caption, area, cost, scale = self._layout(w, h)
        # inset by a centre marker's radius, so no point or centre at the data's edge is cut
        inset = 12 * scale * o.display.marker_scale
        to_device = self._to_device(area.adjusted(inset, inset, -inset, -inset)
                                    if min(area.width(), area.height()) > 6 * inset else area)
        return caption, area, cost, scale, to_device

    def prepare(self, index, w, h, vector=False):
        """Everything numba computes for half-step ``index`` at w x h (the points' pixels, the
        field, the labels), on the calling thread; ``paint`` then only paints, and may run on
        another thread (numba's parallel kernels must not run from two threads at once)."""
        o = self.options
        _, area, cost, scale, to_device = self._frame_geometry(w, h)
        prepared = {"labels": self._labels(index), "field": None, "points": None, "cost": None}
        if cost is not None and not vector:
            prepared["cost"] = self._cost_plot_image(cost, scale)
        if o.display.field:
            prepared["field"] = self._field_image(to_device, area, index)
        X = self._X
        colours = self._colours(index)
        radius = marker_radius(len(X), scale * o.display.marker_scale)
        if vector and len(X) <= SVG_VECTOR_MAX_POINTS:
            prepared["vectors"] = (X, colours, radius)
        else:
            iw, ih = int(math.ceil(area.width())), int(math.ceil(area.height()))
            local = to_device * QTransform.fromTranslate(-area.left(), -area.top())
            affine = ((local.m11(), local.m21(), local.m31()), (local.m12(), local.m22(), local.m32()))
            prepared["points"] = render_points(X, colours, affine, iw, ih, radius)
        return prepared

    def paint(self, painter, index, w, h, vector=False, prepared=None):
        """Paint half-step ``index`` into a w x h device with ``painter`` (``prepare`` first, here
        when ``prepared`` is None)."""
        o = self.options
        if prepared is None:
            prepared = self.prepare(index, w, h, vector)
        caption, area, cost, scale, to_device = self._frame_geometry(w, h)
        if not o.transparent:
            painter.fillRect(QRectF(0, 0, w, h), QColor("white"))
        painter.save()
        painter.setClipRect(area)
        if o.display.field:
            self._paint_field(painter, to_device, area, index, prepared["field"])
        if "vectors" in prepared:
            self._paint_point_vectors(painter, to_device, *prepared["vectors"])
        else:
            pixels = prepared["points"]
            ih, iw = pixels.shape
            image = QImage(pixels.data, iw, ih, 4 * iw, QImage.Format.Format_ARGB32_Premultiplied)
            painter.drawImage(QPointF(area.left(), area.top()), image)
        paint_overlay(painter, to_device, self._overlay(index, scale, prepared["labels"]))
        painter.restore()
        painter.setPen(QPen(QColor(170, 170, 170), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(area)
        if o.axes:
            self._paint_axes(painter, to_device, area, scale)
        if caption is not None:
            self._paint_caption(painter, caption, self.caption(index), scale)
        if o.legend:
            self._paint_legend(painter, area, to_device, scale, w)
        if cost is not None:
            self._paint_cost(painter, cost, [index], scale, prepared.get("cost"))

    @staticmethod
    def _paint_point_vectors(painter, to_device, X, colours, radius):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for (x, y), c in zip(X, colours):
            colour = QColor.fromRgba(int(c))
            painter.setBrush(colour)
            painter.setPen(QPen(colour.darker(180), max(radius * 0.2, 0.6)))
            painter.drawEllipse(to_device.map(QPointF(float(x), float(y))), radius, radius)

    def _paint_axes(self, painter, to_device, area, scale):
        """Light tick labels along the canvas' left and bottom edges, at round data values."""
        x0, x1, y0, y1 = self._visible(to_device, area)
        font = QFont()
        font.setPixelSize(max(int(13 * scale), 8))
        painter.setFont(font)
        tick = 5 * scale
        for x in nice_ticks(x0, x1, max(int(area.width() / (110 * scale)), 2)):
            px = to_device.map(QPointF(x, 0.0)).x()
            painter.setPen(QPen(QColor(190, 190, 190), 1.0))
            painter.drawLine(QPointF(px, area.bottom()), QPointF(px, area.bottom() + tick))
            painter.setPen(QColor(130, 130, 130))
            painter.drawText(QRectF(px - 50 * scale, area.bottom() + tick, 100 * scale, 18 * scale),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, format_value(x))
        for y in nice_ticks(y0, y1, max(int(area.height() / (80 * scale)), 2)):
            py = to_device.map(QPointF(0.0, y)).y()
            painter.setPen(QPen(QColor(190, 190, 190), 1.0))
            painter.drawLine(QPointF(area.left() - tick, py), QPointF(area.left(), py))
            painter.setPen(QColor(130, 130, 130))
            painter.drawText(QRectF(area.left() - 58 * scale, py - 9 * scale, 58 * scale - tick - 2 * scale,
                                    18 * scale),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, format_value(y))

    @staticmethod
    def _paint_caption(painter, rect, text, scale):
        font = QFont()
        font.setPixelSize(max(int(30 * scale), 9))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(25, 25, 25))
        painter.drawText(rect.adjusted(16 * scale, 0, -16 * scale, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)

    def legend_entries(self):
        K = self.run.current.n_clusters
        word = self.run.description.cluster_word
        return [f"{word} {k + 1}" for k in range(K)]

    def _paint_legend(self, painter, area, to_device, scale, w):
        """One row per cluster: beside the data where the frame has room, else over its corner."""
        labels = self.legend_entries()
        font = QFont()
        font.setPixelSize(max(int(16 * scale), 8))
        painter.setFont(font)
        row = 24 * scale
        width = max(QFontMetricsF(font).horizontalAdvance(t) for t in labels) + 42 * scale
        height = row * len(labels) + 10 * scale
        _, x1, _, y1 = self.view
        data_right = min(to_device.map(QPointF(x1, y1)).x(), area.right())
        data_top = max(to_device.map(QPointF(x1, y1)).y(), area.top())
        if area.right() - data_right >= width + 20 * scale:  # spare room right of the data
            box = QRectF(data_right + 14 * scale, data_top + 4 * scale, width, height)
        else:
            box = QRectF(area.right() - width - 10 * scale, area.top() + 10 * scale, width, height)
        painter.setPen(QPen(QColor(180, 180, 180), 1.0))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawRoundedRect(box, 4 * scale, 4 * scale)
        for k, label in enumerate(labels):
            y = box.top() + 5 * scale + row * (k + 0.5)
            painter.setPen(QPen(QColor("black"), 1.5 * scale))
            painter.setBrush(cluster_qcolor(k))
            painter.drawEllipse(QPointF(box.left() + 16 * scale, y), 7 * scale, 7 * scale)
            painter.setPen(QColor(30, 30, 30))
            painter.drawText(QRectF(box.left() + 30 * scale, y - row / 2, width - 32 * scale, row),
                             Qt.AlignmentFlag.AlignVCenter, label)

    @staticmethod
    def _marker(painter, shape, p, r):
        if shape == "circle":
            painter.drawEllipse(p, r, r)
        elif shape == "square":
            painter.drawRect(QRectF(p.x() - r * 0.85, p.y() - r * 0.85, 1.7 * r, 1.7 * r))
        elif shape == "diamond":
            r = r * 1.25
            painter.drawPolygon(QPolygonF([QPointF(p.x(), p.y() - r), QPointF(p.x() + r, p.y()),
                                           QPointF(p.x(), p.y() + r), QPointF(p.x() - r, p.y())]))
        else:
            r = r * 1.2
            painter.drawPolygon(QPolygonF([QPointF(p.x(), p.y() - r), QPointF(p.x() + r, p.y() + r * 0.8),
                                           QPointF(p.x() - r, p.y() + r * 0.8)]))

    def _paint_cost(self, painter, rect, marks, scale, plot_image=None):
        """Every objective over the whole run (dots coloured by phase, a shape per objective),
        the half-steps in ``marks`` marked by a vertical line.  ``plot_image``: the plot without
        the marks, as ``_cost_plot_image`` drew it (the same for every frame of a run)."""
        if plot_image is not None:
            image, plot, n = plot_image
            painter.drawImage(rect.topLeft(), image)
        else:
            drawn = self._paint_cost_plot(painter, rect, scale)
            if drawn is None:
                return
            plot, n = drawn
        if plot is None:
            return
        painter.setPen(QPen(QColor(20, 20, 20, 150 if len(marks) > 1 else 255),
                            (1.2 if len(marks) > 1 else 2.0) * scale))
        for index in marks:
            x = plot.left() + plot.width() * index / n
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))

    def _cost_plot_image(self, rect, scale):
        """(QImage of ``rect``'s size, plot rectangle in frame coordinates, n): the cost plot drawn
        once for a raster export, whose every frame shows the same plot."""
        key = (rect.getRect(), scale, len(self.run.history), self.options.transparent)
        if self._cost_cache is None or self._cost_cache[0] != key:
            image = QImage(math.ceil(rect.width()), math.ceil(rect.height()),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            try:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
                painter.translate(-rect.left(), -rect.top())
                drawn = self._paint_cost_plot(painter, rect, scale)
            finally:
                painter.end()
            plot, n = drawn if drawn is not None else (None, 1)
            self._cost_cache = (key, (image, plot, n))
        return self._cost_cache[1]

    def _paint_cost_plot(self, painter, rect, scale):
        """The cost plot without the marks; (plot rectangle, last half-step), or None when too small."""
        hist = self.run.history
        description = self.run.description
        objectives = description.objectives
        refit_phase = description.refit_phase
        series = [np.array([np.nan if getattr(s, o.field) is None else float(getattr(s, o.field))
                            for s in hist]) for o in objectives]
        font = QFont()
        font.setPixelSize(max(int(14 * scale), 8))
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        finite = np.concatenate([v[np.isfinite(v)] for v in series])
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
        if hi == lo:
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        ticks = [t for t in nice_ticks(lo, hi, 3) if lo <= t <= hi] or [lo, hi]
        tick_text = [format_value(t) for t in ticks]
        # the y label (rotated) and the widest tick label sit left of the axis: never clipped
        label_h = metrics.height() + 6 * scale
        label_w = max(metrics.horizontalAdvance(t) for t in tick_text) + 10 * scale
        legend_h = metrics.height() + 6 * scale
        plot = rect.adjusted(label_h + label_w + 8 * scale, 14 * scale + legend_h, -24 * scale,
                             -(metrics.height() * 2 + 12 * scale))
        if plot.width() < 10 or plot.height() < 10:
            return None
        painter.setPen(QPen(QColor(120, 120, 120), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        n = max(len(hist) - 1, 1)
        span = hi - lo

        def at(i, v):
            return QPointF(plot.left() + plot.width() * i / n, plot.bottom() - plot.height() * (v - lo) / span)

        painter.setPen(QColor(60, 60, 60))
        for t, text in zip(ticks, tick_text):
            y = at(0, t).y()
            painter.setPen(QPen(QColor(225, 225, 225), 1.0))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor(60, 60, 60))
            painter.drawText(QRectF(plot.left() - label_w - 4 * scale, y - metrics.height() / 2,
                                    label_w, metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        for i in nice_ticks(0, n, min(6, n)):
            if float(i).is_integer():
                x = at(i, lo).x()
                painter.drawText(QRectF(x - 30 * scale, plot.bottom() + 3 * scale, 60 * scale, metrics.height()),
                                 Qt.AlignmentFlag.AlignHCenter, str(int(i)))
        painter.drawText(QRectF(plot.left(), plot.bottom() + metrics.height() + 6 * scale, plot.width(),
                                metrics.height() + 2 * scale), Qt.AlignmentFlag.AlignHCenter, "half-step")
        painter.save()  # the y label: the primary objective's name, rotated, left of the ticks
        painter.translate(rect.left() + 4 * scale, plot.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-plot.height() / 2 - 40 * scale, 0, plot.height() + 80 * scale, label_h),
                         Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, description.primary.name)
        painter.restore()
        # the legend, above the plot: a shape per objective, a colour per phase
        x = plot.left()
        ly = rect.top() + 8 * scale + legend_h / 2
        r = 4.5 * scale
        entries = [(OBJECTIVE_MARKERS[j % len(OBJECTIVE_MARKERS)], QColor(90, 90, 90), o.name)
                   for j, o in enumerate(objectives)] if len(objectives) > 1 else []
        entries += [("circle", QColor(RESPONSIBILITY_STEP_HEX), f"after {in_sentence(description.responsibility_title)}"),
                    ("circle", QColor(REFIT_STEP_HEX), f"after {in_sentence(description.refit_title)}")]
        for shape, colour, text in entries:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            self._marker(painter, shape, QPointF(x + r, ly), r)
            painter.setPen(QColor(60, 60, 60))
            tw = metrics.horizontalAdvance(text)
            painter.drawText(QRectF(x + 2 * r + 5 * scale, ly - legend_h / 2, tw + 4, legend_h),
                             Qt.AlignmentFlag.AlignVCenter, text)
            x += 2 * r + 5 * scale + tw + 22 * scale
        for j, values in enumerate(series):
            pts = [at(i, v) for i, v in enumerate(values) if np.isfinite(v)]
            pen = QPen(QColor(PATH_HEX), (1.5 if j == 0 else 1.0) * scale)
            if j:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            for a, b in itertools.pairwise(pts):
                painter.drawLine(a, b)
        for j, values in enumerate(series):
            shape = OBJECTIVE_MARKERS[j % len(OBJECTIVE_MARKERS)]
            for i, v in enumerate(values):
                if not np.isfinite(v):
                    continue
                colour = QColor(REFIT_STEP_HEX if hist[i].phase == refit_phase else RESPONSIBILITY_STEP_HEX)
                painter.setPen(QPen(QColor("white"), 0.8 * scale) if j else Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                self._marker(painter, shape, at(i, v), r if j == 0 else r * 0.85)
        return plot, n

    # -- outputs ---------------------------------------------------------------
    def image(self, index, w=None, h=None, prepared=None):
        """Half-step ``index`` as a QImage: opaque RGB32 on white (quicker to encode), or
        premultiplied ARGB32 when the background is transparent."""
        w = w or self.options.width
        h = h or self.options.height
        if self.options.transparent:
            img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(Qt.GlobalColor.transparent)
        else:
            img = QImage(w, h, QImage.Format.Format_RGB32)
            img.fill(Qt.GlobalColor.white)
        painter = QPainter(img)
        try:  # a QPainter left active on a destroyed image crashes Qt
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            self.paint(painter, index, w, h, prepared=prepared)
        finally:
            painter.end()
        return img

    def save_png(self, index, path, prepared=None):
        _check_writable(Path(path).parent)
        write_qimage_png(self.image(index, prepared=prepared), path)

    def save_svg(self, index, path):
        _check_writable(Path(path).parent)
        w, h = self.options.width, self.options.height
        with atomic_output(path) as tmp:
            self._write_svg(index, tmp, w, h)

    def _write_svg(self, index, path, w, h):
        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(QSize(w, h))
        gen.setViewBox(QRectF(0, 0, w, h))
        gen.setTitle("ClusterLab frame")
        gen.setDescription(self.caption(index))
        painter = QPainter(gen)
        try:
            self.paint(painter, index, w, h, vector=True)
        finally:
            painter.end()


def _check_writable(folder):
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder {folder}: {exc.strerror}") from None
    probe = folder / ".clusterlab-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write to {folder}: {exc.strerror}") from None


def _progress(callback, done, total, cancel):
    if cancel is not None and cancel.is_set():
        raise ExportCancelled()
    if callback is not None:
        callback(done, total)


def _rgb_or_rgba(image):
    """(the image converted to 8-bit RGB, or straight-alpha RGBA when some pixel is not opaque,
    its pixels as an (H, W, 3 or 4) view of the converted image's memory).  The view holds no
    reference to that image: it is valid only while the caller holds the first element."""
    rgba = image.hasAlphaChannel()
    if rgba and image.format() in (QImage.Format.Format_ARGB32, QImage.Format.Format_ARGB32_Premultiplied):
        # alpha is byte 3 of each little-endian 32-bit pixel: every one 255 means an opaque frame
        argb = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
        rgba = argb.reshape(image.height(), -1)[:, 3:4 * image.width():4].min(initial=255) < 255
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888 if rgba else QImage.Format.Format_RGB888)
    w, h, channels = converted.width(), converted.height(), 4 if rgba else 3
    rows = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes()).reshape(h, -1)
    return converted, rows[:, :channels * w].reshape(h, w, channels)


def qimage_pixels(image):
    """A QImage's pixels, a copy: (H, W, 3) uint8 RGB, or (H, W, 4) straight-alpha RGBA when some
    pixel is not opaque (a transparent export)."""
    converted, pixels = _rgb_or_rgba(image)  # the view lives in ``converted``: copied while it is held
    return pixels.copy()


def qimage_png_pieces(image, photo=False):
    """A QImage as PNG file pieces (``engine.png``), its pixel density kept as Qt's PNGs had it.
    Encoded straight from the converted image (kept alive here): no further full-size copy."""
    converted, pixels = _rgb_or_rgba(image)
    yield from png_pieces(pixels, (image.dotsPerMeterX(), image.dotsPerMeterY()), photo)
    del converted


def write_qimage_png(image, path, photo=False):
    """``image`` (a QImage) to ``path`` as PNG, atomically: fast, and in parallel (zlib lets go
    of the GIL).  ``photo``: rows filtered for a photograph (``engine.png``)."""
    atomic_write_pieces(path, qimage_png_pieces(image, photo))


def render_in_parallel(renderer, indices, finish, progress=None, cancel=None):
    """Yield finish(i, image of indices[i]) in order: this thread prepares each half-step (numba's
    kernels never run from two threads), a pool of threads paints and finishes (encodes) them."""
    w, h = renderer.options.width, renderer.options.height
    in_flight = collections.deque()
    if not overlay_raster.READY:
        overlay_raster.warm_up()  # here, off the UI thread: the painting threads' outlines

    def paint_and_finish(i, index, prepared):
        return finish(i, renderer.image(index, w, h, prepared=prepared))

    with ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="clusterlab-export") as pool:
        try:
            for i, index in enumerate(indices):
                _progress(progress, i, len(indices), cancel)
                in_flight.append(pool.submit(paint_and_finish, i, index, renderer.prepare(index, w, h)))
                while len(in_flight) > 2 * RENDER_THREADS:  # bounded: frames in memory stay few
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for job in in_flight:
                job.cancel()
    _progress(progress, len(indices), len(indices), cancel)


def export_frames(renderer, folder, indices, fmt="png", progress=None, cancel=None):
    """One numbered file per half-step in ``indices``: frame_0000.png, ..."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, got {fmt!r}")
    folder = Path(folder)
    _check_writable(folder)
    paths = [folder / f"frame_{i:04d}.{fmt}" for i in range(len(indices))]
    if fmt == "svg":
        for i, index in enumerate(indices):
            _progress(progress, i, len(indices), cancel)
            renderer.save_svg(index, paths[i])
        _progress(progress, len(indices), len(indices), cancel)
        return paths
    for _ in render_in_parallel(renderer, indices, lambda i, image: write_qimage_png(image, paths[i]), progress,
                                cancel):
        pass
    return paths


def _opaque_rgb(pixels):
    """(H, W, 3) uint8 RGB of RGB or straight-alpha RGBA pixels, composited on white: a GIF or an
    MP4 has no partial transparency (a transparent export's clear pixels came out black)."""
    if pixels.shape[2] == 3:
        return np.ascontiguousarray(pixels)
    alpha = pixels[:, :, 3:].astype(np.uint16)
    return ((pixels[:, :, :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def _gif_pixels(image):
    """A frame as a Pillow RGB image."""
    return PILImage.fromarray(_opaque_rgb(qimage_pixels(image)))


def _gif_palette(renderer, indices):
    """One palette for the whole GIF, from its first and last frames side by side: every frame
    then maps onto it (fast, in parallel) and the colours never flicker from frame to frame.
    Every other pixel of every other row is enough to find the colours, in a quarter of the time
    (median cut over two 1080p frames took 0.65 s)."""
    ends = [_opaque_rgb(qimage_pixels(renderer.image(index)))[::2, ::2] for index in (indices[0], indices[-1])]
    both = PILImage.fromarray(np.ascontiguousarray(np.concatenate(ends)))
    return both.quantize(colors=255, method=PILImage.Quantize.MEDIANCUT)


def export_gif(renderer, path, indices, fps=4.0, loop=0, progress=None, cancel=None):
    """An animated GIF, one frame per index, ``fps`` frames a second, ``loop`` 0 = forever."""
    fps, loop = FPS.check(fps, "fps"), GIF_LOOP.check(loop, "loop")
    _check_writable(Path(path).parent)
    w, h = renderer.options.width, renderer.options.height
    if w * h > PILImage.MAX_IMAGE_PIXELS:
        raise ValueError(f"a {w}x{h} GIF is larger than an image reader accepts "
                         f"({PILImage.MAX_IMAGE_PIXELS:,} pixels); choose a smaller --size")
    if not len(indices):
        raise ValueError("a GIF needs at least one half-step")
    palette = _gif_palette(renderer, indices)

    def quantised(i, image):
        # mapped as we go: 100 RGBA frames at 1080p would hold 800 MB
        return _gif_pixels(image).quantize(palette=palette, dither=PILImage.Dither.NONE)

    frames = list(render_in_parallel(renderer, indices, quantised, progress, cancel))
    with atomic_output(path) as tmp:
        frames[0].save(str(tmp), format="GIF", save_all=True, append_images=frames[1:],
                       duration=round(1000 / fps), loop=loop, disposal=1, optimize=False)
    return Path(path)


def export_mp4(renderer, path, indices, fps=4.0, progress=None, cancel=None):
    """An H.264 MP4; needs the optional video dependency (imageio + imageio-ffmpeg)."""
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise ValueError("MP4 export needs the optional video dependency: "
                         "pip install -e \".[video]\" (imageio and imageio-ffmpeg)") from None
    _check_writable(Path(path).parent)
    w, h = renderer.options.width, renderer.options.height
    if w % 2 or h % 2:
        raise ValueError(f"MP4 needs an even width and height, got {w}x{h}")
    fps = FPS.check(fps, "fps")
    with atomic_output(path) as tmp:
        writer = imageio.get_writer(str(tmp), fps=fps, codec="libx264", macro_block_size=2,
                                    pixelformat="yuv420p")
        try:
            for frame in render_in_parallel(renderer, indices,
                                            lambda i, image: _opaque_rgb(qimage_pixels(image)),
                                            progress, cancel):
                writer.append_data(frame)
        finally:
            writer.close()
    return Path(path)


def strip_grid(n, width, height, aspect, cols=None):
    """(cols, rows) for ``n`` panels in a width x height grid: the most data area per panel
    (data of width/height ``aspect``), or ``cols`` across when given (at most ``n``)."""
    if cols:
        cols = min(int(cols), n)
        return cols, math.ceil(n / cols)
    best = None
    for c in range(1, n + 1):
        r = math.ceil(n / c)
        pw, ph = width / c, height / r * 0.86  # a panel's title takes its top 14 %
        side = min(pw / aspect, ph)  # the data's height in the panel
        score = side * side * aspect
        if best is None or score > best[0] * 1.0001:
            best = (score, c, r)
    return best[1], best[2]


def export_strip(renderer, path, indices, cols=None, progress=None, cancel=None):
    """One image of the options' size (16:9 by default): a grid of panels, each titled with
    its half-step and objective, one legend for the whole strip, and the cost plot (when asked
    for) once along the bottom with every panel's half-step marked. ``cols`` None: as many
    columns as give the panels the most room."""
    if cols is not None:
        cols = STRIP_COLS.check(cols, "cols")
    if not len(indices):
        raise ValueError("a strip needs at least one half-step")
    _check_writable(Path(path).parent)
    o = renderer.options
    W, H = o.width, o.height
    unit = max(H / 1080.0, 0.35)
    legend_h = max(int(round(52 * unit)), 14) if o.legend else 0
    cost_h = int(round(0.24 * H)) if o.cost_plot else 0
    grid_h = H - legend_h - cost_h
    cols, rows = strip_grid(len(indices), W, grid_h, renderer.data_aspect(), cols)
    pw, ph = W // cols, grid_h // rows
    title_h = max(int(round(ph * 0.12)), int(round(38 * unit)), 12)  # readable from the back row
    if pw < 16 or ph - title_h < 16:
        raise ValueError(f"a {W}x{H} strip of {len(indices)} panels in {cols} columns leaves no room "
                         f"to draw; make it larger or use fewer --panels")
    strip = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    strip.fill(Qt.GlobalColor.transparent if o.transparent else Qt.GlobalColor.white)
    painter = QPainter(strip)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    saved = o.caption, o.legend, o.cost_plot, renderer.scale_floor
    o.caption, o.legend, o.cost_plot = False, False, False
    # markers as big as on a 1080p frame's 0.8: a panel is small, the room it is shown in is not
    renderer.scale_floor = max(0.8 * unit, 0.4)
    try:
        for i, index in enumerate(indices):
            _progress(progress, i, len(indices), cancel)
            r, c = divmod(i, cols)
            panel = renderer.image(index, pw, ph - title_h)
            painter.drawImage(c * pw, r * ph + title_h, panel)
            fit_text(painter, QRectF(c * pw + 8 * unit, r * ph, pw - 16 * unit, title_h),
                      renderer.title(index), min(title_h * 0.55, 26 * unit), bold=True)
        o.caption, o.legend, o.cost_plot, renderer.scale_floor = saved
        if cost_h:
            renderer._paint_cost(painter, QRectF(0, grid_h, W, cost_h), indices, max(cost_h / 290.0, 0.4))
        if legend_h:
            _paint_strip_legend(painter, renderer, QRectF(0, H - legend_h, W, legend_h), unit)
    finally:
        o.caption, o.legend, o.cost_plot, renderer.scale_floor = saved
        painter.end()
    write_qimage_png(strip, path)
    _progress(progress, len(indices), len(indices), cancel)
    return Path(path), (rows, cols)


def fit_text(painter, rect, text, pixel_size, bold=False, colour=None, align=Qt.AlignmentFlag.AlignLeft):
    """``text`` in one line in ``rect``: the font shrinks to fit (down to 8 px), then elides."""
    font = QFont()
    font.setBold(bold)
    size = max(int(pixel_size), 8)
    font.setPixelSize(size)
    while size > 8 and QFontMetricsF(font).horizontalAdvance(text) > rect.width():
        size -= 1
        font.setPixelSize(size)
    painter.setFont(font)
    painter.setPen(colour or QColor(25, 25, 25))
    text = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | align, text)


def _paint_strip_legend(painter, renderer, rect, unit):
    """One legend for the whole strip: the clusters' colours, the centre marker, the trails."""
    labels = renderer.legend_entries()
    font = QFont()
    font.setPixelSize(max(int(20 * unit), 9))
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    r = 8 * unit
    entries = [(cluster_qcolor(k), text) for k, text in enumerate(labels)]
    total = sum(2 * r + 8 * unit + metrics.horizontalAdvance(t) + 26 * unit for _, t in entries)
    x = rect.left() + max((rect.width() - total) / 2, 10 * unit)
    y = rect.center().y()
    painter.setPen(QPen(QColor(200, 200, 200), 1.0))
    painter.drawLine(QPointF(rect.left() + 10 * unit, rect.top()), QPointF(rect.right() - 10 * unit, rect.top()))
    for colour, text in entries:
        painter.setPen(QPen(QColor("black"), 1.5 * unit))
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(x + r, y), r, r)
        painter.setPen(QColor(30, 30, 30))
        tw = metrics.horizontalAdvance(text)
        painter.drawText(QRectF(x + 2 * r + 8 * unit, rect.top(), tw + 4, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter, text)
        x += 2 * r + 8 * unit + tw + 26 * unit
