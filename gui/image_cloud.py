"""The pixel cloud: the pixels as points in two chosen feature axes, and the centres, draggable.

The worker draws a fixed random subsample of the pixels into one image at the
canvas' device pixel size (``image_work.PixelWork.frame``); this view only
shows it, says how many pixels it shows, and moves the centres' markers.
Dragging a centre starts a new run from the centres on screen with that one
moved (the other coordinates kept).
"""

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer, Signal
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication

from .cost_plot import cache_axes
from .image_work import CloudRequest

TEXT_HEX = "#222222"
CLOUD_RADIUS = 1.0  # px: a point per pixel, a density at 200,000
MARGIN = 0.04  # of each axis' span, around the pixels
# The axes offered per colour space (feature columns on x and y); segmentation adds the positions
AXES = {"rgb": (("R–G", (0, 1)), ("R–B", (0, 2)), ("G–B", (1, 2))),
        "lab": (("a*–b*", (1, 2)), ("L*–a*", (0, 1)), ("L*–b*", (0, 2)))}
POSITION_AXES = ("λx–λy (where in the image)", (3, 4))
COLOUR_BY = (("own", "each pixel's own colour"), ("centre", "its centre's colour"))


def axis_choices(space):
    """[(label, (i, j))] of the axes the cloud offers for a ``PixelSpace``."""
    return list(AXES[space.space]) + ([POSITION_AXES] if space.segmenting else [])


class CloudItem(pg.GraphicsObject):
    """The cloud image, drawn at device pixels over its data rectangle; prepared outside paint()."""

    def __init__(self):
        super().__init__()
        self._image = None  # (QImage, array it wraps)
        self._rect = QRectF(0, 0, 1, 1)

    def set_image(self, array, rect):
        self.prepareGeometryChange()
        if array is None:
            self._image = None
        else:
            h, w = array.shape
            self._image = (QImage(array.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied), array)
        self._rect = rect
        self.update()

    def boundingRect(self):
        return self._rect

    def paint(self, painter, *args):
        if self._image is None:
            return
        target = painter.transform().mapRect(self._rect)
        painter.save()
        painter.resetTransform()
        painter.drawImage(target, self._image[0])
        painter.restore()


