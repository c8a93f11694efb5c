"""Image mode's window: pixels as data, the lecture's vector quantisation and segmentation.

It composes the original and the quantised image side by side, the palette,
the pixel cloud and the cost plot over one ``ImageSession``; the transport bar,
the player and the cost plot are the point window's own, working on that
session.  Open an image with File ▸ Open image…, by dropping it here, or with
``python main.py --image photo.jpg``.
"""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from .caption import CaptionLabel
from .cost_plot import CostPlot
from .image_cloud import CloudCanvas
from .image_controls import ImageControls
from .image_session import SAMPLE_IMAGE, ImageSession
from .image_view import ImagePanel, PaletteView
from .player import Player
from .transport import TransportBar

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff);;All files (*)"
PREFERRED_SIZE = (1400, 900)
STATUS_MS = 8000
CAPTION_PT = 15


def is_image_path(path):
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


class ImageWindow(QMainWindow):
    def __init__(self, session=None, parent=None):
        super().__init__(parent)
        if parent is not None:
            self.setWindowFlag(Qt.WindowType.Window)  # its own window, closed with the one that opened it
        self.session = session if session is not None else ImageSession()
        s = self.session
        self._fit_to_screen()
        self.setAcceptDrops(True)
        self.player = Player(s, self)
        self.original = ImagePanel("Original")
        self.quantised = ImagePanel("Quantised")
        self.palette = PaletteView()
        self.cloud = CloudCanvas(s)
        self.cloud.sigCentreDragged.connect(self.player.pause)
        self.cost_plot = CostPlot(s)
        self.caption = CaptionLabel(CAPTION_PT, (5, 12))
        self.actions_by_key = self._build_actions()
        self.transport = TransportBar(s, self.player, self.actions_by_key)
        self.controls = ImageControls(s, self)
        self._lay_out()
        self._build_menus()
        s.sigFrameChanged.connect(self._on_session_frame)
        s.sigStepChanged.connect(self._update_caption)
        s.sigHistoryChanged.connect(self._update_caption)
        s.sigLoading.connect(self._update_caption)
        s.sigImageChanged.connect(self._on_session_image)
        s.sigMessage.connect(self.show_status)
        s.sigLoadFailed.connect(self._on_session_load_failed)
        s.sigCentresChanged.connect(self.player.pause)
        self._update_caption()
        self._update_title()

    # -- layout --------------------------------------------------------------------------
    def _fit_to_screen(self):
        screen = self.screen()
        if screen is None:
            self.resize(*PREFERRED_SIZE)
            return
        avail = screen.availableGeometry()
        w, h = min(PREFERRED_SIZE[0], avail.width() - 16), min(PREFERRED_SIZE[1], avail.height() - 48)
        self.resize(w, h)
        self.move(avail.x() + max(0, (avail.width() - w) // 2), avail.y() + max(0, (avail.height() - h) // 2))

    def _lay_out(self):
        pictures = QWidget()
        row = QHBoxLayout(pictures)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.original)
        row.addWidget(self.quantised)
        top = QWidget()
        col = QVBoxLayout(top)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(pictures, 1)
        col.addWidget(self.palette)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.cloud)
        bottom.addWidget(self.cost_plot)
        bottom.setSizes([450, 550])  # the cost plot keeps room for its legend beside it
        bottom.setChildrenCollapsible(False)
        self.cloud.setMinimumSize(160, 120)
        self.cost_plot.setMinimumSize(160, 80)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.splitter = split
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.caption.bar)
        col.addWidget(split, 1)
        col.addWidget(self.transport)
        self.setCentralWidget(central)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("imageControlsDock")
        dock.setWidget(self.controls)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.dock = dock

    def _build_actions(self):
        s, SP, actions = self.session, QStyle.StandardPixmap, {}

        def add(key, text, slot, shortcut=None, icon=None, tip=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if icon is not None:
                a.setIcon(self.style().standardIcon(icon))
            tip = tip or text.replace("&", "")
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
            a.triggered.connect(slot)
            self.addAction(a)
            actions[key] = a
            return a

        add("reset", "Reset", s.reset, "Home", SP.SP_MediaSkipBackward, "Back to the initialisation")
        add("iteration_back", "Back one iteration", lambda: s.step_iteration(-1), "Shift+Left",
            SP.SP_MediaSeekBackward)
        add("step_back", "Back one half-step", lambda: s.step(-1), "Left", SP.SP_ArrowLeft)
        add("play", "Play", self.player.toggle, "Space", SP.SP_MediaPlay, "Play / pause")
        add("step_forward", "Forward one half-step", lambda: s.step(1), "Right", SP.SP_ArrowRight)
        add("iteration_forward", "Forward one iteration", lambda: s.step_iteration(1), "Shift+Right",
            SP.SP_MediaSeekForward)
        add("run_to_end", "Run to convergence", s.run_to_end, "End", SP.SP_MediaSkipForward)
        add("stop", "Stop", lambda: (self.player.pause(), s.stop()), "Escape",
            tip="Stop playing or running to the end, at the half-step on screen")
        add("open", "&Open image…", lambda: self.open_image_dialog(), QKeySequence.StandardKey.Open)
        add("sample", "&Sample image", lambda: self.open_image(None), tip="The shipped photo (CC0)")
        add("export_image", "Export &quantised image (PNG)…", lambda: self.export_quantised_dialog(), "Ctrl+E")
        add("export_strip", "Export s&trip K = 2, 3, 10…", lambda: self.export_strip_dialog())
        add("close", "&Close", self.close, QKeySequence.StandardKey.Close)
        self.player.sigPlayingChanged.connect(self._on_player_playing)
        return actions

    def _build_menus(self):
        a = self.actions_by_key
        file_menu = self.menuBar().addMenu("&File")
        for key in ("open", "sample", None, "export_image", "export_strip", None, "close"):
            file_menu.addSeparator() if key is None else file_menu.addAction(a[key])
        run_menu = self.menuBar().addMenu("&Run")
        for key in ("play", None, "step_forward", "step_back", "iteration_forward", "iteration_back", None,
                    "reset", "run_to_end", "stop"):
            run_menu.addSeparator() if key is None else run_menu.addAction(a[key])
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.dock.toggleViewAction())

    # -- opening ----------------------------------------------------------------------------
    def open_image(self, path):
        """Open ``path`` (None: the sample photo); a file that cannot be read gets one dialog."""
        self.player.pause()
        self.session.open_image(path)

    def open_image_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open image", str(SAMPLE_IMAGE), IMAGE_FILTER)
        if path:
            self.open_image(path)

    def _on_session_load_failed(self, path, why):
        QMessageBox.warning(self, "Cannot open image", why)

    def dragEnterEvent(self, ev):
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev):
        for url in ev.mimeData().urls():
            if url.isLocalFile():
                self.open_image(url.toLocalFile())
                break

    # -- exports --------------------------------------------------------------------------
    def export_quantised_dialog(self):
        if self.session.frame is None:
            return
        stem = Path(self.session.info.path).stem
        path, _ = QFileDialog.getSaveFileName(self, "Export quantised image",
                                              f"{stem}-k{len(self.session.centres)}.png", "PNG image (*.png)")
        if path:
            self.export_quantised(path)

    def export_quantised(self, path):
        self.show_status(f"Writing {Path(path).name} (every pixel)…")
        self.session.export_quantised(path, done=self._on_exported)

    def export_strip_dialog(self):
        if self.session.info is None:
            return
        stem = Path(self.session.info.path).stem
        path, _ = QFileDialog.getSaveFileName(self, "Export strip", f"{stem}-strip.png", "PNG image (*.png)")
        if path:
            self.export_strip(path)

    def export_strip(self, path, ks=(2, 3, 10)):
        self.show_status(f"Running K = {', '.join(map(str, ks))} to the end for {Path(path).name}…")
        self.session.export_strip(path, ks, done=self._on_exported)

    def _on_exported(self, path, error):
        if error is not None:
            QMessageBox.warning(self, "Cannot export", str(error))
        else:
            self.show_status(f"Wrote {path}")

    # -- following the session -------------------------------------------------------------
    def show_status(self, text):
        self.statusBar().showMessage(text, STATUS_MS)

    def _update_title(self):
        info = self.session.info
        self.setWindowTitle(f"{info.name if info else 'Image'} — ClusterLab image mode")

    def _update_caption(self, *_):
        self.caption.setText(self.session.state_text())

    def _on_player_playing(self, playing):
        a = self.actions_by_key["play"]
        a.setText("Pause" if playing else "Play")
        a.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if playing
                                            else QStyle.StandardPixmap.SP_MediaPlay))

    def _on_session_image(self):
        self._update_title()
        self._update_caption()

    def _on_session_frame(self):
        s, frame = self.session, self.session.frame
        info = s.info
        K = len(frame.palette)
        what = "segments" if s.features.space.segmenting else "colours"
        self.original.set_image(frame.original, f"Original: {info.width:,} × {info.height:,}")
        if frame.quantised is None:
            self.quantised.set_image(None, f"Quantised: K = {K} {what}",
                                     "Half-step 0: the initial centres, no pixel assigned yet.\n"
                                     "Press → for the first assignment step.")
        else:
            self.quantised.set_image(frame.quantised, f"Each pixel → its centre: K = {K} {what}")
        self.palette.set_palette(frame.palette, frame.counts, info.n_pixels)
        self._update_caption()

    def closeEvent(self, ev):
        self.player.pause()
        self.session.close()
        super().closeEvent(ev)


