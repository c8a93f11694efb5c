"""The main window: it composes the canvas, the cost plot, the control panel, the transport
bar, the actions (``actions.py``) and the session files (``session_files.py``)."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QMessageBox, QSplitter, QStyle, QVBoxLayout, QWidget)

from engine.formats import load_points, save_points_csv
from engine.session_file import SESSION_DIM

from .actions import TOOL_HINTS, build_actions, build_menus, build_toolbar, sync_display_actions
from .canvas import Canvas
from .controls import ControlPanel
from .cost_plot import CostPlot
from .export_dialog import ExportController, ExportDialog, write_labels_csv
from .player import Player
from .session_files import SessionFiles
from .transport import TransportBar

STATUS_MS = 8000  # how long a status message stays
PRESENTATION_SCALE, PRESENTATION_FONT_PT, NORMAL_FONT_PT = 1.6, 14.0, 10.0


class MainWindow(QMainWindow):
    def __init__(self, session):
        super().__init__()
        self.session = session
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.player = Player(session, self)
        self.canvas = Canvas(session)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.setToolTip("")
        self.cost_plot = CostPlot(session)
        self.caption = QLabel()
        self.caption.setObjectName("caption")
        self.caption.setToolTip("The current half-step in words, with its objective")
        self.canvas.sigCaption.connect(self.caption.setText)
        self.caption.setText(self.canvas.caption)
        self.files = SessionFiles(session, self, self.view_range, self.apply_session)
        self.files.sigPathChanged.connect(self._update_title)
        self.files.sigStatus.connect(self.show_status)
        self.action_map = build_actions(self)
        self.transport = TransportBar(session, self.player, self.action_map)
        self.controls = ControlPanel(session, self.action_map)
        self._lay_out()
        self.recent_menu = build_menus(self, self.action_map)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        build_toolbar(self, self.action_map)
        self._style_caption(False)
        self.state_label = QLabel()
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().showMessage(TOOL_HINTS["points"])
        session.sigMessage.connect(self.show_status)
        self.canvas.sigHint.connect(self.show_status)
        session.sigStepChanged.connect(self._on_session_step)
        session.undo_stack.indexChanged.connect(self._on_session_edit)
        self.player.sigPlayingChanged.connect(self._on_player_playing)
        session.sigModifiedChanged.connect(self.setWindowModified)
        self.exporter = ExportController(self)
        self._update_title()
        self.canvas.setFocus()

    def _lay_out(self):
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
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split, 1)
        col.addWidget(self.transport)
        self.setCentralWidget(central)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controlsDock")
        dock.setWidget(self.controls)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    # -- slots -----------------------------------------------------------------
    def show_status(self, text):
        self.statusBar().showMessage(text, STATUS_MS)

    def set_tool(self, tool):
        self.canvas.tool = tool
        self.statusBar().showMessage(TOOL_HINTS[tool])

    def set_presentation(self, on):
        self.session.set_display("marker_scale", PRESENTATION_SCALE if on else 1.0)
        font = QApplication.font()
        font.setPointSizeF(PRESENTATION_FONT_PT if on else NORMAL_FONT_PT)
        QApplication.setFont(font)
        self._style_caption(on)

    def _style_caption(self, large):
        self.caption.setStyleSheet(
            "QLabel#caption { background: white; color: #1a1a1a; padding: 6px 14px;"
            f" font-size: {24 if large else 17}pt; font-weight: 600; }}")

    def _on_session_edit(self, *_):
        self.player.pause()  # an edit restarts the run: stop rather than race it

    def _on_player_playing(self, playing):
        a = self.action_map["play"]
        a.setText("Pause" if playing else "Play")
        a.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                            else QStyle.StandardPixmap.SP_MediaPlay))

    def _on_session_step(self, index):
        s = self.session
        self.state_label.setText(f"N = {len(s.points):,}   K = {len(s.centres)}   "
                                 f"half-step {index}")

    # -- sessions ----------------------------------------------------------------
    def _update_title(self):
        self.setWindowTitle(f"{self.files.title}[*] — ClusterLab")
        self.setWindowModified(self.session.modified)

    def view_range(self):
        (x0, x1), (y0, y1) = self.canvas.viewbox.viewRange()
        return (float(x0), float(x1), float(y0), float(y1))

    def apply_session(self, data):
        """Show a loaded session: its data, its display options and its view."""
        self.session.load_data(data)
        sync_display_actions(self.action_map, self.session.display)
        self.action_map["presentation"].setChecked(self.session.display.marker_scale > 1)
        if data.view is not None:
            x0, x1, y0, y1 = data.view
            self.canvas.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        else:
            self.canvas.fit_to_data()

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        recent = self.files.recent()
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.files.open(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

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
        self.session.replace_points(X[:, :SESSION_DIM], f"Import {Path(path).name}")
        self.canvas.fit_to_data()
        text = f"Imported {len(X):,} points from {Path(path).name}"
        if X.shape[1] > SESSION_DIM:
            # the window clusters the plane; say what was left out (run --data uses every column)
            dropped = X.shape[1] - SESSION_DIM
            text += (f": the window shows and clusters the first {SESSION_DIM} columns, "
                     f"{dropped} more column{'s' if dropped > 1 else ''} left out")
            QMessageBox.information(self, "Columns left out", text + ".")
        self.show_status(text)

    def export_points(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export points", "points.csv", "CSV (*.csv)")
        if path:
            try:
                save_points_csv(path, self.session.points)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Cannot save", f"{path}: {getattr(exc, 'strerror', None) or exc}")

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
                    self.files.open(path)
                else:
                    self.import_points(path)
                break

    def closeEvent(self, ev):
        self.player.pause()
        if not self.files.maybe_save():
            ev.ignore()
            return
        self.files.close()  # saved or deliberately discarded: the recovery copy goes
        self.session.close()
        super().closeEvent(ev)
