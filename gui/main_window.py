"""The main window: canvas over cost plot, control panel, transport bar, menus and shortcuts."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QMessageBox, QSplitter, QStyle, QToolBar, QVBoxLayout, QWidget)

from engine.formats import load_points, save_points_csv

from .canvas import Canvas
from .controls import ControlPanel
from .cost_plot import CostPlot
from .player import Player
from .transport import TransportBar

TOOL_HINTS = {
    "points": "Point tool: click to add a point, drag to move it, right-click to remove it, "
              "Shift+drag to select and Delete. Drag a centre to restart from there. Ctrl+Z undoes.",
    "centres": "Centre tool: click to place an initial centre (K = centres placed), drag to move, "
               "right-click to remove.",
}


class MainWindow(QMainWindow):
    def __init__(self, session):
        super().__init__()
        self.session = session
        self.setWindowTitle("ClusterLab — k-means, soft k-means and EM, one half-step at a time")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.player = Player(session, self)
        self.actions = {}
        self._make_actions()
        self.canvas = Canvas(session)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.setToolTip("")
        self.cost_plot = CostPlot(session)
        self.cost_plot.setToolTip("The objective after every half-step; click a point to jump there")
        self.caption = QLabel()
        self.caption.setObjectName("caption")
        self.caption.setToolTip("The current half-step in words, with its objective")
        self.canvas.sigCaption.connect(self.caption.setText)
        self.caption.setText(self.canvas.caption)
        canvas_box = QWidget()
        box = QVBoxLayout(canvas_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.caption)
        box.addWidget(self.canvas, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(canvas_box)
        split.addWidget(self.cost_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([640, 210])
        self.transport = TransportBar(session, self.player, self.actions)
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split, 1)
        col.addWidget(self.transport)
        self.setCentralWidget(central)
        self.controls = ControlPanel(session, self.actions)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controlsDock")
        dock.setWidget(self.controls)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self._make_menus()
        self._make_toolbar()
        self._style_caption(False)
        self.state_label = QLabel()
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().showMessage(TOOL_HINTS["points"])
        session.sigMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.canvas.sigHint.connect(lambda text: self.statusBar().showMessage(text, 8000))
        session.sigStepChanged.connect(self._on_session_step)
        session.undo_stack.indexChanged.connect(self._on_session_edit)
        self.player.sigPlayingChanged.connect(self._on_player_playing)
        self.canvas.setFocus()

    # -- actions ---------------------------------------------------------------
    def _action(self, key, text, slot=None, shortcut=None, tip=None, icon=None, checkable=False,
                checked=False):
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        tip = tip or text.replace("&", "")
        a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
        a.setStatusTip(tip)
        a.setCheckable(checkable)
        if checkable:
            a.setChecked(checked)
            if slot:
                a.toggled.connect(slot)
        elif slot:
            a.triggered.connect(slot)
        self.addAction(a)
        self.actions[key] = a
        return a

    def _make_actions(self):
        s, P, SP = self.session, self.player, QStyle.StandardPixmap
        self._action("reset", "Reset", s.reset, "Home", "Back to the initialisation", SP.SP_MediaSkipBackward)
        self._action("iteration_back", "Back one iteration", lambda: s.step_iteration(-1), "Shift+Left",
                     icon=SP.SP_MediaSeekBackward)
        self._action("step_back", "Back one half-step", lambda: s.step(-1), "Left",
                     icon=SP.SP_ArrowLeft)
        self._action("play", "Play", P.toggle, "Space", "Play / pause", SP.SP_MediaPlay)
        self._action("step_forward", "Forward one half-step", lambda: s.step(1), "Right",
                     icon=SP.SP_ArrowRight)
        self._action("iteration_forward", "Forward one iteration", lambda: s.step_iteration(1),
                     "Shift+Right", icon=SP.SP_MediaSeekForward)
        self._action("run_to_end", "Run to convergence", s.run_to_end, "End",
                     icon=SP.SP_MediaSkipForward)
        undo = s.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = s.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
        for key, a in (("undo", undo), ("redo", redo)):
            self.addAction(a)
            self.actions[key] = a
        tools = QActionGroup(self)
        for key, text, shortcut in (("points", "&Point tool", "P"), ("centres", "&Centre tool", "C")):
            a = self._action(f"tool_{key}", text, None, shortcut, TOOL_HINTS[key].split(":")[0] + ": "
                             + TOOL_HINTS[key].split(": ", 1)[1].split(".")[0], checkable=True,
                             checked=key == "points")
            a.toggled.connect(lambda on, k=key: on and self._set_tool(k))
            tools.addAction(a)
        d = s.display
        for key, text, tip, option in (
                ("show_field", "Voronoi / responsibility &field", "Light background: the nearest "
                 "centre (k-means) or the responsibilities everywhere (soft k-means, EM)", "field"),
                ("show_lines", "&Lines to centres", "A line from each point to its most "
                 "responsible centre (up to 20,000 points)", "lines"),
                ("show_trails", "Centre &trails", "The path of each centre over the iterations", "trails"),
                ("show_ellipses", "Gaussian &ellipses", "EM: 1σ and 2σ ellipses; line width shows π_k",
                 "ellipses"),
                ("show_true_mixture", "True &mixture (drag to edit)", "The mixture points are sampled "
                 "from, dashed, with handles to drag its means and axes", "true_mixture")):
            self._action(key, text, lambda on, o=option: s.set_display(o, on), tip=tip,
                         checkable=True, checked=bool(d[option]))
        self._action("presentation", "&Presentation mode (large)", self._set_presentation, "F5",
                     "Thick markers and large fonts for a projector", checkable=True)
        self._action("fit", "&Fit view to data", self.canvas_fit, "F", "Zoom to show every point")
        self._action("import", "&Import points…", self.import_points, QKeySequence.StandardKey.Open,
                     "Load points from a CSV (two numeric columns, optional header) or .npy file")
        self._action("export_points", "&Export points as CSV…", self.export_points,
                     tip="Save the points as CSV")
        self._action("clear_points", "Clear &points", s.clear_points, tip="Remove every point")
        self._action("delete_selection", "&Delete selected points", lambda: self.canvas.delete_selection(),
                     QKeySequence.StandardKey.Delete, "Remove the points selected with Shift+drag")
        self._action("clear_centres", "Clear &centres", s.clear_centres, tip="Remove every centre")
        self._action("quit", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self._action("shortcuts", "&Keyboard shortcuts", self.show_shortcuts)
        self._action("about", "&About ClusterLab", self.show_about)

    def _make_menus(self):
        a, bar = self.actions, self.menuBar()
        m = bar.addMenu("&File")
        for key in ("import", "export_points", None, "quit"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = bar.addMenu("&Edit")
        for key in ("undo", "redo", None, "tool_points", "tool_centres", None, "delete_selection",
                    "clear_points", "clear_centres"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = bar.addMenu("&View")
        for key in ("show_field", "show_lines", "show_trails", "show_ellipses", "show_true_mixture",
                    None, "presentation", "fit"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = bar.addMenu("&Run")
        for key in ("play", None, "step_forward", "step_back", "iteration_forward", "iteration_back",
                    None, "reset", "run_to_end"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = bar.addMenu("&Help")
        m.addAction(a["shortcuts"])
        m.addAction(a["about"])

    def _make_toolbar(self):
        tb = QToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for key in ("tool_points", "tool_centres", None, "undo", "redo", None, "import", "fit",
                    None, "show_field", "show_ellipses", "presentation"):
            tb.addSeparator() if key is None else tb.addAction(self.actions[key])
        self.addToolBar(tb)

    # -- slots -----------------------------------------------------------------
    def _set_tool(self, tool):
        self.canvas.tool = tool
        self.statusBar().showMessage(TOOL_HINTS[tool])

    def _set_presentation(self, on):
        self.session.set_display("marker_scale", 1.6 if on else 1.0)
        font = QApplication.font()
        font.setPointSizeF(14.0 if on else 10.0)
        QApplication.setFont(font)
        self._style_caption(on)

    def _style_caption(self, large):
        self.caption.setStyleSheet(
            "QLabel#caption { background: white; color: #1a1a1a; padding: 6px 14px;"
            f" font-size: {24 if large else 17}pt; font-weight: 600; }}")

    def _on_session_edit(self, *_):
        self.player.pause()  # an edit restarts the run: stop rather than race it

    def _on_player_playing(self, playing):
        a = self.actions["play"]
        a.setText("Pause" if playing else "Play")
        a.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                            else QStyle.StandardPixmap.SP_MediaPlay))

    def _on_session_step(self, index):
        s = self.session
        self.state_label.setText(f"N = {len(s.points):,}   K = {len(s.centres)}   "
                                 f"half-step {index}")

    def canvas_fit(self):
        self.canvas.fit_to_data()

    def import_points(self, path=None):
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import points", "",
                                                  "Points (*.csv *.npy);;All files (*)")
            if not path:
                return
        try:
            X = load_points(path)
        except ValueError as exc:
            QMessageBox.warning(self, "Cannot import points", str(exc))
            return
        self.session.set_points(X[:, :2], f"Import {Path(path).name}")
        self.canvas.fit_to_data()
        self.statusBar().showMessage(f"Imported {len(X):,} points from {Path(path).name}", 8000)

    def export_points(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export points", "points.csv", "CSV (*.csv)")
        if path:
            try:
                save_points_csv(path, self.session.points)
            except OSError as exc:
                QMessageBox.warning(self, "Cannot save", f"{path}: {exc.strerror}")

    def show_shortcuts(self):
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Space\tplay / pause\nRight / Left\tone half-step\nShift+Right / Left\tone iteration\n"
            "Home\treset to the initialisation\nEnd\trun to convergence\nP / C\tpoint / centre tool\n"
            "Ctrl+Z / Ctrl+Shift+Z\tundo / redo\nF\tfit view to data\nF5\tpresentation mode"))

    def show_about(self):
        QMessageBox.about(self, "About ClusterLab",
                          "ClusterLab makes k-means, soft k-means and EM for Gaussian mixtures "
                          "visible, one half-step at a time.")

    # -- drag and drop -----------------------------------------------------------
    def dragEnterEvent(self, ev):
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev):
        for url in ev.mimeData().urls():
            if url.isLocalFile():
                self.import_points(url.toLocalFile())
                break

    def closeEvent(self, ev):
        self.player.pause()
        self.session.close()
        super().closeEvent(ev)