class CloudCanvas(pg.PlotWidget):
    sigCentreDragged = Signal()  # a drag began (the window pauses playing)

    def __init__(self, session, parent=None):
        super().__init__(parent=parent, background="w")
        self.session = session
        self.axes = (0, 1)
        self._space = None  # the colour space the axes were chosen for
        self.colour_by = "own"
        p = self.plotItem
        cache_axes(p)
        p.hideButtons()
        p.setMenuEnabled(False)
        vb = self.viewbox = p.vb
        vb.setMouseEnabled(False, False)
        vb.disableAutoRange()
        vb.setAspectLocked(True)
        font = QFont(QApplication.font())
        for name in ("left", "bottom"):
            axis = p.getAxis(name)
            axis.setStyle(tickFont=font)
            axis.setTextPen(pg.mkPen(TEXT_HEX))
        self.item = CloudItem()
        p.addItem(self.item)
        self.targets = []
        self._push_timer = QTimer(self, singleShot=True, interval=40)  # one request per burst of resizes
        self._push_timer.timeout.connect(self._push_request)
        vb.sigResized.connect(lambda *_: self._push_timer.start())
        vb.sigRangeChanged.connect(lambda *_: self._push_timer.start())
        session.sigImageChanged.connect(self._on_session_image)
        session.sigFrameChanged.connect(self._on_session_frame)
        session.sigCentresChanged.connect(self._update_targets)
        session.sigStepChanged.connect(self._update_targets)
        self.setToolTip("The pixels as points (a subsample; every pixel is clustered). Drag a centre to "
                        "start again from there.")

    # -- what is shown --------------------------------------------------------------
    def set_axes(self, axes):
        axes = tuple(axes)
        if axes != self.axes:
            self.axes = axes
            self._set_range()

    def set_colour_by(self, mode):
        if mode not in dict(COLOUR_BY):
            raise ValueError(f"colour by must be one of {', '.join(dict(COLOUR_BY))}, got {mode!r}")
        if mode != self.colour_by:
            self.colour_by = mode
            self._push_request()

    def note(self):
        """"showing 200,000 of 12,000,000 pixels" (or "all 240,000 pixels")."""
        features = self.session.features
        if features is None:
            return ""
        shown, total = len(features.sample), features.n_pixels
        if shown >= total:
            return f"all {total:,} pixels"
        return f"showing {shown:,} of {total:,} pixels"

    def _on_session_image(self):
        features = self.session.features
        choices = [pair for _, pair in axis_choices(features.space)]
        if self.axes not in choices or features.space.space != self._space:
            self.axes = choices[0]  # a new colour space starts from its own first view
        self._space = features.space.space
        self._set_range()

    def _set_range(self):
        features = self.session.features
        if features is None:
            return
        names = features.names
        i, j = self.axes
        ranges = []
        for c in (i, j):
            if features.space.space == "rgb" and c < 3:
                lo, hi = 0.0, 1.0  # the RGB cube, whatever the image holds
            else:
                lo, hi = float(features.low[c]), float(features.high[c])
            span = max(hi - lo, 1e-6)
            ranges.append((lo - MARGIN * span, hi + MARGIN * span))
        self.viewbox.invertY(self.axes == POSITION_AXES[1])  # image rows grow downwards
        self.viewbox.setRange(xRange=ranges[0], yRange=ranges[1], padding=0)
        self.plotItem.setLabel("bottom", names[i], color=TEXT_HEX)
        self.plotItem.setLabel("left", names[j], color=TEXT_HEX)
        self.plotItem.setTitle(f"{names[i]}–{names[j]}: {self.note()}", color=TEXT_HEX, size="10pt")
        self._update_targets()
        self._push_request()

    def _push_request(self):
        if self.session.features is None:
            return
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        ratio = self.devicePixelRatioF()
        rect = self.viewbox.sceneBoundingRect()
        width, height = int(rect.width() * ratio), int(rect.height() * ratio)
        if width < 2 or height < 2 or x1 <= x0 or y1 <= y0:
            return
        self.session.set_cloud(CloudRequest(axes=self.axes, x0=x0, x1=x1, y0=y0, y1=y1, width=width,
                                            height=height, colour_by=self.colour_by,
                                            invert_y=self.viewbox.yInverted(), radius=CLOUD_RADIUS * ratio))

    def _on_session_frame(self):
        frame = self.session.frame
        req = None if frame is None else frame.cloud_request
        if req is None or frame.cloud is None:
            self.item.set_image(None, QRectF(0, 0, 1, 1))
        else:
            self.item.set_image(frame.cloud, QRectF(req.x0, req.y0, req.x1 - req.x0, req.y1 - req.y0))
        self._update_targets()

    # -- the centres ----------------------------------------------------------------------
    def _shown_centres(self):
        s = self.session
        return s.current.centres if s.current is not None else s.centres

    def _update_targets(self, *_):
        centres = self._shown_centres()
        frame = self.session.frame
        if len(centres) != len(self.targets):
            for t in self.targets:
                self.plotItem.removeItem(t)
            self.targets = []
            for k in range(len(centres)):
                t = pg.TargetItem(pos=(0, 0), size=18, symbol="o", pen=pg.mkPen("k", width=2.5),
                                  hoverPen=pg.mkPen("#ff0", width=3), movable=True, label=str(k + 1),
                                  labelOpts={"color": TEXT_HEX, "offset": (10, -10)})
                t.setZValue(10)
                t.sigPositionChanged.connect(self._on_target_moved)
                t.sigPositionChangeFinished.connect(lambda item, k=k: self._on_target_dropped(k, item))
                self.plotItem.addItem(t)
                self.targets.append(t)
        if not len(centres) or max(self.axes) >= centres.shape[1]:
            return
        palette = frame.palette if frame is not None and len(frame.palette) == len(centres) else None
        for k, t in enumerate(self.targets):
            if t.moving:
                continue  # under the mouse: the drag owns it
            t.blockSignals(True)
            t.setPos(float(centres[k, self.axes[0]]), float(centres[k, self.axes[1]]))
            t.blockSignals(False)
            if palette is not None:
                t.setBrush(pg.mkBrush(*(int(v) for v in palette[k])))

    def _on_target_moved(self, item):
        if item.moving and not getattr(item, "_drag_announced", False):
            item._drag_announced = True
            self.sigCentreDragged.emit()

    def _on_target_dropped(self, k, item):
        item._drag_announced = False
        pos = item.pos()
        self.session.move_centre(k, self.axes, float(pos.x()), float(pos.y()))

    def target_position(self, k):
        """Widget pixel of centre k's marker (tests drag it with the mouse)."""
        pos = self.targets[k].pos()
        return self.mapFromScene(self.viewbox.mapViewToScene(pos))
