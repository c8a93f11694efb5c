"""The main window: it composes the canvas, the cost plot, the control panel, the transport
bar, the actions (``actions.py``) and the session files (``session_files.py``)."""

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine.files import failure_text
from engine.formats import read_points_table, save_points_csv

from .actions import (
    TOOL_HINTS,
    build_actions,
    build_menus,
    build_toolbar,
    sync_display_actions,
)
from .canvas import Canvas
from .caption import CaptionLabel
from .controls import ControlPanel
from .cost_plot import CostPlot
from .export_dialog import ExportController, ExportDialog, write_labels_csv
from .image_window import is_image_path
from .loading import FileLoader
from .player import Player
from .session_files import SessionFiles
from .transport import WIDEST_HALF_STEP, TransportBar

STATUS_MS = 8000  # how long a status message stays
PRESENTATION_SCALE = 1.6  # marker_scale while presenting
CAPTION_PT, PRESENTATION_CAPTION_PT = 17, 28
PRESENTATION_AXIS_PT = 16  # tick numbers and axis labels while presenting
PREFERRED_SIZE = (1400, 900)
# room for a window manager's frame and title bar when the screen is smaller than we'd like
FRAME_ALLOWANCE = (16, 48)
HOLD_RECT_S = 2.0  # after presentation mode, how long the old rectangle is held against moves
CAPTION_PADDING = 14  # px left and right of the caption (its style sheet)


