"""Run → Restarts…: many runs of the current algorithm from new starts, and their local optima.

The lecture's "we could try many random starting points": R restarts (each its own seed of
an initialisation, or the placed centres jittered) run on the engine worker a small batch
per call, the next batch sent when the answer comes, so results appear as they are found
and Cancel, Escape, closing the dialog or an edit of the points stop them at once.  The
view shows every restart's final objective, sorted, and the distinct optima
(``engine.restarts.distinct_optima``), each with a thumbnail drawn on the worker; clicking
one (or Keep best) makes its start the main run, in one undo step.
"""

import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.captions import format_value
from engine.data import Dataset
from engine.initialisation import INIT_METHODS
from engine.restarts import (
    DEFAULT_N_RESTARTS,
    N_RESTARTS,
    batch_size,
    restart_batch,
    summarise,
)
from engine.settings import SEED

from .cost_plot import ValueAxis, value_range
from .palette import point_colours
from .render import Overlay, fit_rect, paint_overlay
from .splat import render_points
from .view_export import save_png_button

JITTER = "jitter"  # the starts' choice that moves the placed centres instead of drawing new ones
START_TEXT = {"forgy": "Forgy: K data points at random", "random": "Random points in the data's box",
              "kmeans++": "k-means++: spread-out data points", JITTER: "Jitter the placed centres"}
THUMB = QSize(250, 150)  # the room for a distinct optimum's thumbnail, device-independent pixels
DOT_HEX = "#333333"  # the sorted objectives: neutral, never a cluster's colour
BEST_HEX = "#E0002A"


def worker_dataset(cache, points):
    """The points as one Dataset, kept in ``cache`` while they stay the same array (the
    session replaces its array on every edit).  Only the worker touches ``cache``."""
    if cache.get("points") is not points:
        cache.clear()
        cache["points"], cache["data"] = points, Dataset(points)
    return cache["data"]


def thumbnail_frame(points, box=THUMB, least=56):
    """(data rectangle (x0, x1, y0, y1), QSize) of a thumbnail of the points: every point, equal
    units on both axes (as the canvas), the size as large as fits ``box`` at the data's shape
    (no side below ``least``)."""
    x0, x1, y0, y1 = fit_rect(points)
    aspect = (x1 - x0) / (y1 - y0)
    if aspect >= box.width() / box.height():
        size = QSize(box.width(), max(least, round(box.width() / aspect)))
    else:
        size = QSize(max(least, round(box.height() * aspect)), box.height())
    per_pixel = max((x1 - x0) / size.width(), (y1 - y0) / size.height())
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    hw, hh = 0.5 * per_pixel * size.width(), 0.5 * per_pixel * size.height()
    return (cx - hw, cx + hw, cy - hh, cy + hh), size


def thumbnail_pixels(points, labels, n_clusters, rect, size, ratio):
    """On the worker: the points coloured by ``labels``, splatted into a (h, w) premultiplied
    ARGB array showing the data rectangle ``rect`` (x0, x1, y0, y1) at ``size`` x ``ratio``."""
    w, h = int(size.width() * ratio), int(size.height() * ratio)
    x0, x1, y0, y1 = rect
    sx, sy = w / (x1 - x0), h / (y1 - y0)
    transform = ((sx, 0.0, -x0 * sx), (0.0, -sy, y1 * sy))
    radius = (2.2 if len(points) <= 2_000 else 1.2 if len(points) <= 50_000 else 0.6) * ratio
    return render_points(points, point_colours(n_clusters, labels=labels), transform, w, h, radius)


