"""The data canvas: points drawn as one image, parameters drawn by ``render``, and the mouse.

Left click adds a point (point tool) or places a centre (centre tool); drag
moves a point or a centre (or the true mixture's handles when shown); right
click removes; Shift+drag selects points for Delete; dragging empty space
pans, the wheel zooms.  The canvas tells
the session which rectangle it shows at which pixel size; the worker draws the
points for exactly that, so the picture is sharp at any zoom.

Data with more than two columns are shown through the session's view
projection (engine.projection): everything drawn, picked and read is in that
plane, a dragged point or centre moves only in it (``Projection.lift``), and
the axes are named after the columns (or the principal components) shown.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsRectItem, QLabel

from engine.captions import point_reading, responsibility_snapshot

from .cost_plot import cache_axes
from .regions import paint_polygons, region_polygons
from .render import (
    fit_rect,
    mixture_axis_handle,
    overlay_for,
    overlay_key,
    paint_overlay,
    projected_parameters,
)
from .splat import marker_radius
from .worker import Viewport

PICK_PIXELS = 9.0


def _qimage(array):
    """Wrap a (H, W) uint32 ARGB array without copying (the array must outlive the image)."""
    h, w = array.shape
    return QImage(array.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)


class SceneItem(pg.GraphicsObject):
    """Draws the field, the points image and the overlay; everything is prepared outside paint()."""

    sigFramePainted = Signal()  # a frame reached the screen (the player waits for it)

    def __init__(self):
        super().__init__()
        self._points = None  # (QImage, array, QRectF in data coordinates)
        self._field = None
        self._regions = None  # [(QPolygonF in data coordinates, QColor)]: k-means' Voronoi cells
        self._regions_key, self._region_cells = None, None  # the last cells computed, by centres and view
        self._overlay = None
        # the overlay drawn once into an image and reused while neither it nor the view changes:
        # EM's E-step moves no ellipse, yet its strokes cost 35-60 ms (K = 10, 1600x1000)
        self._overlay_image = None  # (key, overlay kept alive for its key, QImage)
        self.overlay_paints = 0  # how often the overlay was drawn, not reused (tests)
        self._rect = QRectF(0, 0, 1, 1)
        self.paints = 0  # counted so the soak test knows paint() really ran
        # frames that reached the screen (the bench's frames/s: a frame replaced before a paint
        # was never seen), told apart from repaints of the same frame
        self.frames_painted = 0
        self._frame_serial = self._painted_serial = 0

    def set_frame(self, frame, overlay):
        self._frame_serial += 1
        self.prepareGeometryChange()
        self._points = self._field = self._regions = None
        if frame is not None and frame.image is not None:
            vp = frame.viewport
            rect = QRectF(vp.x0, vp.y0, vp.x1 - vp.x0, vp.y1 - vp.y0)
            self._points = (_qimage(frame.image), frame.image, rect)
            if frame.field_image is not None:
                self._field = (_qimage(frame.field_image), frame.field_image, rect)
            if frame.regions is not None:
                # cells over three times the view, so a pan shows no edge before the next frame;
                # the same centres and view (a refit's frame, a repaint) reuse the polygons
                w, h = vp.x1 - vp.x0, vp.y1 - vp.y0
                key = (frame.regions.tobytes(), vp.x0, vp.x1, vp.y0, vp.y1)
                if self._regions_key != key:
                    self._regions_key = key
                    self._region_cells = region_polygons(frame.regions,
                                                         (vp.x0 - w, vp.x1 + w, vp.y0 - h, vp.y1 + h))
                self._regions = self._region_cells
            self._rect = rect
        self._overlay = overlay
        self.update()

    def boundingRect(self):
        return self._rect

    def paint(self, painter, *args):
        self.paints += 1
        if self._painted_serial != self._frame_serial:
            self._painted_serial = self._frame_serial
            self.frames_painted += 1
            self.sigFramePainted.emit()
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()
        if self._regions is not None:
            paint_polygons(painter, to_device, self._regions)
        ratio = painter.device().devicePixelRatioF()
        for layer in (self._field, self._points):
            if layer is not None:
                image, _, rect = layer
                target = to_device.mapRect(rect)
                if layer is self._points and abs(target.width() * ratio - image.width()) < 1.0 \
                        and abs(target.height() * ratio - image.height()) < 1.0:
                    # drawn for this view at its device pixels: put there as they are, not scaled
                    # by a fraction of a pixel (4x the cost, 0.6 ms at 1280x800, and a column lost)
                    image.setDevicePixelRatio(ratio)
                    painter.drawImage(QPointF(round(target.x() * ratio) / ratio, round(target.y() * ratio) / ratio),
                                      image)
                    continue
                # the field is sampled coarser than the screen: upscaled smoothly
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, layer is self._field)
                painter.drawImage(target, image)
        if self._overlay is not None:
            painter.drawImage(QPointF(0, 0), self._overlay_picture(painter, to_device))
        painter.restore()

    def _overlay_picture(self, painter, to_device):
        """The overlay over the whole paint device, at its pixel ratio: from the last paint when
        the overlay and the view are the same, else drawn again (into the same image if it fits)."""
        device = painter.device()
        ratio = device.devicePixelRatioF()
        if isinstance(device, (QImage, QPixmap)):  # sized in device pixels already
            size = (device.width(), device.height())
        else:  # a widget: sized in logical pixels
            size = (round(device.width() * ratio), round(device.height() * ratio))
        t = to_device
        key = (overlay_key(self._overlay), (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy()), size, ratio)
        cached = self._overlay_image
        if cached is not None and cached[0] == key:
            return cached[2]
        image = cached[2] if cached is not None and (cached[2].width(), cached[2].height()) == size else \
            QImage(*size, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        overlay_painter = QPainter(image)
        try:
            paint_overlay(overlay_painter, to_device, self._overlay)
        finally:
            overlay_painter.end()
        self.overlay_paints += 1
        self._overlay_image = (key, self._overlay, image)
        return image


class CanvasViewBox(pg.ViewBox):
    """Mouse editing on top of pyqtgraph's pan and zoom."""

    def __init__(self, canvas):
        super().__init__(lockAspect=True, enableMenu=False)
        self._canvas = canvas
        self._drag = None

    def mouseClickEvent(self, ev):
        if self._canvas.click(ev.button(), self.mapSceneToView(ev.scenePos())):
            ev.accept()
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mouseDragEvent(ev, axis)
        pos = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._drag = ("select", start)
            else:
                self._drag = self._canvas.begin_drag(start)
        if self._drag is None:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        self._canvas.drag_to(pos)
        if ev.isFinish():
            self._canvas.end_drag()
            self._drag = None


