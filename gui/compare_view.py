"""View → Compare: k-means, soft k-means and EM side by side (the lecture's "relation to k-means").

The same points from the same initial centres (the session's), each algorithm in its own pane:
its points coloured by its responsibilities, its centres (EM: ellipses), its state and
objective in words, and a small cost plot.  One timeline steps every pane by iteration
(Right / Left, the slider, Play); a pane whose run stopped earlier keeps its last state and
says so.  The runs and every pixel are made on the engine worker (``compare_work``); this
window only shows what comes back, and follows the session: an edit of the points, the
centres or the settings starts the comparison again.
"""

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontInfo, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from engine.registry import ALGORITHM_NAMES, describe

from .compare_work import (
    COST_BESIDE,
    COST_UNDER,
    STEP_SLICE_S,
    advance_job,
    export_frame_job,
    export_strip_job,
    last_iteration,
    paint_cost_sketch,
    pane_grid,
    render_job,
    start_job,
    strip_iterations,
)

PLAY_MS = 800  # one iteration a step while playing: slow enough to follow three panes
REBUILD_MS = 250  # an edit in the main window (a drag) restarts the comparison once it settles
RESIZE_MS = 40
EXPORT_SIZES = ((1920, 1080), (1280, 720), (3840, 2160), (1024, 768))
PREFERRED_SIZE = (1280, 820)
SCREEN_ALLOWANCE = (16, 48)  # a window manager's frame and title bar


