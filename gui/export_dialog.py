"""Export from the window: the current frame, or a whole run, with progress and Cancel.

The rendering runs on the engine worker (the one thread allowed to run the
parallel kernels), so the window never freezes; a progress dialog follows it
and Cancel stops it between frames.
"""

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QProgressBar,
                               QPushButton, QSpinBox, QWidget)

from engine.settings import DEFAULT_FPS, DEFAULT_PANELS, FPS, PANELS, STRIP_COLS

from .deck import check_deck_path, export_deck
from .export import (ExportCancelled, ExportOptions, FrameRenderer, export_frames, export_gif,
                     export_mp4, export_strip, frame_indices, key_half_steps)


SIZES = (("1280 × 720", (1280, 720)), ("1920 × 1080 (Full HD)", (1920, 1080)),
         ("3840 × 2160 (4K)", (3840, 2160)), ("1024 × 768 (4:3)", (1024, 768)), ("custom", None))


class _Progress(QObject):
    """Carries progress from the worker thread to the dialog (queued signal)."""

    sigProgress = Signal(int, int)


def run_export_job(scenario, options, outputs, progress=None, cancel=None):
    """Build the run from the scenario and write ``outputs`` (on the worker thread).

    outputs: dict with any of frames=(folder, fmt), gif=(path, fps, loop), mp4=(path, fps),
    strip=(path, cols) (cols None: automatic), deck=path (.pptx or .pdf), frame=(path, fmt, index),
    every="half" | "iteration", panels=N (key half-steps in a strip or deck, default 8).
    """
    run = scenario.start().run()
    renderer = FrameRenderer(run, options)
    indices = frame_indices(run, outputs.get("every", "half"))
    written = []
    if "frame" in outputs:
        path, fmt, index = outputs["frame"]
        index = min(index, len(run.history) - 1)
        (renderer.save_svg if fmt == "svg" else renderer.save_png)(index, path)
        written.append(str(path))
    if "frames" in outputs:
        folder, fmt = outputs["frames"]
        written += [str(p) for p in export_frames(renderer, folder, indices, fmt, progress, cancel)]
    if "gif" in outputs:
        path, fps, loop = outputs["gif"]
        written.append(str(export_gif(renderer, path, indices, fps, loop, progress, cancel)))
    if "mp4" in outputs:
        path, fps = outputs["mp4"]
        written.append(str(export_mp4(renderer, path, indices, fps, progress, cancel)))
    if "strip" in outputs:
        path, cols = outputs["strip"]
        keys = key_half_steps(run, outputs.get("panels", DEFAULT_PANELS))
        written.append(str(export_strip(renderer, path, keys, cols, progress, cancel)[0]))
    if "deck" in outputs:
        keys = key_half_steps(run, outputs.get("panels", DEFAULT_PANELS))
        written.append(str(export_deck(renderer, outputs["deck"], keys, progress, cancel)))
    return written