class Canvas(pg.PlotWidget):
    """The data canvas of one session."""

    sigCaption = Signal(str)
    sigHint = Signal(str)

    def __init__(self, session, parent=None):
        self.viewbox = CanvasViewBox(self)
        super().__init__(parent=parent, viewBox=self.viewbox, background="w")
        self.session = session
        self.tool = "points"  # or "centres"
        self.draft = False  # set while the run plays: see set_draft
        # No grid: pyqtgraph draws it as part of each axis, which then repaints
        # with every frame (10 ms an axis at 1280x800, measured)
        self.viewbox.setZValue(1)  # above the axes
        self.plotItem.hideButtons()
        for axis in ("left", "bottom"):
            self.plotItem.getAxis(axis).setPen(pg.mkPen("#666"))
            self.plotItem.getAxis(axis).setTextPen(pg.mkPen("#444"))
        cache_axes(self.plotItem)
        self.scene_item = SceneItem()
        self.viewbox.addItem(self.scene_item)
        self.selection = np.zeros(0, dtype=np.int64)  # Shift+drag selects, Delete removes
        self._band = QGraphicsRectItem()
        self._band.setPen(pg.mkPen("#333", width=1, style=Qt.PenStyle.DashLine))
        self._band.setBrush(pg.mkBrush(40, 40, 40, 25))
        self._band.setZValue(20)
        self._band.hide()
        self.viewbox.addItem(self._band, ignoreBounds=True)
        self.viewbox.setRange(xRange=(-8, 8), yRange=(-6, 6), padding=0)
        # The state in words, shown by the window above the canvas (never over the
        # data).  Not a plot title: retitling re-lays out the plot, repainting
        # every axis each frame.
        self.caption = ""
        self._viewport_timer = QTimer(self, singleShot=True, interval=25)
        self._viewport_timer.timeout.connect(self._push_viewport)
        self.viewbox.sigRangeChanged.connect(lambda *_: self._viewport_timer.start())
        session.sigPointsChanged.connect(self._on_session_points)
        session.sigFrameChanged.connect(self._on_session_frame)
        session.sigDisplayChanged.connect(self._on_session_frame)
        session.sigCentresChanged.connect(self._on_session_frame)
        session.sigMixtureChanged.connect(self._on_session_frame)
        session.sigProjectionChanged.connect(self._on_session_projection)
        session.sigStepChanged.connect(lambda *_: self._update_caption())
        session.sigMessage.connect(lambda *_: self._update_caption())
        self._update_caption()
        # Read one point: hovering shows its r_k^(n), ||x - m_k||^2 (and pi_k N(x | mu_k, Sigma_k))
        self.reading = ""
        self._hover = None  # index of the point read out
        self._reading_panel = QLabel(self)
        self._reading_panel.setStyleSheet(
            "QLabel { background: rgba(255, 255, 255, 235); color: #111; border: 1px solid #888;"
            " padding: 4px; }")
        self._reading_panel.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._reading_panel.hide()
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        session.sigStepChanged.connect(lambda *_: self._update_reading())
        session.sigPointsChanged.connect(lambda *_: self._set_hover(None))
        self._axis_names = ("", "")  # unlabelled, as pyqtgraph starts: 2-D data without names stay so
        self._update_axis_names()

    # -- geometry ------------------------------------------------------------
    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        if hasattr(self, "_viewport_timer"):  # pyqtgraph resizes before __init__ is done
            self._viewport_timer.start()

    def showEvent(self, ev):
        super().showEvent(ev)
        self._push_viewport()

    def data_viewport(self):
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        # the area the view range fills: the view box's rect (its bounding rect is half a pixel
        # larger, for its border), so the points drawn for it land on the screen's pixels unscaled
        rect = self.viewbox.mapRectToScene(self.viewbox.rect())
        dpr = self.devicePixelRatioF()
        scale = self.session.display.marker_scale
        return Viewport(x0=x0, x1=x1, y0=y0, y1=y1, width=int(round(rect.width() * dpr)),
                        height=int(round(rect.height() * dpr)),
                        radius=marker_radius(len(self.session.points), scale) * dpr,
                        # k-means' cells and the responsibilities are not regions of a projected plane
                        field=self.session.display.field and self.session.dim == 2,
                        projection=None if self.session.projection.identity else self.session.projection)

    def _push_viewport(self):
        if self.isVisible() or self.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide):
            self.session.set_viewport(self.data_viewport())

    def fit_to_data(self):
        """Show every point and centre and, for EM, every 2σ ellipse, with a margin.

        The centres and ellipses are the half-step on screen (the initial centres
        before the run's first frame); the view box keeps the aspect equal.
        """
        s = self.session
        snap = s.current
        centres = snap.centres if snap is not None else s.centres
        covariances = None
        if snap is not None and snap.covariances is not None and s.display.ellipses:
            covariances = snap.covariances
        if not len(s.points) and not len(centres):
            return
        centres, covariances = projected_parameters(s.projection, centres, covariances)
        x0, x1, y0, y1 = fit_rect(s.shown_points(), centres, covariances)
        self.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    # -- drawing ---------------------------------------------------------------
    def set_draft(self, on):
        """Draft drawing while the run plays (``Overlay.draft``); the still frame is redrawn in full."""
        if on != self.draft:
            self.draft = on
            if not on and self.session.frame is not None:
                self._on_session_frame()

    def _on_session_frame(self, *_):
        overlay = overlay_for(self.session)
        overlay.draft = self.draft
        if len(self.selection):
            overlay.selected = self.session.shown_points()[self.selection]
        self.scene_item.set_frame(self.session.frame, overlay)
        self._update_caption()
        # a setting that changes the points' pixels (marker size, field) needs a new frame
        vp = self.data_viewport()
        if self.session.viewport is not None and vp != self.session.viewport:
            self._viewport_timer.start()

    def _update_caption(self):
        text = self.session.state_text()
        if text != self.caption:
            self.caption = text
            self.sigCaption.emit(text)

    # -- the view projection -----------------------------------------------------
    def _on_session_projection(self):
        """Another plane: name the axes, fit the view to the data as now shown, draw them."""
        self._update_axis_names()
        self.selection = np.zeros(0, dtype=np.int64)
        self.fit_to_data()
        self._on_session_frame()
        self._push_viewport()

    def _update_axis_names(self):
        """The axes' labels: the columns (or principal components) shown; none for unnamed 2-D data,
        as ever."""
        s = self.session
        names = s.projection.axis_names if s.dim > 2 or s.names is not None else ("", "")
        if names != self._axis_names:
            self._axis_names = names
            self.plotItem.setLabel("bottom", names[0] or None)
            self.plotItem.setLabel("left", names[1] or None)
            for axis in ("left", "bottom"):
                self.plotItem.getAxis(axis).showLabel(bool(names[0]))

    # -- picking ---------------------------------------------------------------
    def _pixel_size(self):
        px = self.viewbox.viewPixelSize()
        return max(px[0], px[1])

    def _nearest(self, array, pos, pixels=PICK_PIXELS):
        if array is None or not len(array):
            return None
        d2 = (array[:, 0] - pos.x()) ** 2 + (array[:, 1] - pos.y()) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= (pixels * self._pixel_size()) ** 2 else None

    def _shown_centres(self):
        snap = self.session.current
        centres = np.asarray(snap.centres) if snap is not None else self.session.centres
        return projected_parameters(self.session.projection, centres, None)[0]

    def click(self, button, pos):
        s = self.session
        if button == Qt.MouseButton.LeftButton:
            if self.tool == "centres":
                s.add_centre(pos.x(), pos.y())
            else:
                s.add_point(pos.x(), pos.y())
            return True
        if button == Qt.MouseButton.RightButton:
            # the centres as drawn, mid-run too: the hit and the removal use the same ones
            k = self._nearest(self._shown_centres(), pos, 12)
            if k is not None:
                s.remove_centre(k)
                return True
            if self.tool == "centres":
                return True  # the centre tool never removes points
            i = self._nearest(s.shown_points(), pos)
            if i is not None:
                s.remove_points([i])
            return True
        return False

    def begin_drag(self, pos):
        """What a left drag starting at ``pos`` grabs: a centre, a mixture handle, a point, or nothing."""
        s = self.session
        k = self._nearest(self._shown_centres(), pos, 14)
        if k is not None:
            s.begin_drag("centres", k)
            return ("centres", k)
        if s.display.true_mixture and s.dim == 2:
            for j in range(s.mixture.n_components):
                if self._nearest(s.mixture.means[j:j + 1], pos, 10) is not None:
                    return ("mean", j, s.mixture)
                if self._nearest(mixture_axis_handle(s.mixture, j)[None], pos, 10) is not None:
                    return ("axis", j, s.mixture)
        if self.tool == "points":
            i = self._nearest(s.shown_points(), pos)
            if i is not None:
                s.begin_drag("points", i)
                return ("points", i)
        return None

    def drag_to(self, pos):
        drag = self.viewbox._drag
        if drag[0] == "select":
            rect = QRectF(drag[1], pos).normalized()
            self._band.setRect(rect)
            self._band.show()
            pts = self.session.shown_points()
            inside = ((pts[:, 0] >= rect.left()) & (pts[:, 0] <= rect.right())
                      & (pts[:, 1] >= rect.top()) & (pts[:, 1] <= rect.bottom()))
            self.selection = np.flatnonzero(inside)
            self._on_session_frame()
        elif drag[0] in ("centres", "points"):
            self.session.drag_to(pos.x(), pos.y())
        else:
            self.session.set_mixture(_edited_mixture(drag, np.array([pos.x(), pos.y()])))

    def end_drag(self):
        self._band.hide()
        self.session.end_drag()
        if len(self.selection):
            self.sigHint.emit(f"{len(self.selection)} points selected: Delete removes them")

    def delete_selection(self):
        """Remove the selected points (one undo step)."""
        if len(self.selection):
            self.session.remove_points(self.selection)

    def _on_session_points(self):
        self.selection = np.zeros(0, dtype=np.int64)

    # -- reading one point -----------------------------------------------------
    def _on_scene_mouse_moved(self, scene_pos):
        if not self.viewbox.sceneBoundingRect().contains(scene_pos) or self.viewbox._drag is not None:
            self._set_hover(None)
            return
        self._set_hover(self._nearest(self.session.shown_points(), self.viewbox.mapSceneToView(scene_pos)))

    def _set_hover(self, index):
        self._hover = index
        self._update_reading()

    def _update_reading(self):
        s = self.session
        i = self._hover
        text = ""
        if i is not None and i < len(s.points) and s.history:
            index = min(s.index, len(s.history) - 1)
            snap = responsibility_snapshot(s.description, s.history, index) or s.history[index]
            text = point_reading(s.description, snap, s.points[i], beta=s.settings.beta)
        self.reading = text
        if text:
            self._reading_panel.setText(text)
            self._reading_panel.adjustSize()
            self._reading_panel.move(self.width() - self._reading_panel.width() - 8, 8)
            self._reading_panel.show()
            self._reading_panel.raise_()
        else:
            self._reading_panel.hide()


def _edited_mixture(drag, pos):
    """The sampling mixture with one component's mean moved or its major axis set to ``pos``."""
    from engine.sampling import Mixture
    kind, j, start = drag
    means = start.means.copy()
    covs = start.covariances.copy()
    if kind == "mean":
        means[j] = pos
    else:
        axis = pos - means[j]
        length = max(float(np.hypot(*axis)), 1e-3)
        vals = np.linalg.eigvalsh(covs[j])
        minor = min(np.sqrt(vals[0]), length)
        u = axis / length
        R = np.array([[u[0], -u[1]], [u[1], u[0]]])
        covs[j] = R @ np.diag([length ** 2, minor ** 2]) @ R.T
    return Mixture(start.weights, means, covs)


__all__ = ["Canvas", "QPointF"]