def restarts_job(cache, points, scenario, first_index, seeds, done, rendered, ratio):
    """On the worker: the restarts ``first_index``.. with ``seeds``, the summary of them and
    ``done`` (the earlier ones), and the thumbnails of optima not in ``rendered`` (keyed by
    the optimum's first restart).  Returns (new restarts, RestartsResult, {index: pixels},
    (data rectangle, size) of the thumbnails)."""
    data = worker_dataset(cache, points)
    scenario = dataclasses.replace(scenario, points=data)
    batch = restart_batch(scenario, data, first_index, seeds)
    result = summarise(scenario, done + batch, data)
    rect, size = thumbnail_frame(points)
    algorithm = scenario.make_algorithm()
    images = {}
    for optimum in result.optima:
        key = optimum.restarts[0]
        if key not in rendered:
            final = result.restarts[key].final
            labels = algorithm.labels(data, final)
            images[key] = thumbnail_pixels(points, labels, final.n_clusters, rect, size, ratio)
    return batch, result, images, (rect, size)


def adopt_start(session, centres, text):
    """Make ``centres`` the main run's initial centres: one undo step, and the run starts
    again from its initialisation (as after any edit of the centres)."""
    session.set_centres(np.asarray(centres, dtype=float), text)


def labelled_row(fields, buttons=()):
    """A row of (label, widget) pairs, each label the widget's buddy, then ``buttons`` on the right."""
    row = QHBoxLayout()
    for label, widget in fields:
        caption = QLabel(label)
        caption.setBuddy(widget)
        row.addWidget(caption)
        row.addWidget(widget)
    if buttons:
        row.addStretch(1)
        for button in buttons:
            row.addWidget(button)
    return row


def fit_dialog(dialog, size):
    """``dialog`` at ``size``, or smaller where the screen is (a projector's 1024x768 has room
    for it beside nothing else, so it must never be larger)."""
    screen = dialog.screen()
    if screen is not None:
        room = screen.availableGeometry()
        size = QSize(min(size.width(), room.width() - 16), min(size.height(), room.height() - 48))
    dialog.resize(size)


def optimum_icon(pixels, rect, final, ratio):
    """A QIcon of a thumbnail: the worker's point image, the optimum's centres painted over it
    with the canvas' own painter code."""
    h, w = pixels.shape
    image = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()
    background = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    background.fill(QColor("white"))
    painter = QPainter(background)
    painter.drawImage(0, 0, image)
    x0, x1, y0, y1 = rect
    sx, sy = w / (x1 - x0), h / (y1 - y0)
    to_device = QTransform(sx, 0.0, 0.0, -sy, -x0 * sx, y1 * sy)
    paint_overlay(painter, to_device, Overlay(centres=np.asarray(final.centres)[:, :2], marker_scale=0.55 * ratio))
    painter.end()
    background.setDevicePixelRatio(ratio)
    return QIcon(QPixmap.fromImage(background))


def results_axes():
    """The axes of a results plot (restarts, how many clusters): plain value ticks."""
    return {"left": ValueAxis("left"), "bottom": ValueAxis("bottom")}


def style_results_plot(plot):
    """A still results plot on white for a slide: no menu, no mouse pan or zoom, dark axes."""
    plot.setBackground("w")
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen("#444444"))
        axis.setTextPen(pg.mkPen("#222222"))


class SortedObjectives(pg.PlotWidget):
    """Every restart's final objective, best first: flat runs of dots are shared optima."""

    def __init__(self, parent=None):
        super().__init__(parent, axisItems=results_axes())
        style_results_plot(self)
        self.setLabel("bottom", "restarts, best first")
        self.dots = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1), brush=pg.mkBrush(DOT_HEX))
        self.addItem(self.dots)
        self.best = pg.InfiniteLine(angle=0, pen=pg.mkPen(BEST_HEX, width=1.5, style=Qt.PenStyle.DashLine))
        self.best.hide()
        self.addItem(self.best)

    def show_values(self, values, objective):
        """``values`` sorted best first; ``objective`` the algorithm's primary Objective."""
        self.setLabel("left", objective.name)
        self.dots.setData(np.arange(1, len(values) + 1), np.asarray(values, dtype=float))
        if len(values):
            self.best.setPos(values[0])
            self.best.show()
            # values equal to many digits (EM's restarts within its tolerance) get a span of
            # about 1% of their size, as the cost plot's: no axis of 1e-9 steps
            self.setYRange(*value_range(values), padding=0)
            self.setXRange(0.5, len(values) + 0.5, padding=0)
        else:
            self.best.hide()


