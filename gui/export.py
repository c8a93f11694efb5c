"""Frames for slides: PNG, SVG, numbered sequences, GIF, MP4 and a captioned strip.

The same drawing code as the window: points through ``splat.render_points``,
centres, ellipses, trails and lines through ``render.paint_overlay``.  Axes are
fixed for the whole run and colours come from the one palette, so frames line
up on consecutive slides.  Runs headless (offscreen Qt) or on the window's
engine worker, with progress and cancel.
"""

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QTransform
from PySide6.QtSvg import QSvgGenerator

from engine.captions import short_caption, state_caption
from engine.description import INIT_PHASE
from engine.files import atomic_output
from engine.settings import FPS, GIF_LOOP, STRIP_COLS, DisplayOptions

from .palette import REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX, run_colours
from .render import LINES_MAX_POINTS, Overlay, cluster_qcolor, fit_rect, paint_overlay, trails_until
from .splat import marker_radius, render_points

SVG_VECTOR_MAX_POINTS = 5_000  # above this an SVG embeds the points as one image
MIN_AREA_PX = 8  # a drawing area smaller than this is refused, never painted


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
    view: tuple = None  # (x0, x1, y0, y1); None: the data's bounds, padded


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
        if options.view is not None:
            self.view = tuple(float(v) for v in options.view)
        else:
            self.view = fit_rect(run.data.X)
        self._colour_cache = (None, None)

    # -- layout ----------------------------------------------------------------
    def _layout(self, w, h):
        """Rectangles for the caption, the canvas and the cost plot, and a size scale."""
        o = self.options
        scale = max(h / 800.0, 0.4)
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
        area = QRectF(pad, top + pad, w - 2 * pad, bottom - top - 2 * pad)
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

    # -- content ---------------------------------------------------------------
    def caption(self, index):
        return state_caption(self.run.description, self.run.history[index])

    def _colours(self, index):
        source = self.run.responsibility_source(index)
        if self._colour_cache[0] == source and source is not None:
            return self._colour_cache[1]  # a refit shows the step before it
        colours, _ = run_colours(self.run, source)
        self._colour_cache = (source, colours)
        return colours

    def _overlay(self, index, scale):
        display = self.options.display
        snap = self.run.history[index]
        labels = None
        if (display.lines and self.run.responsibility_source(index) is not None
                and self.run.data.n_samples <= LINES_MAX_POINTS):
            labels = self.run.labels(index)
        return Overlay(
            centres=np.asarray(snap.centres)[:, :2],
            covariances=(np.asarray(snap.covariances)[:, :2, :2]
                         if display.ellipses and snap.covariances is not None else None),
            weights=snap.weights, empty=snap.empty,
            trails=trails_until(self.run.history, index, self.run.description) if display.trails else None,
            points=self.run.data.X[:, :2] if labels is not None else None, labels=labels,
            marker_scale=scale * display.marker_scale)

    def paint(self, painter, index, w, h, vector=False):
        """Paint half-step ``index`` into a w x h device with ``painter``."""
        o = self.options
        caption, area, cost, scale = self._layout(w, h)
        if not o.transparent:
            painter.fillRect(QRectF(0, 0, w, h), QColor("white"))
        to_device = self._to_device(area)
        painter.save()
        painter.setClipRect(area)
        X = self.run.data.X[:, :2]
        colours = self._colours(index)
        radius = marker_radius(len(X), scale * o.display.marker_scale)
        if vector and len(X) <= SVG_VECTOR_MAX_POINTS:
            self._paint_point_vectors(painter, to_device, X, colours, radius)
        else:
            iw, ih = int(math.ceil(area.width())), int(math.ceil(area.height()))
            local = to_device * QTransform.fromTranslate(-area.left(), -area.top())
            affine = ((local.m11(), local.m21(), local.m31()), (local.m12(), local.m22(), local.m32()))
            pixels = render_points(X, colours, affine, iw, ih, radius)
            image = QImage(pixels.data, iw, ih, 4 * iw, QImage.Format.Format_ARGB32_Premultiplied)
            painter.drawImage(QPointF(area.left(), area.top()), image)
        paint_overlay(painter, to_device, self._overlay(index, scale))
        painter.restore()
        painter.setPen(QPen(QColor(170, 170, 170), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(area)
        if caption is not None:
            self._paint_caption(painter, caption, self.caption(index), scale)
        if o.legend:
            self._paint_legend(painter, area, scale)
        if cost is not None:
            self._paint_cost(painter, cost, index, scale)

    @staticmethod
    def _paint_point_vectors(painter, to_device, X, colours, radius):
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for (x, y), c in zip(X, colours):
            colour = QColor.fromRgba(int(c))
            painter.setBrush(colour)
            painter.setPen(QPen(colour.darker(180), max(radius * 0.2, 0.6)))
            painter.drawEllipse(to_device.map(QPointF(float(x), float(y))), radius, radius)

    @staticmethod
    def _paint_caption(painter, rect, text, scale):
        font = QFont()
        font.setPixelSize(max(int(30 * scale), 9))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(25, 25, 25))
        painter.drawText(rect.adjusted(16 * scale, 0, -16 * scale, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)

    def _paint_legend(self, painter, area, scale):
        K = self.run.current.n_clusters
        font = QFont()
        font.setPixelSize(max(int(16 * scale), 8))
        painter.setFont(font)
        row = 24 * scale
        width = 120 * scale
        box = QRectF(area.right() - width - 10 * scale, area.top() + 10 * scale, width, row * K + 10 * scale)
        painter.setPen(QPen(QColor(180, 180, 180), 1.0))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawRoundedRect(box, 4 * scale, 4 * scale)
        weights = self.run.current.weights
        for k in range(K):
            y = box.top() + 5 * scale + row * (k + 0.5)
            painter.setPen(QPen(QColor("black"), 1.5 * scale))
            painter.setBrush(cluster_qcolor(k))
            painter.drawEllipse(QPointF(box.left() + 16 * scale, y), 7 * scale, 7 * scale)
            painter.setPen(QColor(30, 30, 30))
            label = f"cluster {k + 1}" if weights is None else f"k={k + 1}"
            painter.drawText(QRectF(box.left() + 30 * scale, y - row / 2, width - 34 * scale, row),
                             Qt.AlignmentFlag.AlignVCenter, label)

    def _paint_cost(self, painter, rect, index, scale):
        """The objective over the whole run, a dot per half-step, the current one marked."""
        hist = self.run.history
        description = self.run.description
        label = description.primary.name
        refit_phase = description.refit_phase
        values = np.array([np.nan if description.objective(s) is None else description.objective(s)
                           for s in hist])
        font = QFont()
        font.setPixelSize(max(int(14 * scale), 8))
        painter.setFont(font)
        ok = np.isfinite(values)
        lo, hi = (np.nanmin(values), np.nanmax(values)) if ok.any() else (0.0, 0.0)
        tick_labels = ((f"{hi:.4g}", Qt.AlignmentFlag.AlignTop), (f"{lo:.4g}", Qt.AlignmentFlag.AlignBottom))
        # the axis sits right of its widest label, so "3.016e+05" is never clipped
        label_w = max(QFontMetricsF(font).horizontalAdvance(t) for t, _ in tick_labels) + 10 * scale
        plot = rect.adjusted(label_w + 4 * scale, 14 * scale, -24 * scale, -34 * scale)
        painter.setPen(QPen(QColor(120, 120, 120), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.setPen(QColor(60, 60, 60))
        painter.drawText(QRectF(plot.left(), plot.bottom() + 4 * scale, plot.width(), 24 * scale),
                         Qt.AlignmentFlag.AlignHCenter, f"half-step ({label})")
        if not ok.any():
            return
        span = (hi - lo) or 1.0
        for text, align in tick_labels:
            painter.drawText(QRectF(rect.left(), plot.top() - 6 * scale, label_w, plot.height() + 12 * scale),
                             align | Qt.AlignmentFlag.AlignRight, text)
        n = max(len(hist) - 1, 1)

        def at(i, v):
            return QPointF(plot.left() + plot.width() * i / n, plot.bottom() - plot.height() * (v - lo) / span)

        pts = [at(i, v) for i, v in enumerate(values) if np.isfinite(v)]
        painter.setPen(QPen(QColor(140, 140, 140), 1.5 * scale))
        for a, b in zip(pts, pts[1:]):
            painter.drawLine(a, b)
        for i, v in enumerate(values):
            if not np.isfinite(v):
                continue
            colour = QColor(REFIT_STEP_HEX if hist[i].phase == refit_phase else RESPONSIBILITY_STEP_HEX)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(at(i, v), 4 * scale, 4 * scale)
        painter.setPen(QPen(QColor(20, 20, 20), 2.0 * scale))
        x = plot.left() + plot.width() * index / n
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))

    # -- outputs ---------------------------------------------------------------
    def image(self, index, w=None, h=None):
        w = w or self.options.width
        h = h or self.options.height
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        painter = QPainter(img)
        try:  # a QPainter left active on a destroyed image crashes Qt
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            self.paint(painter, index, w, h)
        finally:
            painter.end()
        return img

    def save_png(self, index, path):
        _check_writable(Path(path).parent)
        image = self.image(index)
        with atomic_output(path) as tmp:
            if not image.save(str(tmp), "PNG"):
                raise ValueError(f"{path}: could not write the PNG")

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


def _qimage_to_pil(img):
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    data = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return PILImage.frombytes("RGBA", (w, h), data[:, :4 * w].tobytes())


def _progress(callback, done, total, cancel):
    if cancel is not None and cancel.is_set():
        raise ExportCancelled()
    if callback is not None:
        callback(done, total)


def export_frames(renderer, folder, indices, fmt="png", progress=None, cancel=None):
    """One numbered file per half-step in ``indices``: frame_0000.png, ..."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, got {fmt!r}")
    folder = Path(folder)
    _check_writable(folder)
    paths = []
    for i, index in enumerate(indices):
        _progress(progress, i, len(indices), cancel)
        path = folder / f"frame_{i:04d}.{fmt}"
        (renderer.save_png if fmt == "png" else renderer.save_svg)(index, path)
        paths.append(path)
    _progress(progress, len(indices), len(indices), cancel)
    return paths


def export_gif(renderer, path, indices, fps=4.0, loop=0, progress=None, cancel=None):
    """An animated GIF, one frame per index, ``fps`` frames a second, ``loop`` 0 = forever."""
    fps, loop = FPS.check(fps, "fps"), GIF_LOOP.check(loop, "loop")
    _check_writable(Path(path).parent)
    w, h = renderer.options.width, renderer.options.height
    if w * h > PILImage.MAX_IMAGE_PIXELS:
        raise ValueError(f"a {w}x{h} GIF is larger than an image reader accepts "
                         f"({PILImage.MAX_IMAGE_PIXELS:,} pixels); choose a smaller --size")
    frames = []
    for i, index in enumerate(indices):
        _progress(progress, i, len(indices), cancel)
        # quantised as we go: 100 RGBA frames at 1080p would hold 800 MB
        frames.append(_qimage_to_pil(renderer.image(index)).convert("RGB").quantize(colors=255))
    with atomic_output(path) as tmp:
        frames[0].save(str(tmp), format="GIF", save_all=True, append_images=frames[1:],
                       duration=int(round(1000 / fps)), loop=loop, disposal=1)
    _progress(progress, len(indices), len(indices), cancel)
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
            for i, index in enumerate(indices):
                _progress(progress, i, len(indices), cancel)
                writer.append_data(np.asarray(_qimage_to_pil(renderer.image(index)).convert("RGB")))
        finally:
            writer.close()
    _progress(progress, len(indices), len(indices), cancel)
    return Path(path)


def export_strip(renderer, path, indices, cols=4, progress=None, cancel=None):
    """One image: a grid of captioned panels, ``cols`` across, each panel a frame."""
    cols = STRIP_COLS.check(cols, "cols")
    _check_writable(Path(path).parent)
    w, h = renderer.options.width, renderer.options.height
    pw, ph = max(w // cols, 16), max(int(round(h / cols)), 16)
    rows = math.ceil(len(indices) / cols)
    strip = QImage(pw * cols, ph * rows, QImage.Format.Format_ARGB32_Premultiplied)
    strip.fill(Qt.GlobalColor.transparent if renderer.options.transparent else Qt.GlobalColor.white)
    painter = QPainter(strip)
    saved = renderer.options.caption, renderer.options.legend
    renderer.options.caption, renderer.options.legend = False, False
    try:
        for i, index in enumerate(indices):
            _progress(progress, i, len(indices), cancel)
            r, c = divmod(i, cols)
            label_h = max(int(ph * 0.13), 10)
            panel = renderer.image(index, pw, ph - label_h)
            painter.drawImage(c * pw, r * ph + label_h, panel)
            font = QFont()
            font.setPixelSize(max(int(label_h * 0.6), 8))
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor(25, 25, 25))
            painter.drawText(QRectF(c * pw + 6, r * ph, pw - 12, label_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             short_caption(renderer.run.description, renderer.run.history[index]))
    finally:
        renderer.options.caption, renderer.options.legend = saved
        painter.end()
    with atomic_output(path) as tmp:
        if not strip.save(str(tmp), "PNG"):
            raise ValueError(f"{path}: could not write the image")
    _progress(progress, len(indices), len(indices), cancel)
    return Path(path), (rows, cols)
