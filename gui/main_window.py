"""The main window: canvas over cost plot, control panel, transport bar, menus and shortcuts."""

from pathlib import Path

import os
import sys
import threading

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QMessageBox, QSplitter, QStyle, QToolBar, QVBoxLayout, QWidget)

from engine.formats import load_points, save_points_csv
from engine.session_file import load_session, save_session

from . import recovery
from .canvas import Canvas
from .controls import ControlPanel
from .cost_plot import CostPlot
from .export_dialog import ExportController, ExportDialog, write_labels_csv
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
        self.path = None  # the session file, once saved or opened
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
        session.sigModifiedChanged.connect(self.setWindowModified)
        self.exporter = ExportController(self)
        self._autosaved_serial = 0
        self._autosave_thread = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(os.environ.get("CLUSTERLAB_AUTOSAVE_MS", "2000")))
        self.autosave_timer.timeout.connect(self._on_autosave_timer)
        self.autosave_timer.start()
        self._update_title()
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
        self._action("new", "&New session", self.new_session, QKeySequence.StandardKey.New,
                     "Start from an empty plane")
        self._action("open", "&Open session…", lambda: self.open_session(), QKeySequence.StandardKey.Open,
                     "Open a saved session (.json)")
        self._action("save", "&Save session", self.save, QKeySequence.StandardKey.Save,
                     "Save points, centres, mixture, settings, view and display options")
        self._action("save_as", "Save session &as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self._action("import", "&Import points…", self.import_points, "Ctrl+I",
                     "Load points from a CSV (two numeric columns, optional header) or .npy file")
        self._action("export_points", "Export &points as CSV…", self.export_points,
                     tip="Save the points as CSV")
        self._action("export_labels", "Export final &labels and responsibilities as CSV…",
                     self.export_labels, tip="Run to convergence and save x, y, label, r_1..r_K")
        self._action("export_frame", "Export current &frame…", lambda: self.export_dialog(False), "Ctrl+E",
                     "PNG or SVG of the current half-step, for a slide")
        self._action("export_run", "Export &run…", lambda: self.export_dialog(True), "Ctrl+Shift+E",
                     "Every half-step or iteration as numbered frames, a GIF, an MP4 or a slide strip")
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
        for key in ("new", "open"):
            m.addAction(a[key])
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        for key in ("save", "save_as", None, "import", None, "export_frame", "export_run", "export_points",
                    "export_labels", None, "quit"):
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
        for key in ("open", "save", None, "tool_points", "tool_centres", None, "undo", "redo", None,
                    "export_frame", "fit",
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

    # -- sessions ----------------------------------------------------------------
    def _update_title(self):
        name = os.path.basename(self.path) if self.path else "untitled"
        self.setWindowTitle(f"{name}[*] — ClusterLab")
        self.setWindowModified(self.session.modified)

    def view_range(self):
        (x0, x1), (y0, y1) = self.canvas.viewbox.viewRange()
        return (float(x0), float(x1), float(y0), float(y1))

    def maybe_save(self):
        """Ask before unsaved work is thrown away; False means the user cancelled."""
        if not self.session.modified:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", "Save the changes to this session first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_session(self):
        if not self.maybe_save():
            return
        from engine.session_file import SessionData
        import numpy as np
        self.session.load_data(SessionData(points=np.zeros((0, 2)), centres=np.zeros((0, 2))))
        self.session.mark_saved()
        self._clear_recovery()
        self.path = None
        self._update_title()

    def open_session(self, path=None):
        if not self.maybe_save():
            return False
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "ClusterLab session (*.json)")
            if not path:
                return False
        try:
            data = load_session(path)
        except ValueError as exc:
            QMessageBox.warning(self, "Cannot open session", str(exc))
            return False
        self.apply_session(data)
        self.session.mark_saved()
        self._clear_recovery()
        self.path = str(path)
        self._remember(self.path)
        self._update_title()
        self.statusBar().showMessage(f"Opened {os.path.basename(path)}", 8000)
        return True

    def apply_session(self, data):
        self.session.load_data(data)
        for key, option in (("show_field", "field"), ("show_lines", "lines"), ("show_trails", "trails"),
                            ("show_ellipses", "ellipses"), ("show_true_mixture", "true_mixture")):
            self.actions[key].setChecked(bool(self.session.display[option]))
        self.actions["presentation"].setChecked(self.session.display["marker_scale"] > 1)
        if data.view is not None:
            x0, x1, y0, y1 = data.view
            self.canvas.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        else:
            self.canvas.fit_to_data()

    def save(self):
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path=None):
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.json",
                                                  "ClusterLab session (*.json)")
            if not path:
                return False
        try:
            save_session(path, self.session.to_data(self.view_range()))
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Cannot save", f"{path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self.path = str(path)
        self.session.mark_saved()
        self._clear_recovery()
        self._remember(self.path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {os.path.basename(path)}", 8000)
        return True

    def _remember(self, path):
        settings = QSettings()
        recent = [p for p in (settings.value("recent", []) or []) if p != path]
        settings.setValue("recent", [path] + recent[:7])

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        recent = QSettings().value("recent", []) or []
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_session(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _on_autosave_timer(self):
        s = self.session
        busy = self._autosave_thread is not None and self._autosave_thread.is_alive()
        if s.modified and s.edit_serial != self._autosaved_serial and not busy:
            # Encoding and fsync take ~0.2 s at a million points: a thread does
            # them, the UI thread only takes the snapshot of the arrays.
            data, source = s.to_data(self.view_range()), self.path
            self._autosaved_serial = s.edit_serial
            self._autosave_thread = threading.Thread(target=self._write_recovery, args=(data, source),
                                                     name="clusterlab-autosave", daemon=True)
            self._autosave_thread.start()

    def _write_recovery(self, data, source):
        try:
            recovery.write_recovery(data, source)
        except OSError as exc:
            self._autosaved_serial = -1  # try again on the next tick
            print(f"ClusterLab: autosave failed: {exc.strerror}", file=sys.stderr)

    def _clear_recovery(self):
        """Work saved or discarded on purpose: no recovery copy, none still being written."""
        if self._autosave_thread is not None:
            self._autosave_thread.join()
        recovery.clear_recovery()

    def offer_recovery(self, ask=None):
        """On start: if unsaved work was left behind, offer to restore it."""
        found = recovery.read_recovery()
        if found is None:
            return False
        data, source, mtime = found
        import time
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime))
        ask = ask or (lambda text: QMessageBox.question(
            self, "Restore unsaved work?", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes)
        what = f"of {os.path.basename(source)} " if source else ""
        if ask(f"ClusterLab closed with unsaved work {what}(last autosaved {when}). Restore it?"):
            self.apply_session(data)
            self.path = source
            self.session._touch()  # restored work is still unsaved
            self._update_title()
            return True
        self._clear_recovery()
        return False

    # -- export ------------------------------------------------------------------
    def export_dialog(self, whole_run):
        if not len(self.session.points) or not len(self.session.centres):
            QMessageBox.information(self, "Nothing to export", "Add points and centres first.")
            return
        dialog = ExportDialog(self, whole_run, (self.canvas.width(), self.canvas.height()))
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        options = dialog.options(self.session, self.view_range())
        if whole_run:
            outputs = dialog.outputs()
            if len(outputs) == 1:
                QMessageBox.information(self, "Nothing to export", "Choose at least one output.")
                return
        else:
            path, chosen = QFileDialog.getSaveFileName(self, "Export frame", "frame.png",
                                                       "PNG image (*.png);;SVG drawing (*.svg)")
            if not path:
                return
            fmt = "svg" if path.lower().endswith(".svg") or "svg" in chosen.lower() else "png"
            outputs = {"frame": (path, fmt, self.session.index)}
        self.exporter.start(options, outputs)

    def export_labels(self):
        if not len(self.session.points) or not len(self.session.centres):
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export labels", "labels.csv", "CSV (*.csv)")
        if path:
            self.session.client.call(write_labels_csv, self.session.scenario(), path)

    def import_points(self, path=None):
        """Points from a CSV or .npy file (replacing the current ones, undoable)."""
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
                path = url.toLocalFile()
                if path.lower().endswith(".json"):
                    self.open_session(path)
                else:
                    self.import_points(path)
                break

    def closeEvent(self, ev):
        self.player.pause()
        if not self.maybe_save():
            ev.ignore()
            return
        self._clear_recovery()  # saved or deliberately discarded
        self.autosave_timer.stop()
        self.session.close()
        super().closeEvent(ev)