class OptimaList(QListWidget):
    """The distinct optima as thumbnails with their objective and how many restarts reached them."""

    sigChosen = Signal(int)  # the restart whose start becomes the main run

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.fit_icons(QSize(168, 126))
        self.setSpacing(4)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setMouseTracking(True)
        self.setToolTip("Click an optimum to make its start the main run")
        # each optimum a tile of its own; a little larger type than the dialog's, for a projector
        self.setStyleSheet("QListWidget::item { border: 1px solid #D0D0D0; border-radius: 4px; margin: 3px; }"
                           "QListWidget::item:hover { border: 1px solid #707070; }")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.setFont(font)
        self.itemClicked.connect(self._on_item_clicked)
        self.itemActivated.connect(self._on_item_clicked)

    def fit_icons(self, size):
        """Tiles for thumbnails of ``size``: the picture, two lines of text below."""
        if size != self.iconSize():
            self.setIconSize(size)
            self.setGridSize(QSize(max(size.width(), 150) + 18, size.height() + 3 * self.fontMetrics().height()))

    def _on_item_clicked(self, item):
        self.sigChosen.emit(item.data(Qt.ItemDataRole.UserRole))


class StopsOnClose:
    """A results dialog whose work stops with it: Escape stops the work first (a second one
    closes), closing or rejecting stops it.  Mixed into a QDialog that has ``running`` and
    ``cancel()``."""

    def keyPressEvent(self, ev):
        if ev.key() == Qt.Key.Key_Escape and self.running:
            self.cancel()
            ev.accept()
            return
        super().keyPressEvent(ev)

    def closeEvent(self, ev):
        self.cancel()
        super().closeEvent(ev)

    def reject(self):
        self.cancel()
        super().reject()