def open_image_window(path=None, session=None, parent=None):
    """A shown image window opening ``path`` (None: the sample photo)."""
    window = ImageWindow(session, parent)
    window.show()
    window.open_image(path)
    return window


def run_image_mode(app, args):
    """``python main.py --image IMAGE [--max-pixels P] [--k K] [--algorithm ...] [--init ...] [--play]``: the
    image window with the command line's settings; ValueError for flags that do not apply."""
    import os

    from PySide6.QtCore import QTimer

    from engine.command_line import settings_from_args
    from engine.image import DEFAULT_MAX_PIXELS, image_size

    from .worker import warm_up_then_freeze
    for flag, value in (("a session file", getattr(args, "session", None)), ("--data", args.data),
                        ("--sample", args.sample), ("--centres", args.centres), ("--weights", args.weights),
                        ("--covariances", args.covariances)):
        if value:
            raise ValueError(f"--image takes no {flag}: the points are the image's pixels")
    max_pixels = DEFAULT_MAX_PIXELS if args.max_pixels is None else args.max_pixels
    image_size(args.image, max_pixels)  # a missing, empty or non-image file, or a bomb: exit 2 at once
    session = ImageSession()
    session.max_pixels = max_pixels
    warm_up_then_freeze(session.client)  # compile / load kernels off the UI thread
    session.algorithm, session.settings = args.algorithm, settings_from_args(args)
    session.init_method, session.seed = args.init, args.seed
    if args.k is not None:
        session.n_clusters = args.k
    window = open_image_window(args.image, session)
    if getattr(args, "play", False):
        def play_once_loaded():
            session.sigFrameChanged.disconnect(play_once_loaded)
            window.player.play()
        session.sigFrameChanged.connect(play_once_loaded)
    quit_after = os.environ.get("CLUSTERLAB_QUIT_AFTER_MS")
    if quit_after:  # smoke tests of the real entry point: report and leave
        def report():
            info = session.info
            print(f"image window: {window.windowTitle()}; "
                  f"{info.n_pixels if info else 0} pixels, {len(session.centres)} centres, "
                  f"{session.algorithm}, half-step {session.index}", flush=True)
            window.close()
        QTimer.singleShot(int(quit_after), report)
    return app.exec()