class ExportDialog(QDialog):
    """Size, background and content; for a whole run also the outputs."""

    def __init__(self, parent, whole_run, canvas_size=None):
        super().__init__(parent)
        self.whole_run = whole_run
        self.setWindowTitle("Export run" if whole_run else "Export current frame")
        form = QFormLayout(self)
        self.size_box = QComboBox()
        self.size_box.setToolTip("A slide size, or the canvas as it is on screen scaled by a factor")
        for label, size in SIZES:
            self.size_box.addItem(label, size)
        if canvas_size is not None:
            w, h = canvas_size
            for factor in (1, 2, 3):
                self.size_box.insertItem(self.size_box.count() - 1, f"canvas × {factor} ({w * factor} × {h * factor})",
                                     (w * factor, h * factor))
        self.size_box.setCurrentIndex(1)
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin, value in ((self.width_spin, 1920), (self.height_spin, 1080)):
            spin.setRange(16, 16384)
            spin.setValue(value)
        self.size_box.currentIndexChanged.connect(self._on_size)
        row = QHBoxLayout()
        row.addWidget(self.size_box, 1)
        row.addWidget(self.width_spin)
        row.addWidget(self.height_spin)
        form.addRow("Size (pixels)", row)
        self.transparent = QCheckBox("transparent background")
        self.caption = QCheckBox("caption: step name and objective")
        self.caption.setChecked(True)
        self.legend = QCheckBox("legend")
        self.legend.setChecked(True)
        self.cost = QCheckBox("cost plot under the canvas")
        self.regions = QCheckBox("regions / responsibility field under the points")
        self.regions.setToolTip("k-means: the nearest-centre regions; soft k-means and EM: the "
                                "responsibility colours")
        self.axes = QCheckBox("axes: tick labels along the edges")
        self.on_screen = QCheckBox("view as on screen (default: fit the data and centres)")
        for w in (self.transparent, self.caption, self.legend, self.cost, self.regions, self.axes,
                  self.on_screen):
            form.addRow(w)
        session = getattr(parent, "session", None)
        if session is not None:  # start from what the window shows
            self.set_display(session.display)
        if whole_run:
            self.every = QComboBox()
            self.every.addItem("every half-step", "half")
            self.every.addItem("every iteration", "iteration")
            form.addRow("Frames", self.every)
            self.frames_dir = self._path_row(form, "Numbered frames in", folder=True)
            self.frames_fmt = QComboBox()
            self.frames_fmt.addItems(["png", "svg"])
            form.addRow("Frame format", self.frames_fmt)
            self.gif = self._path_row(form, "Animated GIF", "GIF (*.gif)")
            self.mp4 = self._path_row(form, "MP4 video", "MP4 (*.mp4)")
            self.fps = QDoubleSpinBox()
            self.fps.setRange(FPS.low, FPS.high)
            self.fps.setValue(DEFAULT_FPS)
            form.addRow("Frames per second", self.fps)
            self.strip = self._path_row(form, "Slide strip", "PNG (*.png)")
            self.cols = QSpinBox()
            self.cols.setRange(STRIP_COLS.low - 1, STRIP_COLS.high)
            self.cols.setSpecialValueText("automatic")  # 0: the columns that give the panels most room
            self.cols.setValue(0)
            form.addRow("Strip columns", self.cols)
            self.deck = self._path_row(form, "Slide deck (.pptx or .pdf)",
                                       "PowerPoint (*.pptx);;PDF (*.pdf)")
            self.panels = QSpinBox()
            self.panels.setRange(PANELS.low, PANELS.high)
            self.panels.setValue(DEFAULT_PANELS)
            self.panels.setToolTip("Key half-steps in the strip or deck: the initialisation, the first "
                                   "assignment and refit, the biggest changes of the objective, the end")
            form.addRow("Strip / deck panels", self.panels)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._on_size()

    def accept(self):
        if self.whole_run and self.deck.text():
            try:
                check_deck_path(self.deck.text())
            except ValueError as exc:
                QMessageBox.warning(self, "Slide deck", str(exc))
                return
        super().accept()

    def _path_row(self, form, label, filter_text="", folder=False):
        edit = QLineEdit()
        edit.setPlaceholderText("(none)")
        pick = QPushButton("…")

        def choose():
            if folder:
                path = QFileDialog.getExistingDirectory(self, label)
            else:
                path, _ = QFileDialog.getSaveFileName(self, label, "", filter_text)
            if path:
                edit.setText(path)
        pick.clicked.connect(choose)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(pick)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow(label, holder)
        return edit

    def _on_size(self):
        size = self.size_box.currentData()
        custom = size is None
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if size:
            self.width_spin.setValue(size[0])
            self.height_spin.setValue(size[1])

    def set_display(self, display):
        """Start from what the window shows: its field setting."""
        self.regions.setChecked(bool(display.field))

    def options(self, session, view):
        """``view``: the window's (x0, x1, y0, y1), used only when "as on screen" is ticked."""
        return ExportOptions(width=self.width_spin.value(), height=self.height_spin.value(),
                             transparent=self.transparent.isChecked(), caption=self.caption.isChecked(),
                             legend=self.legend.isChecked(), cost_plot=self.cost.isChecked(),
                             display=session.display.replace(marker_scale=1.0,
                                                             field=self.regions.isChecked()),
                             view=view if self.on_screen.isChecked() else None,
                             axes=self.axes.isChecked(), mixture=getattr(session, "mixture", None),
                             projection=getattr(session, "projection", None),
                             colouring=session.colouring() if hasattr(session, "colouring") else None)

    def outputs(self):
        out = {"every": self.every.currentData()}
        if self.frames_dir.text():
            out["frames"] = (Path(self.frames_dir.text()), self.frames_fmt.currentText())
        if self.gif.text():
            out["gif"] = (Path(self.gif.text()), self.fps.value(), 0)
        if self.mp4.text():
            out["mp4"] = (Path(self.mp4.text()), self.fps.value())
        if self.strip.text():
            out["strip"] = (Path(self.strip.text()), self.cols.value() or None)
        if self.deck.text():
            out["deck"] = Path(self.deck.text())
        if self.strip.text() or self.deck.text():
            out["panels"] = self.panels.value()
        return out