class MainWindow(QMainWindow):
    def __init__(self, session):
        super().__init__()
        self.session = session
        self._presenting = None  # while presenting: what to restore afterwards
        self._fit_pending = False  # fit again once the new data's first half-step is there
        self.cramped = self._fit_to_screen()
        self.setAcceptDrops(True)
        self.player = Player(session, self)
        self.loader = FileLoader(self)  # big files are read off the UI thread
        self.canvas = Canvas(session)
        self.player.follow_paints(self.canvas.scene_item.sigFramePainted)  # every half-step is seen
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.setToolTip("")
        self.cost_plot = CostPlot(session)
        self.caption = CaptionLabel(CAPTION_PT, (6, CAPTION_PADDING))
        self.canvas.sigCaption.connect(self._set_caption)
        self._set_caption(self.canvas.caption)
        self.files = SessionFiles(session, self, self.view_range, self.apply_session)
        self.files.sigPathChanged.connect(self._update_title)
        self.files.sigStatus.connect(self.show_status)
        self.action_map = build_actions(self)
        self.transport = TransportBar(session, self.player, self.action_map)
        self.controls = ControlPanel(session, self.action_map)
        self.controls.sigNewData.connect(self.fit_new_data)
        self._lay_out()
        self.recent_menu = build_menus(self, self.action_map)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.toolbar = build_toolbar(self, self.action_map)
        self._style_caption(False)
        self.state_label = QLabel()
        self._state_head = None  # the state label's text before the half-step, as last sized
        self.state_label.setToolTip("Points, clusters and the half-step on screen")
        # set apart from the messages on its left, which are elided before they reach it
        self.state_label.setStyleSheet("QLabel { border-left: 1px solid #999; padding-left: 8px; }")
        self.statusBar().addPermanentWidget(self.state_label)
        self._status(TOOL_HINTS["points"])
        session.sigMessage.connect(self.show_status)
        self.canvas.sigHint.connect(self.show_status)
        session.sigStepChanged.connect(self._on_session_step)
        session.sigFrameChanged.connect(self._on_session_frame)
        session.undo_stack.indexChanged.connect(self._on_session_edit)
        self.player.sigPlayingChanged.connect(self._on_player_playing)
        self.player.sigPlayingChanged.connect(self.canvas.set_draft)
        self.player.sigPlayingChanged.connect(self.cost_plot.set_playing)
        session.sigModifiedChanged.connect(self.setWindowModified)
        self.exporter = ExportController(self)
        self._update_title()
        self.canvas.setFocus()

    def _fit_to_screen(self):
        """Size the window to fit its screen's available area (a projector may be
        1024×768); True when it is smaller than it would like (open it maximised)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(*PREFERRED_SIZE)
            return False
        avail = screen.availableGeometry()
        room = (avail.width() - FRAME_ALLOWANCE[0], avail.height() - FRAME_ALLOWANCE[1])
        w, h = min(PREFERRED_SIZE[0], room[0]), min(PREFERRED_SIZE[1], room[1])
        self.resize(w, h)
        self.move(avail.x() + max(0, (room[0] - w) // 2), avail.y() + max(0, (room[1] - h) // 2))
        return (w, h) != PREFERRED_SIZE

    def _lay_out(self):
        canvas_box = QWidget()
        box = QVBoxLayout(canvas_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.caption.bar)
        box.addWidget(self.canvas, 1)
        self.canvas.setMinimumSize(200, 150)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("canvasCostSplitter")
        split.addWidget(canvas_box)
        split.addWidget(self.cost_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([640, 210])
        split.setChildrenCollapsible(False)
        self.splitter = split
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split, 1)
        col.addWidget(self.transport)
        self.setCentralWidget(central)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controlsDock")
        dock.setWidget(self.controls)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.dock = dock
        show = dock.toggleViewAction()  # checked exactly when the dock is shown
        show.setText("Show &controls")
        show.setShortcut(QKeySequence("Ctrl+Shift+K"))
        show.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        show.setToolTip("Show or hide the control panel (Ctrl+Shift+K)")
        show.setStatusTip("Show or hide the control panel")
        self.addAction(show)
        self.action_map["show_controls"] = show

    # -- slots -----------------------------------------------------------------
    def show_status(self, text):
        self._status(text, STATUS_MS)

    def _status(self, text, ms=0):
        """A status message elided to the room left of the state label (full text as its tooltip)."""
        bar = self.statusBar()
        room = bar.width() - self.state_label.sizeHint().width() - 40
        shown = bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 80))
        bar.setToolTip(text)
        bar.showMessage(shown, ms)
        self._status_shown = (text, shown, ms)

    def moveEvent(self, ev):
        super().moveEvent(ev)
        hold = getattr(self, "_hold_rect", None)
        if hold and time.monotonic() < hold[1]:
            QTimer.singleShot(0, lambda: self._restore_rect(hold[0]))

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        shown = getattr(self, "_status_shown", None)
        if shown and self.statusBar().currentMessage() == shown[1]:
            self._status(shown[0], shown[2])  # elide again for the new width

    def set_tool(self, tool):
        self.canvas.tool = tool
        self._status(TOOL_HINTS[tool])

    def _set_caption(self, text):
        self.caption.setText(text)

    def _style_caption(self, large):
        self.caption.set_point_size(PRESENTATION_CAPTION_PT if large else CAPTION_PT)

    # -- presentation mode ---------------------------------------------------------
    @property
    def presenting(self):
        return self._presenting is not None

    def _axes(self):
        return [plot.plotItem.getAxis(name) for plot in (self.canvas, self.cost_plot)
                for name in ("left", "bottom")]

    def set_presentation(self, on):
        """F5: full screen, only the canvas and the cost plot, large fonts and markers.

        Leaving restores exactly what was there: geometry and maximised state,
        dock and toolbar, splitter sizes, fonts and the marker scale.
        """
        if bool(on) == self.presenting:
            return
        if on:
            self._presenting = {
                "geometry": self.saveGeometry(), "state": self.saveState(), "rect": self.geometry(),
                "window_state": self.windowState(), "splitter": self.splitter.saveState(),
                "menu": self.menuBar().isVisible(), "status": self.statusBar().isVisible(),
                "transport": self.transport.isVisibleTo(self),
                "marker_scale": self.session.display.marker_scale,
                # pyqtgraph keeps the room the larger ticks took unless 10 px would be saved:
                # their text sizes are put back as they were, with the fonts
                "axes": [(a.style["tickFont"], dict(a.labelStyle), (a.textWidth, a.textHeight))
                         for a in self._axes()],
                "cost_text_pt": self.cost_plot.text_size,
                "focus": self.focusWidget()}
            for bar in (self.dock, self.toolbar, self.statusBar(), self.menuBar(), self.transport):
                bar.hide()
            self._style_caption(True)
            font = QFont(self.font())
            font.setPointSizeF(PRESENTATION_AXIS_PT)
            for axis in self._axes():
                axis.setTickFont(font)
                if axis.labelText:
                    axis.labelStyle = {**axis.labelStyle, "font-size": f"{PRESENTATION_AXIS_PT}pt"}
                    axis._updateLabel()
            self.cost_plot.set_text_size(PRESENTATION_AXIS_PT)
            self.session.set_display("marker_scale", max(PRESENTATION_SCALE, self.session.display.marker_scale),
                                     edit=False)  # presenting is no change to the lecture
            self.showFullScreen()
            # without a window manager (or with one that ignores the request) fill the screen ourselves
            QTimer.singleShot(150, self._fill_screen)
            self.canvas.setFocus()
        else:
            saved, self._presenting = self._presenting, None
            self.setWindowState(saved["window_state"])
            self.restoreGeometry(saved["geometry"])  # the state, and the normal size beneath
            self._restore_rect(saved)
            self.restoreState(saved["state"])
            self.menuBar().setVisible(saved["menu"])
            self.statusBar().setVisible(saved["status"])
            self.transport.setVisible(saved["transport"])
            self._style_caption(False)
            for axis, (tick_font, label_style, text_size) in zip(self._axes(), saved["axes"]):
                axis.setTickFont(tick_font)
                axis.textWidth, axis.textHeight = text_size
                if axis.labelText:
                    axis.labelStyle = label_style
                    axis._updateLabel()  # sizes the axis again, with the text sizes above
            self.cost_plot.set_text_size(saved["cost_text_pt"])
            self.session.set_display("marker_scale", saved["marker_scale"], edit=False)
            self.splitter.restoreState(saved["splitter"])
            # the splitter is laid out again once the window has its old size back
            QTimer.singleShot(0, lambda: self.splitter.restoreState(saved["splitter"]))
            # a window system may still move it as it leaves full screen: put it back (moveEvent)
            self._hold_rect = (saved, time.monotonic() + HOLD_RECT_S)
            if saved["focus"] is not None:
                saved["focus"].setFocus()
        action = self.action_map["presentation"]
        if action.isChecked() != self.presenting:
            action.setChecked(self.presenting)

    def _fill_screen(self):
        screen = self.screen()
        if self.presenting and screen is not None and self.geometry() != screen.geometry():
            self.setGeometry(screen.geometry())

    def _restore_rect(self, saved):
        """The window's exact old rectangle (restoreGeometry alone guesses a frame where
        no window manager draws one; where one does, the rectangle is already right)."""
        if not self.presenting and self.geometry() != saved["rect"]:
            self.setGeometry(saved["rect"])

    def leave_presentation(self):
        """Escape: back to the window as it was (no-op outside presentation mode)."""
        if self.presenting:
            self.set_presentation(False)

    # -- view ------------------------------------------------------------------------
    def fit_new_data(self):
        """New data (Load, Sample, Import, Open without a view): show all of it, and once
        the run's first half-step is there, its centres and ellipses too."""
        self.canvas.fit_to_data()
        self._fit_pending = True

    def _on_session_frame(self):
        if self._fit_pending and self.session.current is not None:
            self._fit_pending = False
            self.canvas.fit_to_data()

    def _on_session_edit(self, *_):
        self.player.pause()  # an edit restarts the run: stop rather than race it

    def _on_player_playing(self, playing):
        a = self.action_map["play"]
        a.setText("Pause" if playing else "Play")
        a.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                            else QStyle.StandardPixmap.SP_MediaPlay))

    def _on_session_step(self, index):
        s = self.session
        head = f"N = {len(s.points):,}   K = {len(s.centres)}   half-step "
        if head != self._state_head:
            # room for any half-step, fixed: a new number is then no new layout of the window
            self._state_head = head
            self.state_label.setText(head + WIDEST_HALF_STEP)
            self.state_label.setFixedSize(self.state_label.sizeHint())
        self.state_label.setText(f"{head}{index}")

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
        # presentation mode belongs to the window, not to the file: it stays as it is
        if data.view is not None:
            self._fit_pending = False
            x0, x1, y0, y1 = data.view
            self.canvas.viewbox.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        else:
            self.fit_new_data()

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
        if not self.exporter.start(options, outputs):
            self.show_status("An export is still running (Cancel is in the status bar)")

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
        if self.loader.in_background(path):  # a big file: the window stays live while it loads
            self.show_status(f"Reading {Path(path).name}…")
            self.loader.start(read_points_table, path, lambda table: self._imported(path, *table),
                              lambda exc: self._import_failed(path, exc))
            return
        try:
            X, names = read_points_table(path)
        except ValueError as exc:
            self._import_failed(path, exc)
            return
        self._imported(path, X, names)

    def open_image(self, path=None):
        """Image mode in its own window, on this window's engine worker (numba never on two threads)."""
        from .image_session import SAMPLE_IMAGE, ImageSession
        from .image_window import IMAGE_FILTER, open_image_window
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open image", str(SAMPLE_IMAGE), IMAGE_FILTER)
            if not path:
                return
        self.image_window = open_image_window(path, ImageSession(client=self.session.client), parent=self)

    def _import_failed(self, path, exc):
        self.show_status(f"Could not import {Path(path).name}")
        QMessageBox.warning(self, "Cannot import points", str(exc))

    def _imported(self, path, X, names=None):
        """Every column is kept and clustered; the plane shows two of them (the session's projection)."""
        self.session.replace_points(X, f"Import {Path(path).name}", names=names)
        self.fit_new_data()
        text = f"Imported {len(X):,} points from {Path(path).name}"
        if X.shape[1] > 2:
            text += (f" · {X.shape[1]} columns: showing {self.session.projection.describe()}; "
                     f"Display → Shown to change")
        self.show_status(text)

    def export_points(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export points", "points.csv", "CSV (*.csv)")
        if path:
            try:
                save_points_csv(path, self.session.points)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Cannot save", failure_text(path, exc))

    def show_shortcuts(self):
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Space\tplay / pause\nRight / Left\tone half-step\nShift+Right / Left\tone iteration\n"
            "Home\treset to the initialisation\nEnd\trun to convergence\nP / C\tpoint / centre tool\n"
            "Ctrl+Z / Ctrl+Shift+Z\tundo / redo\nF\tfit view to data\n"
            "F5\tpresentation mode (F5 or Escape leaves it)\nCtrl+Shift+K\tshow / hide the controls"))

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
                elif is_image_path(path):
                    self.open_image(path)
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