class RestartsDialog(StopsOnClose, QDialog):
    """Run → Restarts…: non-modal; it reads the session's points, algorithm and settings."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Restarts — local optima")
        self.setModal(False)
        self._cache = {}  # the worker's Dataset of the points (touched on the worker only)
        self._call = None  # generation of the batch on the worker, None when idle
        self._job = None  # what is being run: scenario, seeds, points, R
        self._description = None  # the algorithm of the restarts shown
        self._restarts = []
        self._result = None
        self._icons = {}  # restart index of an optimum's first restart -> QIcon
        self._pixels = {}
        self._rect = None
        self._build()
        session.client.sigCalled.connect(self._on_client_called)
        session.sigPointsChanged.connect(self._on_session_points)
        session.sigSettingsChanged.connect(self._on_session_settings)
        session.sigCentresChanged.connect(self._sync_starts)
        self._on_session_settings()
        self.starts.setCurrentIndex(self.starts.findData(session.init_method))
        self._sync_starts()

    # -- layout --------------------------------------------------------------------
    def _build(self):
        self.count = QSpinBox()
        self.count.setRange(N_RESTARTS.low, N_RESTARTS.high)
        self.count.setValue(DEFAULT_N_RESTARTS)
        self.count.setToolTip(f"How many restarts ({N_RESTARTS.describe()})")
        self.starts = QComboBox()
        for key in (*INIT_METHODS, JITTER):
            self.starts.addItem(START_TEXT[key], key)
        self.starts.setToolTip("Each restart draws its own centres with this initialisation (seed S, S+1, …), "
                               "or moves the placed centres by a little noise")
        self.seed = QSpinBox()
        self.seed.setRange(SEED.low, SEED.high)
        self.seed.setValue(self.session.seed)
        self.seed.setToolTip("The first restart's seed S; restart i uses S + i")
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.keep_best = QPushButton("Keep best")
        self.keep_best.setToolTip("Make the best restart's start the main run")
        self.keep_best.setEnabled(False)
        self.keep_best.clicked.connect(self.adopt_best)
        row = labelled_row((("Restarts", self.count), ("Starts", self.starts), ("First seed", self.seed)),
                           (self.run_button, self.cancel_button))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        font = QFont(self.status.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.status.setFont(font)
        self.plot = SortedObjectives()
        self.plot.setMinimumHeight(130)
        self.optima = OptimaList()
        self.optima.sigChosen.connect(self.adopt)
        self.optima.setMinimumHeight(150)
        optima_box = QWidget()
        col = QVBoxLayout(optima_box)
        col.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Distinct optima — click one to make its start the main run")
        heading.setFont(font)
        col.addWidget(heading)
        col.addWidget(self.optima, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(optima_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setSizes([180, 340])
        split.setChildrenCollapsible(False)
        buttons = QDialogButtonBox()
        buttons.addButton(self.keep_best, QDialogButtonBox.ButtonRole.ActionRole)
        self.save_png = save_png_button(self, split, "restarts.png")
        buttons.addButton(self.save_png, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)
        close.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        fit_dialog(self, QSize(780, 600))

    def sizeHint(self):
        return QSize(780, 600)

    # -- the session -----------------------------------------------------------------
    @property
    def objective(self):
        """The primary objective of the algorithm the restarts shown are of."""
        return (self._description or self.session.description).primary

    def _on_session_settings(self):
        d = self.session.description
        self.setWindowTitle(f"Restarts of {d.display_name} — local optima")
        if self._job is None and not self._restarts:
            self._say(f"Run {d.display_name} from many starts and compare the final {self.objective.name}.")

    def _sync_starts(self):
        """Jitter needs placed centres: offered only while there are some."""
        item = self.starts.model().item(self.starts.findData(JITTER))
        placed = len(self.session.centres) > 0
        item.setEnabled(placed)
        if not placed and self.starts.currentData() == JITTER:
            self.starts.setCurrentIndex(self.starts.findData(self.session.init_method))

    def _on_session_points(self):
        if self._job is not None or self._restarts:
            self._stop("The points changed: these restarts were for the old points. Run again.")
            self._clear()

    def scenario(self):
        """The session's scenario with this dialog's starts: drawn with an initialisation (K from
        the placed centres, or the session's K), or the placed centres to jitter."""
        s = self.session
        sc = s.scenario()
        start = self.starts.currentData()
        if start == JITTER:
            return sc
        k = len(s.centres) or s.n_clusters
        return dataclasses.replace(sc, centres=None, init=start, n_clusters=min(k, max(len(s.points), 1)))

    # -- running ---------------------------------------------------------------------
    def start(self):
        s = self.session
        if not len(s.points):
            self._say("Add or sample some points first.")
            return
        self._cancel_call()
        self._clear()
        n = self.count.value()
        first = self.seed.value()
        if first + n - 1 > SEED.high:
            self._say(f"The seeds S … S + R − 1 must stay {SEED.describe()}.")
            return
        self._job = {"scenario": self.scenario(), "points": s.points, "n": n, "first": first,
                     "batch": batch_size(s.algorithm, len(s.points))}
        self._description = s.description
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._send()

    def _send(self):
        job = self._job
        i = len(self._restarts)
        seeds = list(range(job["first"] + i, job["first"] + min(job["n"], i + job["batch"])))
        ratio = self.devicePixelRatioF()
        self._call = self.session.client.call(
            restarts_job, self._cache, job["points"], job["scenario"], i, seeds, list(self._restarts),
            frozenset(self._pixels), ratio)
        self._say_progress()

    def _on_client_called(self, generation, result, error):
        if self._call is None or generation != self._call:
            return  # someone else's call, or one cancelled since
        self._call = None
        if error is not None:
            self._stop(f"Stopped: {error}")
            return
        batch, summary, images, (rect, size) = result
        self._restarts.extend(batch)
        self._result = summary
        self._rect = rect
        self.optima.fit_icons(size)
        self._pixels.update(images)
        ratio = self.devicePixelRatioF()
        for key, pixels in images.items():
            self._icons[key] = optimum_icon(pixels, rect, summary.restarts[key].final, ratio)
        self._show()
        if len(self._restarts) < self._job["n"]:
            self._send()
        else:
            self._finish()

    def _finish(self):
        self._job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say_progress()

    def _cancel_call(self):
        self._call = None  # its answer, if it comes, is dropped

    def cancel(self):
        """Stop after the restarts done so far (the batch on the worker is dropped)."""
        if self._job is None:
            return
        self._stop(None)

    def _stop(self, text):
        self._cancel_call()
        done = len(self._restarts)
        n = self._job["n"] if self._job else done
        self._job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say(text or f"Cancelled after {done} of {n} restarts.")
        if text is None and self._result is not None:
            self._say_progress(cancelled_of=n)

    def _clear(self):
        self._restarts, self._result, self._icons, self._pixels = [], None, {}, {}
        self._description = None
        self.optima.clear()
        self.plot.show_values([], self.objective)
        self.keep_best.setEnabled(False)

    @property
    def running(self):
        return self._job is not None

    # -- showing -----------------------------------------------------------------------
    def _say(self, text):
        self.status.setText(text)

    def _say_progress(self, cancelled_of=None):
        objective = self.objective
        done = len(self._restarts)
        if self._job is not None:
            head = f"{done} of {self._job['n']} restarts…"
        elif cancelled_of is not None:
            head = f"Cancelled after {done} of {cancelled_of} restarts"
        else:
            head = f"{done} restarts"
        if self._result is None or not self._result.optima:
            self._say(head)
            return
        best = self._result.restarts[self._result.best]
        n_opt = len(self._result.optima)
        text = (f"{head} · {n_opt} distinct optim{'um' if n_opt == 1 else 'a'} · best "
                f"{objective.symbol} = {format_value(best.objective)} (seed {best.seed})")
        if self._result.failed:
            text += f" · {len(self._result.failed)} without a finite {objective.symbol}"
        self._say(text)

    def _show(self):
        result = self._result
        objective = self.objective
        direction = objective.direction
        values = sorted((r.objective for r in result.restarts if r.objective is not None),
                        key=lambda v: -direction * v)
        self.plot.show_values(values, objective)
        self.optima.clear()
        total = len(result.restarts)
        for optimum in result.optima:
            key = optimum.restarts[0]
            best = self._best_of(optimum)
            item = QListWidgetItem(f"{objective.symbol} = {format_value(optimum.objective)}\n"
                                   f"{optimum.count} of {total} restarts")
            item.setData(Qt.ItemDataRole.UserRole, best)
            item.setToolTip(f"Reached by restarts {', '.join(str(i + 1) for i in optimum.restarts[:30])}"
                            f"{' …' if optimum.count > 30 else ''}. Click to make restart {best + 1}'s start "
                            "the main run.")
            if key in self._icons:
                item.setIcon(self._icons[key])
            self.optima.addItem(item)
        self.keep_best.setEnabled(result.best is not None)
        self._say_progress()

    def _best_of(self, optimum):
        """The optimum's best restart (its lowest index among equals)."""
        direction = self.objective.direction
        restarts = self._result.restarts
        return min(optimum.restarts, key=lambda i: (-direction * restarts[i].objective, i))

    # -- choosing -------------------------------------------------------------------------
    def adopt(self, index):
        """Restart ``index``'s initial centres become the main run's, at its initialisation."""
        if self._result is None or not 0 <= index < len(self._result.restarts):
            return
        restart = self._result.restarts[index]
        adopt_start(self.session, restart.initial_centres,
                    f"Start of restart {index + 1} ({self.objective.symbol} = {format_value(restart.objective)})")
        self._say(f"The main run now starts where restart {index + 1} (seed {restart.seed}) did: "
                  f"it ends at {self.objective.symbol} = {format_value(restart.objective)}.")

    def adopt_best(self):
        if self._result is not None and self._result.best is not None:
            self.adopt(self._result.best)