class ExportProgress(QWidget):
    """An export's progress in the window's status bar, with Cancel. The window stays live: a
    progress dialog's own window cost the UI thread 30-60 ms to appear, and blocked the window."""

    SHOW_AFTER_MS = 300  # a quick export never shows it

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 0, 8, 0)  # apart from the message on its left, which it clips
        row.setSpacing(6)
        row.addWidget(QLabel("Exporting"))
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        row.addWidget(self.bar)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export (the frames written so far stay)")
        row.addWidget(self.cancel_button)
        self._show_timer = QTimer(self, singleShot=True, interval=self.SHOW_AFTER_MS)
        self._show_timer.timeout.connect(self.show)
        self.hide()

    def begin(self):
        self.bar.setRange(0, 0)  # busy until the first count
        self._show_timer.start()

    def advance(self, done, total):
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def end(self):
        self._show_timer.stop()
        self.hide()


class ExportController(QObject):
    """Starts an export on the worker, shows its progress in the status bar, reports the result."""

    sigFinished = Signal(object, object)  # written paths or None, error message or None

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._generation = None
        self._cancel = None
        self.progress = ExportProgress()
        self.progress.cancel_button.clicked.connect(self.cancel)
        window.statusBar().insertPermanentWidget(0, self.progress)
        self.window.session.client.sigCalled.connect(self._on_client_called)

    @property
    def busy(self):
        return self._generation is not None

    def start(self, options, outputs, show_progress=True):
        if self.busy:
            return False
        self._cancel = threading.Event()
        progress = _Progress(self)
        if show_progress:
            self.progress.begin()
            progress.sigProgress.connect(self.progress.advance)
        self._progress = progress
        self._generation = self.window.session.client.call(
            run_export_job, self.window.session.scenario(), options, outputs,
            progress.sigProgress.emit, self._cancel)
        return True

    def cancel(self):
        if self._cancel is not None:
            self._cancel.set()

    def _on_client_called(self, generation, result, error):
        if generation != self._generation:
            return
        self._generation = None
        self.progress.end()
        if isinstance(error, ExportCancelled):
            self.window.statusBar().showMessage("Export cancelled", 8000)
            self.sigFinished.emit(None, "cancelled")
        elif error is not None:
            message = str(error) if isinstance(error, (ValueError, OSError)) else repr(error)
            QMessageBox.warning(self.window, "Export failed", message)
            self.sigFinished.emit(None, message)
        else:
            self.window.statusBar().showMessage(
                f"Exported {len(result)} file{'s' if len(result) != 1 else ''}"
                + (f" to {Path(result[0]).parent}" if result else ""), 10000)
            self.sigFinished.emit(result, None)


def write_labels_csv(scenario, path):
    """x, y, the final label and r_1..r_K of every point, after running to convergence."""
    from engine.files import atomic_write_text
    run = scenario.start().run()
    resp = run.final_responsibilities()
    labels = run.final_labels()
    K = resp.shape[1]
    header = ",".join(["x", "y", "label"] + [f"r_{k + 1}" for k in range(K)])
    rows = [",".join([repr(float(x)), repr(float(y)), str(int(lab) + 1)] + [f"{v:.6g}" for v in r])
            for (x, y), lab, r in zip(run.data.X[:, :2], labels, resp)]
    atomic_write_text(path, header + "\n" + "\n".join(rows) + "\n")
    return [str(path)]
