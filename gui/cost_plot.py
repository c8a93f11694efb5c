"""The objective per half-step, linked to the timeline.

Drawn from the algorithm's description: a path and dots per objective, each dot
coloured by its phase (after the assignment / E-step, after the refit / M-step,
as in the lecture) and shaped by objective (the primary one round); the legend
names each objective and phase, and clicking an entry hides those dots.  A line marks
the current half-step; clicking the plot jumps there.  The curve is revealed as
the run goes: it ends at the current half-step unless ``show_whole_run`` is set,
and the axes hold the whole run computed so far, so nothing jumps.
"""

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QApplication, QGraphicsItem, QSizePolicy

from engine.captions import format_tick, in_sentence

from .palette import PATH_HEX, REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX

PLAYING_REFRESH_MS = 100  # the plot's refresh interval while the run plays (10 /s)

SYMBOLS = ("o", "t", "s", "d")  # by objective: the primary one round
TEXT_HEX = "#222222"


class ValueAxis(pg.AxisItem):
    """Tick labels as a lecturer writes them: "−15,420", never "−1.542e+04"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):
        return [format_tick(float(v) * scale, float(spacing) * scale) for v in values]


class HalfStepAxis(ValueAxis):
    """Ticks on whole half-steps only."""

    def tickSpacing(self, minVal, maxVal, size):
        return [(max(spacing, 1.0), offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)]


def cache_axes(plot_item):
    """Axes drawn once into a pixmap at device pixels and copied while they do not change: the
    view repaints them with every frame of the plot beside them (its update region reaches over
    them by the view's anti-aliasing margin), 0.65 ms a frame at 1280x800, measured."""
    for name in ("left", "bottom"):
        plot_item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def value_range(values):
    """(lo, hi) for the y axis: the values with a margin, never a degenerate span (one value, or
    values equal to many digits, get a span of about 1% of their size)."""
    values = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if not len(values):
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo
    floor = max(0.01 * max(abs(lo), abs(hi)), 1e-3)
    if span < floor:
        mid = 0.5 * (lo + hi)
        return mid - floor / 2 - 0.08 * floor, mid + floor / 2 + 0.08 * floor
    return lo - 0.08 * span, hi + 0.08 * span


class CostPlot(pg.PlotWidget):
    def __init__(self, session, parent=None):
        super().__init__(parent=parent, background="w",
                         axisItems={"bottom": HalfStepAxis(orientation="bottom"),
                                    "left": ValueAxis(orientation="left")})
        self.session = session
        self.show_whole_run = False  # False: the curve ends at the current half-step
        p = self.plotItem
        # readable from the back row: dark ticks and labels at the app's font size
        font = QFont(QApplication.font())
        self._font_pt = max(font.pointSizeF(), 9.0)
        font.setPointSizeF(self._font_pt)
        for name in ("left", "bottom"):
            axis = p.getAxis(name)
            axis.setStyle(tickFont=font, tickTextOffset=4)
            axis.setTextPen(pg.mkPen(TEXT_HEX))
            axis.setPen(pg.mkPen("#555"))
        # no grid: pyqtgraph draws it with the axes, which would then repaint
        # whenever the marker moves
        p.setLabel("bottom", "half-step", **self._label_style())
        cache_axes(p)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.vb.setMouseEnabled(False, False)
        p.vb.disableAutoRange()
        # the legend lives beside the plot, in its own column: never over a curve or the cursor line
        self.legend = pg.LegendItem(labelTextColor=TEXT_HEX, labelTextSize=f"{self._font_pt}pt",
                                    brush=(255, 255, 255, 0), verSpacing=-4)
        p.layout.addItem(self.legend, 2, 3)
        p.layout.setColumnStretchFactor(3, 0)
        # its own height at the top of the column: stretched to a tall plot's, its rows spread
        # apart and each dot sat half a row below its words
        self.legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        p.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)
        self.paths = []  # one line per objective
        self._path_of = {}  # objective field -> its line
        self._dots_of = {}  # objective field -> its dots, every phase in one item (one paint)
        self.series = {}  # (objective field, phase) -> the legend's sample of those dots
        self._brushes = {}  # phase -> the brush of its dots
        self._points = None  # (history, its dots by objective): read once per history
        self._shown = {}  # objective field -> (dots shown, run, finished): set only when it changes
        self._ranges = None  # (run id, x max, y min, y max) last set
        self._description = None
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#222", width=2))
        p.addItem(self.marker)
        self.whole_run_action = QAction("Show the whole run", self, checkable=True)
        self.whole_run_action.setToolTip("Show every half-step computed so far, not only up to the cursor")
        self.whole_run_action.toggled.connect(self.set_show_whole_run)
        self.addAction(self.whole_run_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        session.sigHistoryChanged.connect(self._on_session_history)
        session.sigStepChanged.connect(self._on_session_step)
        session.sigSettingsChanged.connect(self._on_session_history)
        # while the run plays, the plot follows at most PLAYING_REFRESH_MS behind: the canvas
        # gets the frames, the plot a few ms a frame back (see set_playing)
        self._playing = False
        self._pending = None  # what a deferred refresh must do: "history" or "step"
        self._last_refresh = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._refresh_deferred)

    def set_playing(self, playing):
        """Playing: refresh at most every PLAYING_REFRESH_MS; stopped: at once, and now."""
        self._playing = playing
        if not playing and self._pending is not None:
            self._refresh_timer.stop()
            self._refresh_deferred()

    def _deferred(self, what):
        """True when a refresh is put off (playing, and the last one was too recent)."""
        if not self._playing:
            return False
        if self._pending != "history":
            self._pending = what
        wait = PLAYING_REFRESH_MS - (time.monotonic() - self._last_refresh) * 1000.0
        if wait <= 0 and not self._refresh_timer.isActive():
            return False
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(max(int(wait), 1))
        return True

    def _refresh_deferred(self):
        what, self._pending = self._pending, None
        if what == "history":
            self._on_session_history()
        elif what == "step":
            self._on_session_step(self.session.index)

    @property
    def text_size(self):
        return self._font_pt

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        """Tall enough for what pyqtgraph lays out (title, axis with its label, legend) in the
        fonts of the moment: at 1024x768 the splitter gave 156 px of the 166 needed, and the
        axis label was cut off; in presentation mode's 16 pt, 189 px cut the whole axis."""
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), math.ceil(self.plotItem.layout.minimumHeight()) + 2))

    def _label_style(self):
        # an axis label's keywords are CSS as they stand: "font-size", where a title takes "size"
        return {"color": TEXT_HEX, "font-size": f"{self._font_pt:g}pt"}

    def set_text_size(self, pt):
        """Legend, title and axis label in ``pt`` points (presentation mode makes them large)."""
        self._font_pt = float(pt)
        self.legend.opts["labelTextSize"] = f"{self._font_pt}pt"
        self.plotItem.setLabel("bottom", "half-step", **self._label_style())
        if self._description is not None:
            self._build(self._description)
            self._on_session_history()
        self.updateGeometry()  # a new minimum height (minimumSizeHint)

    def set_show_whole_run(self, whole):
        """Show every half-step computed so far (True), or reveal the curve up to the cursor (False)."""
        whole = bool(whole)
        if whole != self.show_whole_run:
            self.show_whole_run = whole
            self.whole_run_action.setChecked(whole)
            self._on_session_history()

    def points(self):
        """{(objective field, phase): (x, y)} of every dot shown, read back from the plot (for tests)."""
        out = {}
        for field, phase in self.series:
            dots = self._dots_of[field]
            x, y = (np.zeros(0) if a is None else a for a in dots.getData())
            mask = dots.data["data"] == phase if len(x) else np.zeros(0, dtype=bool)
            if len(x):
                mask &= dots.data["visible"]
            out[(field, phase)] = (x[mask], y[mask])
        return out

    def _build(self, description):
        """Items for ``description``'s objectives; rebuilt only when the algorithm changes
        (rebuilding the legend every frame costs the UI thread)."""
        p = self.plotItem
        # the phases clicked off stay off through a rebuild (presentation mode's text size)
        hidden = {key for key, sample in self.series.items() if not sample.isVisible()}
        for item in self.paths + list(self._dots_of.values()):
            p.removeItem(item)
        self.legend.clear()
        self.paths, self.series, self._path_of, self._dots_of = [], {}, {}, {}
        self._points, self._shown, self._ranges = None, {}, None
        # EM has log p(D) at the initialisation already: a grey dot, left out of the legend
        titles = (None, description.responsibility_title, description.refit_title)
        colours = (PATH_HEX, RESPONSIBILITY_STEP_HEX, REFIT_STEP_HEX)
        self._brushes = {phase: pg.mkBrush(colour) for phase, colour in zip(description.phases, colours)}
        pen = pg.mkPen("w", width=0.8)
        for i, objective in enumerate(description.objectives):
            style = Qt.PenStyle.SolidLine if i == 0 else Qt.PenStyle.DashLine
            path = pg.PlotCurveItem(pen=pg.mkPen(PATH_HEX, width=1.5, style=style))
            p.addItem(path)
            self.paths.append(path)
            self._path_of[objective.field] = path
            symbol = SYMBOLS[i % len(SYMBOLS)]
            # one bare scatter per objective, its dots coloured by phase: each item costs every
            # repaint of the plot ~0.5 ms, and a growing run appends only its new dots (addPoints)
            dots = pg.ScatterPlotItem(symbol=symbol, size=8, pen=pen)
            p.addItem(dots)
            self._dots_of[objective.field] = dots
            for phase, title in zip(description.phases, titles):
                brush = self._brushes[phase]
                # the legend's sample: drawn in the legend only; clicking it hides that phase's dots
                sample = pg.ScatterPlotItem(symbol=symbol, size=8, brush=brush, pen=pen)
                sample.setVisible((objective.field, phase) not in hidden)
                sample.visibleChanged.connect(self._apply_phase_visibility)
                if title is not None:
                    self.legend.addItem(sample, f"{objective.symbol} after {in_sentence(title)}")
                self.series[(objective.field, phase)] = sample
        # the legend sits in the corner the curve leaves empty: a falling objective leaves the
        # top right, a rising one the bottom right
        # the axis says the symbol (short: never clipped); the formula runs along the top
        p.setLabel("left", description.primary.symbol, **self._label_style())
        p.setTitle(description.primary.formula, color=TEXT_HEX, size=f"{self._font_pt}pt")
        self.setToolTip(f"{description.primary.formula} after every half-step; click a dot to jump there")
        self._description = description

    def _on_session_history(self, *_):
        if self._deferred("history"):
            return
        self._pending, self._last_refresh = None, time.monotonic()
        description = self.session.description
        if description is not self._description:
            self._build(description)
        self._update_dots()
        self._update_ranges()
        self.marker.setValue(self.session.index)

    def _history_points(self):
        """{objective field: (x, y, phase of each)} of the history, read once per history; a run
        that grew by a half-step reads only the new one (a long run played at 60 /s stays cheap)."""
        hist = self.session.history
        if self._points is not None and self._points[0] is hist:
            return self._points[1]
        description = self._description
        start, old = 0, None
        if self._points is not None:
            old_hist, old_table = self._points
            n = len(old_hist)
            if 0 < n <= len(hist) and hist[n - 1] is old_hist[-1]:  # the same run, grown
                start, old = n, old_table
        tail = hist[start:]
        table = {}
        for objective in description.objectives:
            x, y = description.objective_points(tail, objective)
            phases = np.array([tail[i].phase for i in x], dtype=object)
            if old is not None:
                x, y, phases = (np.concatenate([old[objective.field][0], x + start]),
                                np.concatenate([old[objective.field][1], y]),
                                np.concatenate([old[objective.field][2], phases]))
            table[objective.field] = (x, y, phases)
        self._points = (hist, table)
        return table

    def _update_dots(self):
        """Dots up to the current half-step (or all); an item is touched only when its count changes
        (a curve's setData costs the UI thread a few ms)."""
        table = self._history_points()
        last = len(self.session.history) - 1 if self.show_whole_run else self.session.index
        for field, (x, y, phases) in table.items():
            n = int(np.searchsorted(x, last, side="right"))  # x is sorted: half-step indices
            # within a run the history only grows, so the first n dots never change
            key = (n, self.session.run_id, self.session.finished)
            shown = self._shown.get(field)
            if shown == key:
                continue
            self._shown[field] = key
            self._path_of[field].setData(x[:n], y[:n])
            dots = self._dots_of[field]
            first = shown[0] if shown is not None and shown[1:] == key[1:] and shown[0] < n else 0
            brush = [self._brushes[phase] for phase in phases[first:n]]
            if first:  # the run grew: only the new dots
                dots.addPoints(x=x[first:n], y=y[first:n], brush=brush, data=phases[first:n])
            else:
                dots.setData(x=x[:n], y=y[:n], brush=brush, data=phases[:n])
            if not all(sample.isVisible() for sample in self.series.values()):
                self._apply_phase_visibility()

    def _apply_phase_visibility(self):
        """Hide the dots of the phases whose legend entry was clicked off."""
        for field, dots in self._dots_of.items():
            if len(dots.data):
                hidden = [phase for (f, phase), sample in self.series.items() if f == field and not sample.isVisible()]
                dots.setPointsVisible(~np.isin(dots.data["data"], hidden))

    def _update_ranges(self):
        """Axes for the whole run computed so far (the reveal never moves them). While a run grows,
        the half-step axis grows in doublings and the value axis only when a value leaves it, so the
        axes are not redrawn on every frame."""
        description, hist = self._description, self.session.history
        table = self._history_points()
        values = np.concatenate([table[o.field][1] for o in description.objectives]) \
            if len(hist) else np.zeros(0)
        lo, hi = value_range(values)
        n = len(hist)
        x_hi = n - 0.5 if self.session.finished else max(2.0 ** math.ceil(math.log2(max(n, 4))), 4) - 0.5
        current = self._ranges
        if current is not None and self.session.run_id == current[0] and not self.session.finished:
            _, x_old, lo_old, hi_old = current
            x_hi = max(x_hi, x_old)
            if lo >= lo_old and hi <= hi_old:
                lo, hi = lo_old, hi_old
            else:  # a value left the axis: grow it with room to spare, not again next frame
                room = 0.05 * (max(hi, hi_old) - min(lo, lo_old))
                lo = lo_old if lo >= lo_old else lo - room
                hi = hi_old if hi <= hi_old else hi + room
        wanted = (self.session.run_id, x_hi, lo, hi)
        if wanted != current:
            self._ranges = wanted
            self.plotItem.vb.setRange(xRange=(-0.5, x_hi), yRange=(lo, hi), padding=0.02 if n else 0)

    def _on_session_step(self, index):
        if self._deferred("step"):
            return
        self.marker.setValue(index)
        if self._description is not None and not self.show_whole_run:
            self._update_dots()

    def _on_scene_clicked(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton or not self.session.history:
            return
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        x = vb.mapSceneToView(ev.scenePos()).x()
        index = int(np.clip(round(x), 0, len(self.session.history) - 1))
        self.session.goto(index)
        ev.accept()