class PaneImage(QWidget):
    """Shows one QImage made on the worker, centred; says when its size changes."""

    sigResized = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = None
        self.setMinimumSize(120, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def device_size(self):
        ratio = self.devicePixelRatioF()
        return int(self.width() * ratio), int(self.height() * ratio)

    def set_image(self, image):
        self.image = image
        self.update()

    def paintEvent(self, ev):
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if self.image is not None and not self.image.isNull():
            image = self.image
            image.setDevicePixelRatio(self.devicePixelRatioF())
            size = image.deviceIndependentSize()
            painter.drawImage(int((self.width() - size.width()) / 2), int((self.height() - size.height()) / 2),
                              image)
        painter.end()

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self.sigResized.emit()


class CostSketch(QWidget):
    """The pane's primary objective per half-step up to the half-step shown."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state, self.index, self.n_half_steps = None, 0, 1
        self.setMinimumSize(120, 64)

    def show_state(self, state, index, n_half_steps):
        self.state, self.index, self.n_half_steps = state, index, n_half_steps
        self.update()

    def points(self):
        """(half-steps, values) drawn (for tests)."""
        return self.state.cost_points(self.index) if self.state is not None else None

    def paintEvent(self, ev):
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if self.state is not None and self.state.history:
            paint_cost_sketch(painter, self.rect().toRectF(), self.state, self.index, self.n_half_steps,
                              float(QFontInfo(self.font()).pixelSize()))
        painter.end()


class ComparePane(QFrame):
    """One algorithm: its name and settings, its state in words, its points, its cost plot."""

    def __init__(self, name, parent=None):
        super().__init__(parent)
        self.name = name
        self.state = None
        self.index = 0
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading = QElidingLabel(describe(name).display_name)
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.heading.setFont(font)
        self.caption = QElidingLabel("")
        for label in (self.heading, self.caption):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.image = PaneImage()
        self.cost = CostSketch()
        self.body = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(2)
        self.body.addWidget(self.image)
        self.body.addWidget(self.cost)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(1)
        col.addWidget(self.heading)
        col.addWidget(self.caption)
        col.addLayout(self.body, 1)
        self.set_cost_beside(False)

    def title_height(self):
        return self.heading.sizeHint().height() + self.caption.sizeHint().height() + 12

    def set_cost_beside(self, beside):
        """The cost plot under the points, or beside them (wide, low data)."""
        share = COST_BESIDE if beside else COST_UNDER
        self.body.setDirection(QBoxLayout.Direction.LeftToRight if beside else QBoxLayout.Direction.TopToBottom)
        self.body.setStretch(0, round(100 * (1 - share)))
        self.body.setStretch(1, round(100 * share))

    def show_state(self, state, iteration, image, n_half_steps):
        self.state, self.index = state, state.index_at(iteration)
        self.heading.setText(state.heading())
        text = state.caption(iteration)
        self.caption.setText(text)
        self.caption.setToolTip(text)
        self.image.set_image(image)
        self.cost.show_state(state, self.index, n_half_steps)

    def show_message(self, text):
        self.state = None
        self.caption.setText(text)
        self.image.set_image(None)
        self.cost.show_state(None, 0, 1)


class _PaneArea(QWidget):
    sigResized = Signal()

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self.sigResized.emit()


class CompareView(QWidget):
    """The comparison window: one pane per algorithm, one timeline, two exports."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        if parent is not None:
            self.setWindowFlag(Qt.WindowType.Window)  # its own window, closed with the one that opened it
        self.session = session
        self.first, *self.optional = ALGORITHM_NAMES  # k-means always; the others on request
        names = [describe(n).display_name for n in ALGORITHM_NAMES]
        self.setWindowTitle(f"Compare {', '.join(names[:-1])} and {names[-1]} — ClusterLab")
        self.iteration = 0  # wanted on the timeline
        self.states = {}  # name -> PaneState, once the runs are there
        self.view_rect = None
        self._comparison = None  # the worker's Comparison: handed back to it, never touched here
        self._serial = 0  # bumped by every new comparison: answers for an older one are dropped
        self._scenario_key = None
        self._calls = {}  # generation -> (serial, handler)
        self._advancing = False
        self._rendering = False
        self._shown_key = None  # what the panes show: (serial, names, iteration, size, display)
        self._grid = None
        self._exports = 0  # exports in flight
        self.last_export = None  # the path of the last export written (for tests and the status)
        self._build()
        self._play_timer = QTimer(self, interval=PLAY_MS, timeout=self._on_play_tick)
        self._rebuild_timer = QTimer(self, singleShot=True, interval=REBUILD_MS, timeout=self.rebuild)
        self._resize_timer = QTimer(self, singleShot=True, interval=RESIZE_MS, timeout=self._request_render)
        session.client.sigCalled.connect(self._on_client_called)
        for signal in (session.sigPointsChanged, session.sigCentresChanged, session.sigSettingsChanged):
            signal.connect(self._on_session_changed)
        session.sigDisplayChanged.connect(self._request_render)
        self._fit_to_screen()
        self.rebuild()

    # -- building ------------------------------------------------------------------------
    def _build(self):
        SP = QStyle.StandardPixmap
        top = QHBoxLayout()
        top.addWidget(QLabel("Same points, same initial centres:"))
        self.include = {}
        always = QCheckBox(describe(self.first).display_name)
        always.setChecked(True)
        always.setEnabled(False)
        always.setToolTip("Always shown: the others are compared with it")
        top.addWidget(always)
        for name in self.optional:
            box = QCheckBox(describe(name).display_name)
            box.setChecked(True)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.setToolTip(f"Show {describe(name).display_name} beside {describe(self.first).display_name}")
            box.toggled.connect(self._on_include_toggled)
            top.addWidget(box)
            self.include[name] = box
        top.addStretch(1)
        self.size_box = QComboBox()
        self.size_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for w, h in EXPORT_SIZES:
            self.size_box.addItem(f"{w}×{h}", (w, h))
        self.size_box.setToolTip("The size of an exported picture, in pixels")
        self.export_frame_button = QPushButton("Export frame…")
        self.export_frame_button.setToolTip("One PNG of every pane at the iteration shown")
        self.export_frame_button.clicked.connect(lambda: self.export_frame())
        self.export_strip_button = QPushButton("Export strip…")
        self.export_strip_button.setToolTip("One PNG: a row per algorithm, a column per key iteration")
        self.export_strip_button.clicked.connect(lambda: self.export_strip())
        for widget in (self.size_box, self.export_frame_button, self.export_strip_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            top.addWidget(widget)

        self.area = _PaneArea()
        self.grid = QGridLayout(self.area)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        self.area.sigResized.connect(self._regrid)
        self.panes = {}
        for name in ALGORITHM_NAMES:
            pane = ComparePane(name, self.area)
            pane.image.sigResized.connect(self._on_pane_resized)
            self.panes[name] = pane

        transport = QHBoxLayout()
        self.actions = {}

        def action(key, text, shortcut, slot, icon):
            a = QAction(self.style().standardIcon(icon), text, self)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setToolTip(f"{text} ({shortcut})")
            a.triggered.connect(slot)
            self.addAction(a)
            self.actions[key] = a
            button = QToolButton()
            button.setDefaultAction(a)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setIconSize(QSize(22, 22))
            transport.addWidget(button)
            return a

        action("first", "Initialisation", "Home", lambda: self.set_iteration(0), SP.SP_MediaSkipBackward)
        action("back", "Back one iteration", "Left", lambda: self.set_iteration(self.iteration - 1),
               SP.SP_MediaSeekBackward)
        action("play", "Play", "Space", self.toggle_play, SP.SP_MediaPlay)
        action("forward", "Forward one iteration", "Right", lambda: self.set_iteration(self.iteration + 1),
               SP.SP_MediaSeekForward)
        action("last", "Last iteration", "End", lambda: self.set_iteration(self.last), SP.SP_MediaSkipForward)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("The iteration every pane shows")
        self.slider.valueChanged.connect(self.set_iteration)
        transport.addWidget(self.slider, 1)
        self.iteration_label = QLabel()
        self.iteration_label.setMinimumWidth(self.iteration_label.fontMetrics().horizontalAdvance(
            "Iteration 00000 of 00000") + 8)
        transport.addWidget(self.iteration_label)

        self.status = QElidingLabel("")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        col = QVBoxLayout(self)
        col.setContentsMargins(8, 6, 8, 6)
        col.addLayout(top)
        col.addWidget(self.area, 1)
        col.addLayout(transport)
        col.addWidget(self.status)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._update_timeline()

    def _fit_to_screen(self):
        screen = self.screen()
        if screen is None:
            self.resize(*PREFERRED_SIZE)
            return
        avail = screen.availableGeometry()
        w = min(PREFERRED_SIZE[0], avail.width() - SCREEN_ALLOWANCE[0])
        h = min(PREFERRED_SIZE[1], avail.height() - SCREEN_ALLOWANCE[1])
        self.resize(w, h)
        self.move(avail.x() + (avail.width() - w) // 2, avail.y() + max(0, (avail.height() - h) // 2 - 12))

    # -- what is compared ------------------------------------------------------------------
    def names(self):
        """The algorithms shown, the always-shown one first."""
        return (self.first,) + tuple(n for n in self.optional if self.include[n].isChecked())

    @property
    def last(self):
        """The timeline's last iteration."""
        return last_iteration([self.states[n] for n in self.names() if n in self.states])

    @property
    def finished(self):
        names = self.names()
        return all(n in self.states and self.states[n].finished for n in names)

    @property
    def idle(self):
        """Every run at its end and the panes showing the iteration wanted (for tests)."""
        return (not self._calls and self.finished and self._shown_key is not None
                and self._shown_key == self._render_key())

    def _scenario(self):
        s = self.session
        if not len(s.points) or not len(s.centres):
            return None
        return s.scenario()

    def _on_session_changed(self):
        if self.isVisible():
            self._rebuild_timer.start()  # else when shown again (showEvent)

    def rebuild(self):
        """Start the comparison again from the session's points, centres and settings (nothing
        happens when none of them changed)."""
        s = self.session
        key = (s.points, s.centres.tobytes(), s.settings, s.init_method, s.seed)
        old = self._scenario_key
        if old is not None and old[0] is key[0] and old[1:] == key[1:]:
            return
        self._scenario_key = key
        self._serial += 1
        self._comparison, self.states, self._shown_key = None, {}, None
        self._advancing = self._rendering = False
        self.pause()
        scenario = self._scenario()
        if scenario is None:
            text = ("Add points and place centres (or load a preset): every algorithm starts from the "
                    "session's centres")
            for pane in self.panes.values():
                pane.show_message("")
            self._set_status(text)
            self._update_timeline()
            return
        self._set_status("Running…")
        self._advancing = True
        self._call(self._on_advanced, start_job, scenario, self.names(), STEP_SLICE_S,
                   getattr(self.session, "projection", None))

    def _on_include_toggled(self, _on):
        self._grid = None
        self._regrid()
        self._advance()
        self._update_timeline()
        self._request_render()

    # -- the worker ------------------------------------------------------------------------
    def _call(self, handler, fn, *args, serial=True):
        """``fn(*args)`` on the worker; ``handler(result)`` on its answer, dropped when the comparison
        was replaced meanwhile (unless ``serial`` is False: an export is reported whatever happens)."""
        self._calls[self.session.client.call(fn, *args)] = (self._serial if serial else None, handler)

    def _on_client_called(self, generation, result, error):
        entry = self._calls.pop(generation, None)
        if entry is None:
            return  # someone else's call
        serial, handler = entry
        if serial is not None and serial != self._serial:
            return  # for a comparison since replaced
        if error is None:
            handler(result)
        elif serial is None:
            self._exports -= 1
            self._set_status(f"Cannot export: {error}")
            QMessageBox.warning(self, "Cannot export", str(error))
        else:
            self._advancing = self._rendering = False
            self._set_status(f"Cannot compare: {error}")

    def _advance(self):
        """Step the runs shown for one more slice (on the worker), unless that is under way."""
        if self._comparison is None or self._advancing or self.finished:
            return
        self._advancing = True
        self._call(self._on_advanced, advance_job, self._comparison, self.names())

    def _on_advanced(self, result):
        self._advancing = False
        self._comparison, states, self.view_rect = result
        self.states.update({s.name: s for s in states})
        if not self.finished:
            done = sum(len(s.history) - 1 for s in states)
            self._set_status(f"Running… {done:,} half-steps so far")
            self._advance()
            return
        failed = [s.error for s in states if s.error]
        slowest = max(states, key=lambda s: s.last_iteration)
        text = (f"{self._comparison.n_points:,} points, {self._comparison.n_clusters} initial centres "
                f"(the session's). The last pane stops after {slowest.last_iteration} iterations "
                f"({slowest.description.display_name}). Right / Left step every pane by one iteration.")
        self._set_status(" · ".join(failed + [text]))
        self._grid = None
        self._regrid()
        self._update_timeline()
        self._request_render()

    def _render_key(self):
        names = self.names()
        first = self.panes[names[0]].image
        return (self._serial, names, min(self.iteration, self.last), first.device_size(), self.session.display,
                first.devicePixelRatioF())

    def _request_render(self):
        """Ask the worker for the panes at the iteration wanted; one request at a time, the
        newest wish asked for when the answer comes (playing never piles requests up)."""
        if self._comparison is None or not self.finished or self._rendering:
            return
        key = self._render_key()
        if key == self._shown_key:
            return
        _, names, iteration, (w, h), display, ratio = key
        if w < 16 or h < 16:
            return
        self._rendering = True
        self._call(lambda images, key=key: self._on_rendered(key, images), render_job, self._comparison,
                   names, iteration, w, h, display, ratio)

    def _on_rendered(self, key, images):
        self._rendering = False
        _, names, iteration, *_ = key
        n_half_steps = max(self.states[n].index_at(self.last) for n in names)
        for name in names:
            self.panes[name].show_state(self.states[name], iteration, images.get(name), n_half_steps)
        self._shown_key = key
        self._request_render()  # the wish may have moved on meanwhile

    # -- layout ----------------------------------------------------------------------------
    def _on_pane_resized(self):
        self._resize_timer.start()

    def _regrid(self):
        """The panes in the grid that gives their points the most room."""
        names = self.names()
        aspect = 4 / 3
        if self.view_rect is not None:
            x0, x1, y0, y1 = self.view_rect
            aspect = (x1 - x0) / (y1 - y0)
        title_h = self.panes[names[0]].title_height()
        cols, _, beside = pane_grid(len(names), max(self.area.width(), 1), max(self.area.height(), 1),
                                       aspect, title_h)
        grid = (names, cols, beside)
        if grid == self._grid:
            return
        self._grid = grid
        for pane in self.panes.values():
            self.grid.removeWidget(pane)
            pane.hide()
        for i in range(self.grid.rowCount()):
            self.grid.setRowStretch(i, 0)
        for i in range(self.grid.columnCount()):
            self.grid.setColumnStretch(i, 0)
        for i, name in enumerate(names):
            r, c = divmod(i, cols)
            pane = self.panes[name]
            pane.set_cost_beside(beside)
            self.grid.addWidget(pane, r, c)
            self.grid.setRowStretch(r, 1)
            self.grid.setColumnStretch(c, 1)
            pane.show()
        self._resize_timer.start()

    # -- time ------------------------------------------------------------------------------
    def set_iteration(self, iteration):
        """Show every pane at ``iteration`` (clamped to the timeline)."""
        self.iteration = max(0, min(int(iteration), self.last))
        self._update_timeline()
        self._request_render()

    def _update_timeline(self):
        last = self.last
        self.slider.blockSignals(True)
        self.slider.setRange(0, last)
        self.slider.setValue(min(self.iteration, last))
        self.slider.blockSignals(False)
        ready = self.finished and self._comparison is not None
        for widget in [self.slider] + list(self.actions.values()):
            widget.setEnabled(ready)
        self.iteration_label.setText(f"Iteration {min(self.iteration, last)} of {last}" if ready else "")

    def toggle_play(self):
        if self._play_timer.isActive():
            self.pause()
        else:
            if self.iteration >= self.last:
                self.set_iteration(0)
            self._play_timer.start()
            self._set_play_icon(True)

    def pause(self):
        self._play_timer.stop()
        self._set_play_icon(False)

    @property
    def playing(self):
        return self._play_timer.isActive()

    def _set_play_icon(self, playing):
        a = self.actions.get("play")
        if a is not None:
            a.setText("Pause" if playing else "Play")
            a.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                                else QStyle.StandardPixmap.SP_MediaPlay))

    def _on_play_tick(self):
        if self.iteration >= self.last:
            self.pause()
        else:
            self.set_iteration(self.iteration + 1)

    # -- exports ---------------------------------------------------------------------------
    def export_size(self):
        return self.size_box.currentData()

    def _ask_path(self, title, name):
        path, _ = QFileDialog.getSaveFileName(self, title, name, "PNG image (*.png)")
        if path and not path.lower().endswith(".png"):
            path += ".png"
        return path

    def export_frame(self, path=None):
        """One PNG of every pane at the iteration shown (asks where when ``path`` is None)."""
        if self._comparison is None or not self.finished:
            return
        iteration = min(self.iteration, self.last)
        path = path or self._ask_path("Export frame", f"compare_iteration_{iteration}.png")
        if not path:
            return
        w, h = self.export_size()
        self._export(export_frame_job, self._comparison, self.names(), iteration, str(path), w, h,
                     self.session.display)

    def export_strip(self, path=None):
        """One PNG: a row per algorithm, a column per key iteration (asks where when ``path`` is None)."""
        if self._comparison is None or not self.finished:
            return
        path = path or self._ask_path("Export strip", "compare_strip.png")
        if not path:
            return
        w, h = self.export_size()
        self._export(export_strip_job, self._comparison, self.names(), strip_iterations(self.last), str(path),
                     w, h, self.session.display)

    def _export(self, job, *args):
        self._exports += 1
        self._set_status("Exporting…")
        self._call(self._on_export_written, job, *args, serial=False)

    def _on_export_written(self, path):
        self._exports -= 1
        self.last_export = path
        self._set_status(f"Saved {path}")

    # -- the rest ----------------------------------------------------------------------------
    def _set_status(self, text):
        self.status.setText(text)
        self.status.setToolTip(text)

    def showEvent(self, ev):
        super().showEvent(ev)
        self.rebuild()  # the session may have changed while hidden (nothing happens if not)

    def closeEvent(self, ev):
        """Closing hides the window (View → Compare shows it again): time stops, nothing is lost."""
        self.pause()
        self._rebuild_timer.stop()
        super().closeEvent(ev)
